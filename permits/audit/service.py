"""Recording state changes in a hash chain, and checking the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


_HASHED_FIELDS = (
    "seq",
    "at",
    "actor_user_id",
    "actor",
    "organisation_id",
    "action",
    "subject_type",
    "subject_id",
    "details",
)


def _chain_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    body = _canonical({name: fields[name] for name in _HASHED_FIELDS})
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def event_hash(event: AuditEvent) -> str:
    """Return the SHA-256 (hex) that chains `event` to `event.prev_hash`."""
    fields = {name: getattr(event, name) for name in _HASHED_FIELDS}
    fields["at"] = event.at.isoformat()
    return _chain_hash(event.prev_hash, fields)


# Built once: these run inside every state change, so they are not rebuilt per call.
_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]
_HEAD = AuditHead.__table__  # type: ignore[attr-defined]
_ADVANCE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=_HEAD.c.seq + bindparam("count"))
    .returning(_HEAD.c.seq, _HEAD.c.last_hash)
)
_SET_HEAD_HASH = update(_HEAD).where(_HEAD.c.id == 1).values(last_hash=bindparam("new_hash"))
_SEED_HEAD = insert(_HEAD)
_INSERT_EVENT = insert(_EVENTS)


@dataclass(frozen=True, slots=True)
class Change:
    """One state change to record: what was done, to what, and the details."""

    action: str
    subject_type: str
    subject_id: str
    details: dict[str, Any] = field(default_factory=dict)


def record(
    session: Session,
    *,
    actor: Caller | None,
    action: str,
    subject_type: str,
    subject_id: str,
    at: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (the caller commits).

    The chain head row is updated first (which locks it until commit), so concurrent
    writers take turns and the chain has no forks.
    """
    change = Change(action, subject_type, subject_id, details or {})
    return record_many(session, actor=actor, changes=[change], at=at)[0]


def record_many(
    session: Session, *, actor: Caller | None, changes: list[Change], at: datetime
) -> list[AuditEvent]:
    """Append `changes`, in order, to the chain inside the caller's transaction.

    One advance of the chain head for the whole batch, one INSERT of all the events: a
    roster of a hundred permits costs three statements, not three hundred. The caller
    commits.
    """
    return record_entries(session, entries=[Entry(actor, change, at) for change in changes])


@dataclass(frozen=True, slots=True)
class Entry:
    """One change to record with who made it and when (changes of several requests stored
    together each keep their own actor and time)."""

    actor: Caller | None
    change: Change
    at: datetime


def record_entries(session: Session, *, entries: list[Entry]) -> list[AuditEvent]:
    """Append `entries`, in order, to the chain inside the caller's transaction, with the
    statements of `record_many` (three, whatever their number). The caller commits."""
    if not entries:
        return []
    connection = session.connection()
    head = connection.execute(_ADVANCE_HEAD, {"count": len(entries)}).first()
    if head is None:  # a database created before the head row was seeded
        connection.execute(_SEED_HEAD, [{"id": 1, "seq": len(entries), "last_hash": GENESIS}])
        last_seq, prev_hash = len(entries), GENESIS
    else:
        last_seq, prev_hash = head
    rows: list[dict[str, Any]] = []
    for offset, entry in enumerate(entries):
        actor, change = entry.actor, entry.change
        at_utc = entry.at.astimezone(UTC)
        row: dict[str, Any] = {
            "seq": last_seq - len(entries) + 1 + offset,
            "at": at_utc.isoformat(),
            "actor_user_id": actor.user_id if actor else None,
            "actor": actor.label() if actor else "system",
            "organisation_id": actor.organisation_id if actor else None,
            "action": change.action,
            "subject_type": change.subject_type,
            "subject_id": change.subject_id,
            "details": _canonical(change.details),
        }
        row["hash"] = _chain_hash(prev_hash, row)
        row["prev_hash"], row["at"] = prev_hash, at_utc
        prev_hash = row["hash"]
        rows.append(row)
    connection.execute(_SET_HEAD_HASH, {"new_hash": prev_hash})
    connection.execute(_INSERT_EVENT, rows)
    return [AuditEvent.model_construct(**row) for row in rows]


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of checking the audit chain: how many events, and the first broken one."""

    events: int
    first_broken_seq: int | None
    reason: str = ""

    @property
    def intact(self) -> bool:
        """True when every event links to the one before and its hash matches."""
        return self.first_broken_seq is None


def verify_chain(session: Session, *, batch: int = 5000) -> ChainReport:
    """Walk the whole chain in order and report the first event whose link or hash is wrong."""
    previous = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq > last_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
            .execution_options(populate_existing=True)  # what is stored, not a cached copy
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return ChainReport(count, expected_seq, "an event is missing")
            if event.prev_hash != previous:
                return ChainReport(count, event.seq, "the link to the previous event is wrong")
            if event_hash(event) != event.hash:
                return ChainReport(count, event.seq, "the event was changed after it was written")
            previous = event.hash
            expected_seq += 1
            count += 1
            last_seq = event.seq
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.last_hash != previous):
        return ChainReport(count, last_seq + 1, "events at the end of the chain are missing")
    return ChainReport(count, None)
