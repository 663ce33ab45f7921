"""Issuing, replacing, revoking permits and recording delivery receipts.

Each function is one transaction: it validates everything first, then writes the permit,
its signature and its audit record together, and commits. A rejected request leaves no row
and no signature.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import ISSUING_ROLES
from permits.audit.service import Change, Entry, record, record_entries
from permits.db import begin_write
from permits.errors import (
    Conflict,
    FieldError,
    NotFound,
    NotPermitted,
    PermitsError,
    ValidationFailed,
)
from permits.group_commit import GroupCommit, commit_combined
from permits.issuance.models import Permit, PermitPerson
from permits.issuance.plates import PlateError, normalise_plate
from permits.issuance.schemas import PermitCreate
from permits.issuance.signing import claims_for, sign_claims
from permits.issuance.validation import ValidatedPermit, validate_permit
from permits.organisations.models import Organisation
from permits.policy.service import in_force_columns, policy_at, policy_in_force, policy_version
from permits.trust.keys import (
    SigningKey,
    active_kid_of,
    bump_list_state,
    signing_key,
    signing_key_of,
)
from permits.trust.keystore import KeyStore
from verifier.controlcode import control_code, parse_control_code
from verifier.errors import MalformedError

ACTIVE, REVOKED, REPLACED, EXPIRED = "active", "revoked", "replaced", "expired"
STATUSES = (ACTIVE, EXPIRED, REVOKED, REPLACED)


@dataclass(frozen=True, slots=True)
class IssuedPermit:
    """A stored permit, its persons, its issuer and any warnings raised while issuing it."""

    permit: Permit
    persons: list[PermitPerson]
    organisation: Organisation
    warnings: tuple[str, ...] = ()


def effective_status(permit: Permit, now: datetime) -> str:
    """Return active, expired, revoked or replaced (expiry is derived from the schedule)."""
    if permit.status == ACTIVE and permit.valid_until <= now:
        return EXPIRED
    return permit.status


def permit_control_code(permit: Permit) -> str:
    """Return the permit's control code, grouped for reading aloud (e.g. 7K3-M9Q-XTR)."""
    return control_code(bytes.fromhex(permit.cti))


_ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
_PERMITS = Permit.__table__  # type: ignore[attr-defined]
_SELECT_ORGANISATION = select(_ORGANISATIONS).where(
    _ORGANISATIONS.c.id == bindparam("organisation_id")
)
_ID_BY_KEY = select(_PERMITS.c.id).where(
    _PERMITS.c.organisation_id == bindparam("organisation_id"),
    _PERMITS.c.idempotency_key == bindparam("idempotency_key"),
)


@dataclass(frozen=True, slots=True)
class _Context:
    """What issuing reads before it signs, read with one query (`_issuing_context`)."""

    organisation: Organisation
    active_kid: str | None
    replay_id: uuid.UUID | None
    policy_version: int | None
    policy_created_at: datetime | None


_CONTEXT = (
    select(_ORGANISATIONS)
    .add_columns(
        active_kid_of(_ORGANISATIONS.c.id),
        _ID_BY_KEY.scalar_subquery().label("replay_id"),
        *in_force_columns(),
    )
    .where(_ORGANISATIONS.c.id == bindparam("organisation_id"))
)


def _issuing_context(
    session: Session, organisation_id: int, idempotency_key: str | None, now: datetime
) -> _Context:
    """The caller's organisation (NotPermitted when it is not active), its active kid, the
    permit already issued under `idempotency_key`, and the policy in force: one query
    instead of four."""
    row = (
        session.connection()
        .execute(
            _CONTEXT,
            {"organisation_id": organisation_id, "idempotency_key": idempotency_key, "at": now},
        )
        .mappings()
        .first()
    )
    if row is None or not row["active"]:
        raise NotPermitted("the organisation is not active")
    return _Context(
        Organisation.model_construct(**{c.name: row[c.name] for c in _ORGANISATIONS.c}),
        row["active_kid"],
        row["replay_id"],
        row["policy_version"],
        row["policy_created_at"],
    )


def _organisation(session: Session, organisation_id: int) -> Organisation:
    """The caller's organisation as a read-only snapshot (not tracked by the session)."""
    row = (
        session.connection()
        .execute(_SELECT_ORGANISATION, {"organisation_id": organisation_id})
        .mappings()
        .first()
    )
    if row is None or not row["active"]:
        raise NotPermitted("the organisation is not active")
    return Organisation.model_construct(**row)


_NEXT_SERIALS = (
    update(_ORGANISATIONS)
    .where(_ORGANISATIONS.c.id == bindparam("organisation_id"))
    .values(next_serial=_ORGANISATIONS.c.next_serial + bindparam("count"))
    .returning(_ORGANISATIONS.c.next_serial)
)
_INSERT_PERMIT = insert(Permit.__table__)  # type: ignore[attr-defined]
_INSERT_PERSON = insert(PermitPerson.__table__)  # type: ignore[attr-defined]


def _signed_row(
    validated: ValidatedPermit,
    *,
    key: SigningKey,
    organisation: Organisation,
    caller: Caller,
    policy_number: int,
    now: datetime,
    idempotency_key: str | None = None,
    replaces: Permit | None = None,
) -> dict[str, Any]:
    """Sign a validated permit under a fresh random id; return its row, all but the serial.

    No database work: signing happens before the write transaction, so the write lock (on
    SQLite) or the organisation's row lock (the serial, on PostgreSQL) is held only for the
    inserts.
    """
    cti = secrets.token_bytes(5)
    assert organisation.id is not None
    return {
        "id": uuid.uuid4(),
        "cti": cti.hex(),
        "category": validated.category.slug,
        "policy_version": policy_number,
        "organisation_id": organisation.id,
        "issued_by_user_id": caller.user_id,
        "kid": key.kid.hex(),
        "status": ACTIVE,
        "valid_from": validated.valid_from,
        "valid_until": validated.valid_until,
        "windows": [list(w) for w in validated.windows],
        "weekdays": validated.weekdays,
        "vehicle_kind": validated.vehicle_kind,
        "make_model": validated.make_model,
        "plate": validated.plate,
        "plate_freeform": validated.plate_freeform,
        "plate_tail": validated.plate[2:] if validated.plate else None,
        "route_from_address": validated.route_from_address,
        "route_from_municipality": validated.route_from_municipality,
        "route_to_address": validated.route_to_address,
        "route_to_municipality": validated.route_to_municipality,
        "route_note": validated.route_note,
        "purpose_detail": validated.purpose_detail,
        "beneficiary": validated.beneficiary,
        "reference_document": validated.reference_document,
        "qr_text": sign_claims(claims_for(validated, permit_id=cti), key=key),
        "holder_token": secrets.token_urlsafe(16),
        "idempotency_key": idempotency_key,
        "issued_at": now,
        "replaces_id": replaces.id if replaces else None,
    }


@dataclass(frozen=True, slots=True)
class _Pending:
    """A signed permit waiting to be stored: its row (all but the serial), the validated
    request it came from, its organisation, who issued it and when."""

    validated: ValidatedPermit
    values: dict[str, Any]
    organisation: Organisation
    caller: Caller
    now: datetime


def _write(session: Session, batch: list[_Pending]) -> list[tuple[Permit, list[PermitPerson]]]:
    """Store signed permits of one organisation with their serials, persons and audit
    records (no commit); return each stored permit with its persons, in order.

    A fixed number of statements whatever the batch size: one UPDATE takes the serials, one
    INSERT each for the permits, their persons and their audit events, and two statements
    advance the audit chain. The batch may hold the permits of several requests (a roster,
    or single requests combined by the group commit); each keeps its own issuer and time in
    the audit chain. A clash of a random id, a holder token or an idempotency key surfaces
    as IntegrityError, and nothing of the batch is kept.
    """
    if not batch:
        return []
    organisation = batch[0].organisation
    if any(p.organisation.id != organisation.id for p in batch):
        raise ValueError("a batch of permits is stored for one organisation")
    connection = session.connection()
    last = connection.execute(
        _NEXT_SERIALS, {"organisation_id": organisation.id, "count": len(batch)}
    ).scalar_one()
    first = last - len(batch) + 1
    rows, person_rows, entries = [], [], []
    for number, pending in enumerate(batch, start=first):
        row = {**pending.values, "serial": f"{organisation.code}-{number:06d}"}
        persons = [
            {
                "permit_id": row["id"],
                "position": index,
                "role": p.role,
                "first_name": p.first_name,
                "last_name": p.last_name,
                "document": p.document,
                "foreign_document": p.foreign_document,
                "job_position": p.job_position,
            }
            for index, p in enumerate(pending.validated.persons)
        ]
        rows.append(row)
        person_rows.append(persons)
        replaces = row["replaces_id"]
        change = Change(
            "permit.replace" if replaces else "permit.issue",
            "permit",
            str(row["id"]),
            {
                "serial": row["serial"],
                "category": row["category"],
                **({"replaces": str(replaces)} if replaces else {}),
            },
        )
        entries.append(Entry(pending.caller, change, pending.now))
    connection.execute(_INSERT_PERMIT, rows)
    connection.execute(_INSERT_PERSON, [p for persons in person_rows for p in persons])
    record_entries(session, entries=entries)
    return [
        (Permit.model_construct(**row), [PermitPerson.model_construct(**p) for p in persons])
        for row, persons in zip(rows, person_rows, strict=True)
    ]


def issue_permit(
    session: Session,
    *,
    caller: Caller,
    request: PermitCreate,
    keystore: KeyStore,
    now: datetime,
    idempotency_key: str | None = None,
    group_commit: GroupCommit | None = None,
) -> IssuedPermit:
    """Validate, sign and store a permit for the caller's organisation, and commit.

    With an `idempotency_key` already used by this organisation, the permit issued then is
    returned and nothing new is signed (a retried request or a re-uploaded roster issues
    nothing twice). Reading, validating and signing come first; the write transaction holds
    only the inserts. With a `group_commit`, the inserts are stored in a transaction shared
    with other requests' (the permit is returned once that transaction committed).
    """
    caller.require_any(ISSUING_ROLES)
    context = _issuing_context(session, caller.organisation_id, idempotency_key, now)
    organisation = context.organisation
    if idempotency_key is not None and context.replay_id is not None:
        replay = _replay(session, organisation, context.replay_id)
        if replay is not None:
            return replay
    policy = policy_in_force(
        session, version=context.policy_version, created_at=context.policy_created_at
    )
    validated = validate_permit(request, policy=policy, organisation=organisation, now=now)
    key = signing_key_of(context.active_kid, organisation=organisation, keystore=keystore)
    for attempt in range(3):
        values = _signed_row(
            validated,
            key=key,
            organisation=organisation,
            caller=caller,
            policy_number=policy.version,
            now=now,
            idempotency_key=idempotency_key,
        )
        pending = _Pending(validated, values, organisation, caller, now)
        try:
            permit, persons = commit_combined(
                session, _write, pending, key=organisation.id, group_commit=group_commit
            )
            return IssuedPermit(permit, persons, organisation, validated.warnings)
        except IntegrityError:
            session.rollback()
            if idempotency_key is not None:
                # A concurrent request with the same key committed first: answer with its permit.
                replay = _idempotent_replay(session, organisation, idempotency_key)
                if replay is not None:
                    return replay
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def issue_permits(
    session: Session,
    *,
    caller: Caller,
    requests: Sequence[tuple[PermitCreate, str | None]],
    keystore: KeyStore,
    now: datetime,
) -> list[IssuedPermit | PermitsError]:
    """Issue many permits of the caller's organisation, each with its idempotency key, in one
    transaction, and commit; return, in order, each permit or the error that refused it.

    What `issue_permit` does for one, for a roster: a request whose key was used before gets
    the permit issued then (warning "idempotent_replay"); an invalid request gets its
    ValidationFailed and stops nothing else; the valid ones are signed first and stored with
    a fixed number of statements. Should a concurrent writer clash with the batch (the same
    key, say), the batch is rolled back and each request is issued on its own.
    """
    caller.require_any(ISSUING_ROLES)
    organisation = _organisation(session, caller.organisation_id)
    keys = [key for _request, key in requests if key is not None]
    existing = _permits_by_key(session, organisation, keys)
    policy = policy_at(session, now)
    signer = signing_key(session, organisation=organisation, keystore=keystore)
    results: list[IssuedPermit | PermitsError | None] = []
    batch: list[tuple[int, ValidatedPermit, dict[str, Any]]] = []
    for index, (request, key) in enumerate(requests):
        if key is not None and key in existing:
            permit = existing[key]
            results.append(
                IssuedPermit(
                    permit, persons_of(session, permit.id), organisation, ("idempotent_replay",)
                )
            )
            continue
        try:
            validated = validate_permit(request, policy=policy, organisation=organisation, now=now)
        except PermitsError as exc:
            results.append(exc)
            continue
        values = _signed_row(
            validated,
            key=signer,
            organisation=organisation,
            caller=caller,
            policy_number=policy.version,
            now=now,
            idempotency_key=key,
        )
        batch.append((index, validated, values))
        results.append(None)
    try:
        begin_write(session)
        stored = _write(
            session,
            [
                _Pending(validated, values, organisation, caller, now)
                for _index, validated, values in batch
            ],
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        return [
            result
            if result is not None
            else _issue_alone(session, caller, requests[index], keystore=keystore, now=now)
            for index, result in enumerate(results)
        ]
    for (index, validated, _values), (permit, persons) in zip(batch, stored, strict=True):
        results[index] = IssuedPermit(permit, persons, organisation, validated.warnings)
    return [result for result in results if result is not None]


def _issue_alone(
    session: Session,
    caller: Caller,
    item: tuple[PermitCreate, str | None],
    *,
    keystore: KeyStore,
    now: datetime,
) -> IssuedPermit | PermitsError:
    request, key = item
    try:
        return issue_permit(
            session, caller=caller, request=request, keystore=keystore, now=now, idempotency_key=key
        )
    except PermitsError as exc:
        return exc


def _permits_by_key(
    session: Session, organisation: Organisation, keys: list[str]
) -> dict[str, Permit]:
    if not keys:
        return {}
    found = session.exec(
        select(Permit)
        .where(Permit.organisation_id == organisation.id)
        .where(col(Permit.idempotency_key).in_(keys))
    ).all()
    return {permit.idempotency_key: permit for permit in found if permit.idempotency_key}


def _idempotent_replay(
    session: Session, organisation: Organisation, idempotency_key: str
) -> IssuedPermit | None:
    """The permit this organisation issued under `idempotency_key` as a replay, or None.

    Asked before every keyed issue, where the answer is nearly always "none": a prepared Core
    query for the id, and the ORM only for a replay.
    """
    permit_id = (
        session.connection()
        .execute(
            _ID_BY_KEY, {"organisation_id": organisation.id, "idempotency_key": idempotency_key}
        )
        .scalar()
    )
    return None if permit_id is None else _replay(session, organisation, permit_id)


def _replay(
    session: Session, organisation: Organisation, permit_id: uuid.UUID
) -> IssuedPermit | None:
    """The permit `permit_id` as the answer to a replayed request (None if it is gone)."""
    existing = session.get(Permit, permit_id)
    if existing is None:
        return None
    session.rollback()
    return IssuedPermit(
        existing, persons_of(session, existing.id), organisation, ("idempotent_replay",)
    )


def _editable(session: Session, caller: Caller, permit_id: uuid.UUID) -> Permit:
    caller.require_any(ISSUING_ROLES)
    begin_write(session)  # read, check and change the permit in one write transaction
    permit = session.exec(select(Permit).where(Permit.id == permit_id).with_for_update()).first()
    if permit is None:
        raise NotFound("no such permit")
    caller.require_organisation(permit.organisation_id)
    return permit


def revoke_permit(
    session: Session, *, caller: Caller, permit_id: uuid.UUID, reason: str, now: datetime
) -> Permit:
    """Revoke an active permit with a reason and commit; it goes on the next revocation list."""
    permit = _editable(session, caller, permit_id)
    if permit.status != ACTIVE:
        raise Conflict(f"the permit is already {permit.status}", code=f"already_{permit.status}")
    permit.status, permit.revoked_at, permit.revoked_by_user_id = REVOKED, now, caller.user_id
    permit.revoke_reason = reason.strip()
    session.add(permit)
    bump_list_state(session, "revocation")
    record(
        session,
        actor=caller,
        action="permit.revoke",
        subject_type="permit",
        subject_id=str(permit.id),
        at=now,
        details={"serial": permit.serial, "reason": permit.revoke_reason},
    )
    session.commit()
    return permit


def replace_permit(
    session: Session,
    *,
    caller: Caller,
    permit_id: uuid.UUID,
    request: PermitCreate,
    keystore: KeyStore,
    now: datetime,
) -> IssuedPermit:
    """Issue a new permit in place of an active one and commit.

    The new permit has a new identity; the old one is invalid from this moment, points to
    its successor, and goes on the next revocation list as replaced. Only the issuing
    organisation replaces its permits.
    """
    old = _editable(session, caller, permit_id)
    if old.organisation_id != caller.organisation_id:
        raise NotPermitted("only the issuing organisation can replace a permit; revoke it instead")
    if old.status != ACTIVE:
        raise Conflict(f"the permit is already {old.status}", code=f"already_{old.status}")
    organisation = _organisation(session, caller.organisation_id)
    policy = policy_at(session, now)
    validated = validate_permit(request, policy=policy, organisation=organisation, now=now)
    values = _signed_row(
        validated,
        key=signing_key(session, organisation=organisation, keystore=keystore),
        organisation=organisation,
        caller=caller,
        policy_number=policy.version,
        now=now,
        replaces=old,
    )
    [(new, persons)] = _write(session, [_Pending(validated, values, organisation, caller, now)])
    old.status, old.replaced_at, old.replaced_by_id = REPLACED, now, new.id
    session.add(old)
    bump_list_state(session, "revocation")
    session.commit()
    return IssuedPermit(new, persons, organisation, validated.warnings)


def record_receipt(
    session: Session,
    *,
    caller: Caller,
    permit_id: uuid.UUID,
    received_by: str,
    received_at: datetime | None,
    now: datetime,
) -> Permit:
    """Record that the clinic received the items of a delivery-to-patient permit, and commit."""
    permit = _editable(session, caller, permit_id)
    if not policy_version(session, permit.policy_version).categories[permit.category].receipt:
        raise ValidationFailed(
            [
                FieldError(
                    "permit",
                    "receipt_not_applicable",
                    f"{permit.category} permits take no delivery receipt",
                )
            ]
        )
    if permit.receipt_at is not None:
        raise Conflict("the receipt is already recorded", code="receipt_already_recorded")
    if permit.status == REVOKED:
        raise Conflict("the permit is revoked", code="already_revoked")
    at = received_at or now
    if at > now:
        raise ValidationFailed(
            [FieldError("received_at", "in_future", "the receipt cannot be in the future")]
        )
    permit.receipt_at, permit.receipt_by_name, permit.receipt_recorded_by_user_id = (
        at,
        received_by.strip(),
        caller.user_id,
    )
    session.add(permit)
    record(
        session,
        actor=caller,
        action="permit.receipt",
        subject_type="permit",
        subject_id=str(permit.id),
        at=now,
        details={
            "serial": permit.serial,
            "received_by": permit.receipt_by_name,
            "received_at": at.isoformat(),
        },
    )
    session.commit()
    return permit


def persons_of(session: Session, permit_id: uuid.UUID) -> list[PermitPerson]:
    """Return the persons of a permit in order."""
    return list(
        session.exec(
            select(PermitPerson)
            .where(PermitPerson.permit_id == permit_id)
            .order_by(col(PermitPerson.position))
        ).all()
    )


def get_permit(session: Session, *, caller: Caller, permit_id: uuid.UUID) -> IssuedPermit:
    """Return a permit the caller may see (its own organisation's, or any for the region)."""
    permit = session.get(Permit, permit_id)
    if permit is None:
        raise NotFound("no such permit")
    caller.require_organisation(permit.organisation_id)
    return IssuedPermit(
        permit, persons_of(session, permit.id), _organisation_any(session, permit.organisation_id)
    )


def _organisation_any(session: Session, organisation_id: int) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    assert organisation is not None
    return organisation


def find_by_control_code(session: Session, code: str) -> Permit | None:
    """Return the permit with this control code, or None (a bad code raises MalformedError)."""
    cti = parse_control_code(code)
    return session.exec(select(Permit).where(Permit.cti == cti.hex())).first()


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """What to search for; every field is optional."""

    personal_number: str | None = None
    name: str | None = None
    plate: str | None = None
    issuer: str | None = None
    category: str | None = None
    status: str | None = None
    issued_from: datetime | None = None
    issued_to: datetime | None = None
    control_code: str | None = None


def search_permits(
    session: Session,
    *,
    caller: Caller,
    filters: SearchFilters,
    now: datetime,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[IssuedPermit], int]:
    """Return one page of the permits the caller may see that match `filters`, newest first,
    and the total number of matches."""
    query = select(Permit)
    if not caller.is_regional_admin:
        query = query.where(Permit.organisation_id == caller.organisation_id)
    elif filters.issuer:
        query = query.join(Organisation, col(Organisation.id) == col(Permit.organisation_id)).where(
            Organisation.code == filters.issuer.strip().upper()
        )
    if filters.personal_number:
        document = "".join(filters.personal_number.split()).upper()
        query = query.where(
            col(Permit.id).in_(
                select(PermitPerson.permit_id).where(PermitPerson.document == document)
            )
        )
    if filters.name:
        words = [w for w in filters.name.split() if w][:4]
        for word in words:
            pattern = f"%{_escape_like(word.lower())}%"
            query = query.where(
                col(Permit.id).in_(
                    select(PermitPerson.permit_id).where(
                        or_(
                            func.lower(PermitPerson.first_name).like(pattern, escape="\\"),
                            func.lower(PermitPerson.last_name).like(pattern, escape="\\"),
                        )
                    )
                )
            )
    if filters.plate:
        try:
            fragment = normalise_plate(filters.plate).value
        except PlateError:
            fragment = "".join(ch for ch in filters.plate.upper() if ch.isalnum())
        query = query.where(col(Permit.plate).like(f"%{_escape_like(fragment)}%", escape="\\"))
    if filters.category:
        query = query.where(Permit.category == filters.category)
    if filters.status:
        if filters.status == ACTIVE:
            query = query.where(Permit.status == ACTIVE).where(col(Permit.valid_until) > now)
        elif filters.status == EXPIRED:
            query = query.where(Permit.status == ACTIVE).where(col(Permit.valid_until) <= now)
        else:
            query = query.where(Permit.status == filters.status)
    if filters.issued_from:
        query = query.where(col(Permit.issued_at) >= filters.issued_from)
    if filters.issued_to:
        query = query.where(col(Permit.issued_at) < filters.issued_to)
    if filters.control_code:
        try:
            cti = parse_control_code(filters.control_code)
        except MalformedError as exc:
            raise ValidationFailed(
                [FieldError("control_code", "control_code_invalid", "not a control code")]
            ) from exc
        query = query.where(Permit.cti == cti.hex())
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Permit.issued_at).desc(), col(Permit.serial).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return _with_persons(session, list(rows)), int(total)


def _with_persons(session: Session, permits: list[Permit]) -> list[IssuedPermit]:
    if not permits:
        return []
    ids = [p.id for p in permits]
    people: dict[uuid.UUID, list[PermitPerson]] = {}
    for person in session.exec(
        select(PermitPerson)
        .where(col(PermitPerson.permit_id).in_(ids))
        .order_by(col(PermitPerson.position))
    ).all():
        people.setdefault(person.permit_id, []).append(person)
    organisations = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(
                col(Organisation.id).in_({p.organisation_id for p in permits})
            )
        ).all()
    }
    return [
        IssuedPermit(p, people.get(p.id, []), organisations[p.organisation_id]) for p in permits
    ]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
