"""Bulk issuance from a roster: validate every row first (nothing is issued), report per
row, then, once the user confirms, issue the valid rows with progress.

Idempotent: each row's idempotency key is a digest of what it asks for, so the same roster
uploaded twice (or a confirmation retried) issues nothing twice; rows issued by an earlier
upload are reported as such before anything happens.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import ISSUING_ROLES
from permits.db import write_session
from permits.errors import FieldError, NotFound, PermitsError, ValidationFailed
from permits.issuance.models import Permit
from permits.issuance.schemas import PermitCreate
from permits.issuance.service import issue_permits
from permits.issuance.validation import WEEKDAYS, allowed_categories, validate_permit
from permits.organisations.models import Organisation
from permits.policy.rules import CategoryRules
from permits.policy.service import policy_at
from permits.timezone import LOCAL
from permits.trust.keystore import KeyStore
from permits.workspace.models import (
    DONE,
    FAILED,
    ISSUING,
    ROW_DUPLICATE,
    ROW_EXISTING,
    ROW_INVALID,
    ROW_ISSUED,
    ROW_VALID,
    VALIDATED,
    BulkJob,
    BulkRow,
)
from permits.workspace.roster import Roster, parse_date_text


@dataclass(frozen=True, slots=True)
class RosterDefaults:
    """What applies to every row unless the roster says otherwise."""

    valid_from: date
    valid_until: date
    from_municipality: int
    to_municipality: int
    to_address: str = ""
    vehicle_kind: str = "car"
    weekdays: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The defaults as stored with the job."""
        return {
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "from_municipality": self.from_municipality,
            "to_municipality": self.to_municipality,
            "to_address": self.to_address,
            "vehicle_kind": self.vehicle_kind,
            "weekdays": list(self.weekdays),
        }


def _int(text: str, default: int) -> int:
    return int(text) if text.strip().isdigit() else default


def _day(text: str, default: date, errors: list[FieldError], field_name: str) -> date:
    if not text.strip():
        return default
    iso = parse_date_text(text)
    if iso is None:
        errors.append(FieldError(field_name, "not_a_date", "not a date"))
        return default
    return date.fromisoformat(iso)


def row_request(
    values: dict[str, str], *, rules: CategoryRules, defaults: RosterDefaults
) -> tuple[dict[str, Any], list[FieldError]]:
    """The permit request a roster row stands for (as JSON), and errors found reading it."""
    errors: list[FieldError] = []
    main_role = next(iter(role for role, (low, _) in rules.roles.items() if low > 0))
    role = values.get("role", "").strip().lower().replace(" ", "_") or main_role
    person: dict[str, Any] = {
        "role": role,
        "first_name": values.get("first_name", ""),
        "last_name": values.get("last_name", ""),
        "position": values.get("position") or None,
    }
    if values.get("foreign_document") and not values.get("personal_number"):
        person["foreign_document_number"] = values["foreign_document"]
    else:
        person["personal_number"] = values.get("personal_number", "")
    persons = [person]
    if any(
        values.get(k) for k in ("driver_first_name", "driver_last_name", "driver_personal_number")
    ):
        persons.append(
            {
                "role": "driver",
                "first_name": values.get("driver_first_name", ""),
                "last_name": values.get("driver_last_name", ""),
                "personal_number": values.get("driver_personal_number", ""),
            }
        )
    start = _day(values.get("valid_from", ""), defaults.valid_from, errors, "schedule.valid_from")
    end = _day(values.get("valid_until", ""), defaults.valid_until, errors, "schedule.valid_until")
    weekdays = list(defaults.weekdays)
    if values.get("weekdays", "").strip():
        weekdays = [w.strip().lower()[:3] for w in values["weekdays"].replace(";", ",").split(",")]
        weekdays = [w for w in weekdays if w]
    request = {
        "category": rules.slug,
        "persons": persons,
        "vehicle": {
            "kind": (values.get("vehicle_kind") or defaults.vehicle_kind).strip().lower(),
            "make_model": values.get("make_model") or None,
            "plate": values.get("plate") or None,
        },
        "route": {
            "from_municipality": _int(
                values.get("from_municipality", ""), defaults.from_municipality
            ),
            "from_address": values.get("from_address") or None,
            "to_municipality": _int(values.get("to_municipality", ""), defaults.to_municipality),
            "to_address": values.get("to_address") or defaults.to_address or None,
        },
        "schedule": {
            "valid_from": datetime.combine(start, time(0), LOCAL).isoformat(),
            "valid_until": datetime.combine(end + timedelta(days=1), time(0), LOCAL).isoformat(),
            "weekdays": weekdays,
            "windows": [
                {"start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M")}
                for w in rules.daily_windows
            ],
        },
    }
    return request, errors


def idempotency_key(request: dict[str, Any]) -> str:
    """The key of a roster row: a digest of what it asks for (the same row, the same key)."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "roster:" + hashlib.sha256(canonical.encode()).hexdigest()[:48]


def _duplicate_key(request: dict[str, Any]) -> str:
    people = sorted(
        (p.get("personal_number") or p.get("foreign_document_number") or "").strip()
        for p in request["persons"]
    )
    schedule = request["schedule"]
    return json.dumps([people, schedule["valid_from"], schedule["valid_until"]])


@dataclass
class CheckedRow:
    """A roster row after checking."""

    line: int
    source: dict[str, str]
    request: dict[str, Any] | None
    errors: list[FieldError] = field(default_factory=list)
    state: str = ROW_VALID
    duplicate_of: int | None = None
    key: str | None = None
    permit_id: uuid.UUID | None = None


def check_rows(
    roster: Roster,
    *,
    rules: CategoryRules,
    defaults: RosterDefaults,
    organisation: Organisation,
    policy: Any,
    now: datetime,
) -> list[CheckedRow]:
    """Check every row against the rules, flag rows repeated within the roster."""
    checked: list[CheckedRow] = []
    first_line: dict[str, int] = {}
    for line, values in roster.rows:
        body, errors = row_request(values, rules=rules, defaults=defaults)
        row = CheckedRow(line, values, body, list(errors))
        try:
            request = PermitCreate.model_validate(body)
        except ValidationError as exc:
            for item in exc.errors():
                path = ".".join(str(p) for p in item["loc"])
                code = "too_long" if item["type"] == "string_too_long" else "invalid"
                row.errors.append(FieldError(path, code, str(item["msg"])))
            request = None
        if request is not None:
            try:
                validate_permit(request, policy=policy, organisation=organisation, now=now)
            except ValidationFailed as exc:
                bad = {e.field for e in row.errors}
                row.errors.extend(e for e in exc.errors if e.field not in bad)
            except PermitsError as exc:
                row.errors.extend(exc.as_field_errors())
        if row.errors:
            row.state = ROW_INVALID
        else:
            row.key = idempotency_key(body)
            duplicate = _duplicate_key(body)
            if duplicate in first_line:
                row.state = ROW_DUPLICATE
                row.duplicate_of = first_line[duplicate]
            else:
                first_line[duplicate] = line
        checked.append(row)
    return checked


def create_job(
    session: Session,
    *,
    caller: Caller,
    roster: Roster,
    filename: str,
    file_sha256: str,
    category: str,
    defaults: RosterDefaults,
    now: datetime,
) -> BulkJob:
    """Check a roster and store the job and its rows (nothing is issued); commit.

    Rows whose permit an earlier upload already issued are marked as such.
    """
    caller.require_any(ISSUING_ROLES)
    organisation = session.get(Organisation, caller.organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    policy = policy_at(session, now)
    rules = next((c for c in allowed_categories(organisation, policy) if c.slug == category), None)
    if rules is None:
        raise ValidationFailed(
            [FieldError("category", "category_not_allowed", "your organisation may not issue it")]
        )
    rows = check_rows(
        roster, rules=rules, defaults=defaults, organisation=organisation, policy=policy, now=now
    )
    keys = [r.key for r in rows if r.key]
    existing: dict[str, uuid.UUID] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for key, permit_id in session.exec(
            select(Permit.idempotency_key, Permit.id)
            .where(Permit.organisation_id == caller.organisation_id)
            .where(col(Permit.idempotency_key).in_(chunk))
        ).all():
            existing[str(key)] = permit_id
    for row in rows:
        if row.state == ROW_VALID and row.key in existing:
            row.state, row.permit_id = ROW_EXISTING, existing[row.key]
    job = BulkJob(
        organisation_id=caller.organisation_id,
        user_id=caller.user_id,
        created_at=now,
        updated_at=now,
        filename=filename[:200],
        file_sha256=file_sha256,
        category=category,
        defaults=defaults.as_json(),
        status=VALIDATED,
        total_rows=len(rows),
        checked_rows=len(rows),
        valid_rows=sum(r.state == ROW_VALID for r in rows),
        invalid_rows=sum(r.state == ROW_INVALID for r in rows),
        duplicate_rows=sum(r.state == ROW_DUPLICATE for r in rows),
        existing_rows=sum(r.state == ROW_EXISTING for r in rows),
    )
    session.add(job)
    session.flush()
    payload = [
        {
            "job_id": job.id,
            "line": r.line,
            "source": r.source,
            "request": r.request,
            "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in r.errors],
            "state": r.state,
            "duplicate_of": r.duplicate_of,
            "idempotency_key": r.key,
            "permit_id": r.permit_id,
        }
        for r in rows
    ]
    for start in range(0, len(payload), 1000):
        session.execute(insert(BulkRow), payload[start : start + 1000])
    session.commit()
    return job


def own_job(session: Session, caller: Caller, job_id: uuid.UUID) -> BulkJob:
    """A bulk job of the caller's organisation (NotFound otherwise)."""
    job = session.get(BulkJob, job_id)
    if job is None or job.organisation_id != caller.organisation_id:
        raise NotFound("no such upload")
    return job


def start_issuing(session: Session, *, caller: Caller, job_id: uuid.UUID, now: datetime) -> bool:
    """Mark a validated job as issuing; False when it is already issuing or done (a second
    click changes nothing). Commits."""
    caller.require_any(ISSUING_ROLES)
    own_job(session, caller, job_id)
    result = session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job_id)
        .where(col(BulkJob.status) == VALIDATED)
        .values(status=ISSUING, updated_at=now)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


CHUNK = 100  # permits signed and stored in one transaction


def _issue_chunk(
    engine: Engine,
    *,
    caller: Caller,
    rows: list[Any],
    keystore: KeyStore,
    now: datetime,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Issue a chunk of roster rows in one transaction with the issuance service's
    `issue_permits`; return (issued rows, failed rows) as row updates.

    Rows whose key an earlier upload used get that permit; should two writers clash, the
    service issues the chunk row by row.
    """
    done: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    requests: list[tuple[PermitCreate, str | None]] = []
    row_ids: list[Any] = []
    for row_id, body, key in rows:
        try:
            requests.append((PermitCreate.model_validate(body), key))
            row_ids.append(row_id)
        except ValidationError as exc:
            failed.append({"id": row_id, "state": ROW_INVALID, "errors": _errors(exc)})
    with Session(engine, expire_on_commit=False) as session:
        results = issue_permits(
            session, caller=caller, requests=requests, keystore=keystore, now=now
        )
    for row_id, result in zip(row_ids, results, strict=True):
        if isinstance(result, PermitsError):
            failed.append({"id": row_id, "state": ROW_INVALID, "errors": _errors(result)})
        else:
            done.append({"id": row_id, "state": ROW_ISSUED, "permit_id": result.permit.id})
    return done, failed


def _errors(exc: Exception) -> list[dict[str, Any]]:
    errors = (
        exc.as_field_errors()
        if isinstance(exc, PermitsError)
        else [FieldError("", "invalid", str(exc))]
    )
    return [{"field": e.field, "code": e.code, "message": e.message} for e in errors]


def issue_job(
    engine: Engine,
    *,
    caller: Caller,
    job_id: uuid.UUID,
    keystore: KeyStore,
    clock: Callable[[], datetime],
) -> BulkJob:
    """Issue every valid row of a job that `start_issuing` marked, `CHUNK` permits per
    transaction, each with its row's idempotency key, counting progress as it goes.

    Safe to run again after a crash: rows already issued are skipped, and a row whose key was
    used meanwhile gets the permit issued then.
    """
    with Session(engine) as reader:
        rows = list(
            reader.exec(
                select(BulkRow.id, BulkRow.request, BulkRow.idempotency_key)
                .where(BulkRow.job_id == job_id)
                .where(BulkRow.state == ROW_VALID)
                .order_by(col(BulkRow.line))
            ).all()
        )
    chunks = [rows[start : start + CHUNK] for start in range(0, len(rows), CHUNK)] or [[]]
    try:
        for number, chunk in enumerate(chunks, start=1):
            done, failed = (
                _issue_chunk(engine, caller=caller, rows=chunk, keystore=keystore, now=clock())
                if chunk
                else ([], [])
            )
            with write_session(engine) as writer:
                if done:
                    writer.execute(update(BulkRow), done)
                if failed:
                    writer.execute(update(BulkRow), failed)
                values: dict[str, Any] = {
                    "updated_at": clock(),
                    "issued_rows": BulkJob.issued_rows + len(done),
                }
                if number == len(chunks):
                    values["status"] = DONE
                writer.execute(update(BulkJob).where(col(BulkJob.id) == job_id).values(**values))
                writer.commit()
    except Exception:
        with write_session(engine) as writer:
            writer.execute(
                update(BulkJob)
                .where(col(BulkJob.id) == job_id)
                .values(status=FAILED, error="issuing stopped; confirm again to finish")
            )
            writer.commit()
        raise
    with Session(engine) as reader:
        job = reader.get(BulkJob, job_id)
        assert job is not None
        return job


def resume(session: Session, *, caller: Caller, job_id: uuid.UUID, now: datetime) -> bool:
    """Let a job that stopped (FAILED) be confirmed again; commits. True if it was reset."""
    own_job(session, caller, job_id)
    result = session.execute(
        update(BulkJob)
        .where(col(BulkJob.id) == job_id)
        .where(col(BulkJob.status) == FAILED)
        .values(status=VALIDATED, error=None, updated_at=now)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def issued_permit_ids(session: Session, *, job_id: uuid.UUID) -> list[uuid.UUID]:
    """The permits a job issued (or found issued before), in roster order."""
    return [
        permit_id
        for permit_id in session.exec(
            select(BulkRow.permit_id)
            .where(BulkRow.job_id == job_id)
            .where(col(BulkRow.permit_id).is_not(None))
            .order_by(col(BulkRow.line))
        ).all()
        if permit_id is not None
    ]


def weekdays_from(values: list[str]) -> tuple[str, ...]:
    """Weekday slugs from a form (unknown ones dropped)."""
    return tuple(v for v in values if v in WEEKDAYS)
