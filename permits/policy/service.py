"""Loading policy versions, and finding the one in force at a given time."""

from __future__ import annotations

import json
import threading
import tomllib
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import Label, bindparam
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.audit.service import record
from permits.errors import Conflict, FieldError, ServiceUnavailable, ValidationFailed
from permits.policy.models import PolicyVersion
from permits.policy.rules import PolicyDocument

DEFAULT_POLICY_FILE = Path(__file__).with_name("policy.toml")

_parsed: dict[tuple[int, datetime], PolicyDocument] = {}
_parsed_lock = threading.Lock()


def read_policy_file(path: Path) -> PolicyDocument:
    """Parse and validate a policy TOML file; raise ValidationFailed naming what is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        return PolicyDocument.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed([FieldError("policy", "policy_syntax", str(exc))]) from exc
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError(".".join(str(p) for p in e["loc"]), "policy_invalid", e["msg"])
                for e in exc.errors()
            ]
        ) from exc


def add_version(
    session: Session, *, document: PolicyDocument, now: datetime, actor: Caller | None
) -> PolicyVersion:
    """Store `document` as a new version (its number must be the next one) and commit.

    Versions are never edited: a change is always a new version with its own effective time.
    """
    latest = session.exec(
        select(PolicyVersion).order_by(col(PolicyVersion.version).desc()).limit(1)
    ).first()
    expected = (latest.version + 1) if latest else 1
    if document.version != expected:
        raise Conflict(
            f"the next policy version is {expected}, not {document.version}", code="policy_version"
        )
    row = PolicyVersion(
        version=document.version,
        effective_from=document.effective_from,
        created_at=now,
        created_by_user_id=actor.user_id if actor else None,
        note=document.note,
        document=document.model_dump_json(),
    )
    session.add(row)
    record(
        session,
        actor=actor,
        action="policy.add",
        subject_type="policy",
        subject_id=str(document.version),
        at=now,
        details={"effective_from": document.effective_from.isoformat(), "note": document.note},
    )
    from permits.trust.keys import bump_list_state

    bump_list_state(session, "trust")
    session.commit()
    return row


def _parsed_document(session: Session, version: int, created_at: datetime) -> PolicyDocument:
    """The parsed document of a version, parsed once per process.

    Keyed by version and creation time, so that two databases (tests, a restored backup)
    whose version 2 differs never share a cached parse.
    """
    key = (version, created_at)
    with _parsed_lock:
        cached = _parsed.get(key)
    if cached is None:
        document = session.connection().execute(_DOCUMENT, {"version": version}).scalar_one()
        cached = PolicyDocument.model_validate(json.loads(document))
        with _parsed_lock:
            _parsed[key] = cached
    return cached


_VERSIONS = PolicyVersion.__table__  # type: ignore[attr-defined]
_IN_FORCE = (
    select(_VERSIONS.c.version, _VERSIONS.c.created_at)
    .where(_VERSIONS.c.effective_from <= bindparam("at"))
    .order_by(_VERSIONS.c.version.desc())
    .limit(1)
)
_EXACT = select(_VERSIONS.c.version, _VERSIONS.c.created_at).where(
    _VERSIONS.c.version == bindparam("version")
)
_DOCUMENT = select(_VERSIONS.c.document).where(_VERSIONS.c.version == bindparam("version"))


def policy_at(session: Session, at: datetime) -> PolicyDocument:
    """Return the policy version in force at `at` (the newest whose effective time has come)."""
    row = session.connection().execute(_IN_FORCE, {"at": at}).first()
    return policy_in_force(
        session,
        version=None if row is None else row.version,
        created_at=None if row is None else row.created_at,
    )


def in_force_columns() -> tuple[Label[int], Label[datetime]]:
    """The version (`policy_version`) and creation time (`policy_created_at`) of the policy
    in force at the parameter `at`, as two columns for a caller's own query: with them,
    `policy_in_force` needs no query once that version is parsed."""
    return (
        _IN_FORCE.with_only_columns(_VERSIONS.c.version).scalar_subquery().label("policy_version"),
        _IN_FORCE.with_only_columns(_VERSIONS.c.created_at)
        .scalar_subquery()
        .label("policy_created_at"),
    )


def policy_in_force(
    session: Session, *, version: int | None, created_at: datetime | None
) -> PolicyDocument:
    """As `policy_at`, for the version in force and its creation time already read
    (`in_force_columns`); ServiceUnavailable when no policy is in force (None)."""
    if version is None or created_at is None:
        raise ServiceUnavailable("no policy is in force: run `permits init`", code="no_policy")
    return _parsed_document(session, version, created_at)


def policy_document(
    session: Session, *, version: int, created_at: datetime | None
) -> PolicyDocument:
    """Return policy version `version` when its row's `created_at` is already known (read
    with the permits that name it): no query once the version is parsed. With None (the
    version is missing), as `policy_version`."""
    if created_at is None:
        return policy_version(session, version)
    return _parsed_document(session, version, created_at)


def policy_version(session: Session, version: int) -> PolicyDocument:
    """Return policy version `version` exactly."""
    row = session.connection().execute(_EXACT, {"version": version}).first()
    if row is None:
        raise ServiceUnavailable(f"policy version {version} is missing", code="no_policy")
    return _parsed_document(session, row.version, row.created_at)
