"""Online verification at a checkpoint, and the record of every check."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import CHECKING_ROLES
from permits.accounts.tokens import callers_for_tokens, well_formed
from permits.checks.models import Check
from permits.checks.schemas import DeviceCheckIn
from permits.errors import (
    Conflict,
    FieldError,
    NotAuthenticated,
    NotPermitted,
    PermitsError,
    ValidationFailed,
)
from permits.group_commit import GroupCommit, commit_combined
from permits.issuance.models import Permit
from permits.policy.service import policy_at
from permits.trust.keystore import KeyStore
from permits.trust.lists import TRUST, current_list
from verifier.controlcode import parse_control_code
from verifier.errors import MalformedError
from verifier.lists import load_trust_list
from verifier.model import Status, VerificationResult
from verifier.verify import Verifier

CACHE_SECONDS = 5.0


@dataclass
class _Cached:
    verifier: Verifier
    version: int
    loaded: float


class VerifierCache:
    """Holds a Verifier built from the newest trust list, refreshed every few seconds.

    Online checks then cost one signature check and one indexed look-up, with no list
    rebuilt per request.
    """

    def __init__(self, keystore: KeyStore, refresh_after: timedelta) -> None:
        self._keystore = keystore
        self._refresh_after = refresh_after
        self._lock = threading.Lock()
        self._cached: _Cached | None = None

    def current(self) -> Verifier | None:
        """Return the cached Verifier while it is fresh, else None (then `get` refreshes it)."""
        with self._lock:
            cached = self._cached
        if cached is not None and time.monotonic() - cached.loaded < CACHE_SECONDS:
            return cached.verifier
        return None

    def get(self, session: Session, now: datetime) -> Verifier:
        """Return a Verifier for the current trust list (publishing one if needed)."""
        with self._lock:
            cached = self._cached
        if cached is not None and time.monotonic() - cached.loaded < CACHE_SECONDS:
            return cached.verifier
        published = current_list(
            session,
            kind=TRUST,
            keystore=self._keystore,
            policy=policy_at(session, now),
            now=now,
            refresh_after=self._refresh_after,
        )
        if cached is None or cached.version != published.version:
            trust = load_trust_list(
                published.data, root_public_key=self._keystore.root_public_key()
            )
            cached = _Cached(Verifier(trust), published.version, time.monotonic())
        else:
            cached = _Cached(cached.verifier, cached.version, time.monotonic())
        with self._lock:
            self._cached = cached
        return cached.verifier

    def clear(self) -> None:
        """Forget the cached verifier (the next check reloads the list)."""
        with self._lock:
            self._cached = None


@dataclass(frozen=True, slots=True)
class PermitRef:
    """What an online check needs of the permit's row: its id, status and signed text."""

    id: uuid.UUID
    status: str
    qr_text: str


@dataclass(frozen=True, slots=True)
class OnlineCheck:
    """The verdict of an online check, the permit's row when known, and the stored check."""

    result: VerificationResult
    permit: PermitRef | None
    check_id: int


_PERMITS = Permit.__table__  # type: ignore[attr-defined]
_PERMIT_BY_CTI = select(_PERMITS.c.id, _PERMITS.c.status, _PERMITS.c.qr_text).where(
    _PERMITS.c.cti == bindparam("cti")
)
_PERMITS_BY_CTI = select(
    _PERMITS.c.id, _PERMITS.c.status, _PERMITS.c.qr_text, _PERMITS.c.cti
).where(_PERMITS.c.cti.in_(bindparam("ctis", expanding=True)))
_CHECKS = Check.__table__  # type: ignore[attr-defined]
_INSERT_CHECKS = insert(_CHECKS).returning(_CHECKS.c.id, sort_by_parameter_order=True)


def _permit_by_cti(session: Session, cti_hex: str) -> PermitRef | None:
    row = session.connection().execute(_PERMIT_BY_CTI, {"cti": cti_hex}).first()
    return None if row is None else PermitRef(row.id, row.status, row.qr_text)


def verify_online(
    session: Session,
    *,
    caller: Caller,
    cache: VerifierCache,
    qr_text: str | None,
    control_code: str | None,
    checkpoint: str,
    now: datetime,
    group_commit: GroupCommit | None = None,
) -> OnlineCheck:
    """Verify a QR text (or the permit behind a typed control code) and record the check.

    The signature and schedule are checked as a device would; the permit's status is then
    read from the database, which is fresher than any revocation list. With a
    `group_commit`, the check is stored in a transaction shared with other requests' (and
    the verdict returned once it committed).
    """
    caller.require_any(CHECKING_ROLES)
    if bool(qr_text) == bool(control_code):
        raise ValidationFailed(
            [FieldError("qr_text", "one_input", "give the QR text or the control code")]
        )
    permit: PermitRef | None = None
    if control_code:
        try:
            cti = parse_control_code(control_code)
        except MalformedError as exc:
            raise ValidationFailed(
                [
                    FieldError(
                        "control_code",
                        "control_code_invalid",
                        "this is not a control code: check the letters",
                    )
                ]
            ) from exc
        permit = _permit_by_cti(session, cti.hex())
        if permit is None:
            result = VerificationResult(
                status=Status.UNKNOWN_ISSUER, reason="no permit has this control code", at=now
            )
            return _record(session, caller, result, None, cti.hex(), checkpoint, now, group_commit)
        qr_text = permit.qr_text
    verifier = cache.get(session, now)
    result = verifier.verify(qr_text, at=now)
    if result.claims is not None:
        cti_hex = result.claims.permit_id.hex()
        if permit is None:
            permit = _permit_by_cti(session, cti_hex)
        result = _with_database_status(result, permit)
    else:
        cti_hex = None
    return _record(session, caller, result, permit, cti_hex, checkpoint, now, group_commit)


def _with_database_status(
    result: VerificationResult, permit: PermitRef | None
) -> VerificationResult:
    if permit is None or result.status in (
        Status.MALFORMED,
        Status.UNKNOWN_ISSUER,
        Status.BAD_SIGNATURE,
    ):
        return result
    if permit.status == "revoked":
        return _replace_status(result, Status.REVOKED, "the issuer revoked this permit")
    if permit.status == "replaced":
        return _replace_status(result, Status.REPLACED, "replaced by a newer permit")
    return result


def _replace_status(result: VerificationResult, status: Status, reason: str) -> VerificationResult:
    return VerificationResult(
        status=status,
        reason=reason,
        claims=result.claims,
        issuer=result.issuer,
        control_code=result.control_code,
        at=result.at,
        warnings=result.warnings,
    )


def _record(
    session: Session,
    caller: Caller,
    result: VerificationResult,
    permit: PermitRef | None,
    cti: str | None,
    checkpoint: str,
    now: datetime,
    group_commit: GroupCommit | None,
) -> OnlineCheck:
    row = _check_row(caller, result, permit, cti, checkpoint, now)
    check_id = commit_combined(session, _insert_checks, row, group_commit=group_commit)
    return OnlineCheck(result, permit, check_id)


def _check_row(
    caller: Caller,
    result: VerificationResult,
    permit: PermitRef | None,
    cti: str | None,
    checkpoint: str,
    now: datetime,
) -> dict[str, Any]:
    return {
        "permit_id": permit.id if permit else None,
        "cti": cti,
        "checked_at": now,
        "recorded_at": now,
        "checkpoint": checkpoint,
        "officer_user_id": caller.user_id,
        "result": result.status.value,
        "reason": result.reason[:300],
        "source": "online",
        "device_check_id": None,
    }


def _insert_checks(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert check records with one statement; return their ids, in order."""
    result = session.connection().execute(_INSERT_CHECKS, rows)
    return [check_id for (check_id,) in result]


@dataclass(frozen=True, slots=True)
class _ScannedCheck:
    """A scanned code whose signature and schedule were checked, waiting for the database."""

    token: str
    result: VerificationResult
    cti: str | None
    checkpoint: str
    now: datetime


@dataclass(frozen=True, slots=True)
class _Recorded:
    """What the database made of a scanned check: the stored check, or why there is none."""

    check: OnlineCheck | None = None
    error: PermitsError | None = None


async def verify_scanned(
    *,
    token: str,
    verifier: Verifier,
    qr_text: str,
    checkpoint: str,
    now: datetime,
    group_commit: GroupCommit,
) -> OnlineCheck:
    """Verify a scanned QR text as `verify_online` does, for the caller `token` stands for,
    with every database step done in `group_commit`'s transaction, together with the other
    queued scans: one query finds all their callers, one all their permits, and one statement
    stores all their checks (on PostgreSQL; SQLite's driver inserts them one by one).

    The signature and schedule are checked here, on the event loop (they need no database);
    a scan therefore costs no worker thread and no connection of its own. Raises what
    `verify_online` raises for a token that is not valid (NotAuthenticated) or a caller who
    may not check (NotPermitted), and then stores nothing.
    """
    if not well_formed(token):
        raise NotAuthenticated("invalid token")
    result = verifier.verify(qr_text, at=now)
    cti = result.claims.permit_id.hex() if result.claims is not None else None
    recorded = await group_commit.run_combined_async(
        _check_scans, _ScannedCheck(token, result, cti, checkpoint, now)
    )
    if recorded.error is not None:
        raise recorded.error
    assert recorded.check is not None
    return recorded.check


def _check_scans(session: Session, scans: list[_ScannedCheck]) -> list[_Recorded]:
    """Authenticate, look up and record a group of scans; one outcome a scan, in order."""
    callers = callers_for_tokens(session, {scan.token for scan in scans})
    ctis = [scan.cti for scan in scans if scan.cti is not None]
    permits = _permits_by_cti(session, ctis) if ctis else {}
    outcomes: list[_Recorded] = []
    rows, stored = [], []
    for scan in scans:
        caller = callers[scan.token]
        if isinstance(caller, NotAuthenticated):
            outcomes.append(_Recorded(error=NotAuthenticated(caller.message)))
            continue
        try:
            caller.require_any(CHECKING_ROLES)
        except NotPermitted as exc:
            outcomes.append(_Recorded(error=exc))
            continue
        permit = permits.get(scan.cti) if scan.cti is not None else None
        result = _with_database_status(scan.result, permit)
        rows.append(_check_row(caller, result, permit, scan.cti, scan.checkpoint, scan.now))
        stored.append((len(outcomes), result, permit))
        outcomes.append(_Recorded())
    ids = _insert_checks(session, rows) if rows else []
    for (index, result, permit), check_id in zip(stored, ids, strict=True):
        outcomes[index] = _Recorded(check=OnlineCheck(result, permit, check_id))
    return outcomes


def _permits_by_cti(session: Session, ctis: list[str]) -> dict[str, PermitRef]:
    rows = session.connection().execute(_PERMITS_BY_CTI, {"ctis": ctis})
    return {row.cti: PermitRef(row.id, row.status, row.qr_text) for row in rows}


DEVICE_CLOCK_SKEW = timedelta(minutes=10)
"""How far in the future a device's clock may put a check before the upload is refused."""


@dataclass(frozen=True, slots=True)
class DeviceUpload:
    """The outcome of one upload: ids stored now, and ids the server already had."""

    stored: list[str]
    duplicates: list[str]


def upload_device_checks(
    session: Session, *, caller: Caller, checks: list[DeviceCheckIn], now: datetime
) -> DeviceUpload:
    """Store checks that a checkpoint device made offline, as the calling officer's.

    Idempotent per `device_check_id`: a record the server already holds (from an earlier
    upload that the device did not hear back from) is reported as a duplicate and left as it
    is. Everything is validated first; a batch with one bad record stores nothing. The permit
    row is linked when the server knows the permit id (cti).
    """
    caller.require_any(CHECKING_ROLES)
    errors = [
        FieldError(
            f"checks[{i}].checked_at",
            "checked_in_future",
            "the check is dated in the future: set the device's clock",
        )
        for i, check in enumerate(checks)
        if check.checked_at > now + DEVICE_CLOCK_SKEW
    ]
    if errors:
        raise ValidationFailed(errors)
    unique: dict[str, DeviceCheckIn] = {}
    for check in checks:
        unique.setdefault(check.device_check_id, check)
    for _attempt in range(2):
        known = set(
            session.exec(
                select(Check.device_check_id).where(col(Check.device_check_id).in_(list(unique)))
            ).all()
        )
        fresh = [check for key, check in unique.items() if key not in known]
        ctis = {check.cti for check in fresh if check.cti}
        permits = (
            dict(
                session.exec(
                    select(Permit.cti, Permit.id).where(col(Permit.cti).in_(list(ctis)))
                ).all()
            )
            if ctis
            else {}
        )
        for check in fresh:
            session.add(
                Check(
                    permit_id=permits.get(check.cti) if check.cti else None,
                    cti=check.cti,
                    checked_at=check.checked_at,
                    recorded_at=now,
                    checkpoint=check.checkpoint,
                    officer_user_id=caller.user_id,
                    result=check.result,
                    reason=check.reason,
                    source="device",
                    device_check_id=check.device_check_id,
                )
            )
        try:
            session.commit()
        except IntegrityError:  # another upload of the same records won the race: look again
            session.rollback()
            continue
        return DeviceUpload(
            stored=[check.device_check_id for check in fresh],
            duplicates=[key for key in unique if key in known],
        )
    raise Conflict("the same checks are being uploaded at this moment; try again")
