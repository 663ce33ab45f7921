"""Recording state changes in a hash chain, and checking the chain."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.audit.models import AuditEvent, AuditHead

GENESIS = "0" * 64


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )


def event_hash(event: AuditEvent) -> str:
    """Return the SHA-256 (hex) that chains `event` to `event.prev_hash`."""
    body = _canonical(
        {
            "seq": event.seq,
            "at": event.at.isoformat(),
            "actor_user_id": event.actor_user_id,
            "actor": event.actor,
            "organisation_id": event.organisation_id,
            "action": event.action,
            "subject_type": event.subject_type,
            "subject_id": event.subject_id,
            "details": event.details,
        }
    )
    return hashlib.sha256((event.prev_hash + body).encode()).hexdigest()


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

    The chain head row is locked first, so concurrent writers take turns and the chain
    has no forks.
    """
    head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, seq=0, last_hash=GENESIS)
    event = AuditEvent(
        seq=head.seq + 1,
        at=at.astimezone(UTC),
        actor_user_id=actor.user_id if actor else None,
        actor=actor.label() if actor else "system",
        organisation_id=actor.organisation_id if actor else None,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        details=_canonical(details or {}),
        prev_hash=head.last_hash,
        hash="",
    )
    event.hash = event_hash(event)
    head.seq, head.last_hash = event.seq, event.hash
    session.add(head)
    session.add(event)
    return event


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
