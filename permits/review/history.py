"""A permit's whole history: issued (under which policy version), replaced, revoked, receipt
recorded, and every check with its place and result."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.audit.models import AuditEvent
from permits.checks.models import Check
from permits.errors import NotFound
from permits.issuance.models import Permit
from permits.issuance.service import IssuedPermit, effective_status, get_permit
from permits.oversight.models import Checkpoint
from permits.policy.models import PolicyVersion

MAX_CHECKS = 2000


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One thing that happened to the permit: when, what, who, and a detail line."""

    at: datetime
    kind: str  # issue, replace, replaced, revoke, receipt, check
    actor: str
    detail: str
    related_id: uuid.UUID | None = None
    audit_seq: int | None = None
    result: str | None = None


@dataclass(frozen=True, slots=True)
class CheckEntry:
    """One check of the permit, with the checkpoint's name and position when registered."""

    at: datetime
    checkpoint: str
    checkpoint_name: str
    latitude: float | None
    longitude: float | None
    result: str
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class PermitHistory:
    """The permit, its status now, its policy version, its chain of replacements and events."""

    issued: IssuedPermit
    status: str
    policy: PolicyVersion
    predecessors: list[Permit]
    successor: Permit | None
    events: list[HistoryEvent]
    checks: list[CheckEntry]
    checks_total: int


def permit_history(
    session: Session, *, caller: Caller, permit_id: uuid.UUID, now: datetime, language: str
) -> PermitHistory:
    """Return the permit's history, oldest first. Regional administrators only.

    Raises NotFound for an unknown permit and NotPermitted for anyone else.
    """
    caller.require_any({REGIONAL_ADMIN})
    issued = get_permit(session, caller=caller, permit_id=permit_id)
    permit = issued.permit
    policy = session.get(PolicyVersion, permit.policy_version)
    if policy is None:
        raise NotFound(f"policy version {permit.policy_version} is missing")

    predecessors: list[Permit] = []
    cursor = permit.replaces_id
    while cursor is not None and len(predecessors) < 50:
        previous = session.get(Permit, cursor)
        if previous is None:
            break
        predecessors.append(previous)
        cursor = previous.replaces_id
    successor = session.get(Permit, permit.replaced_by_id) if permit.replaced_by_id else None

    events: list[HistoryEvent] = []
    audit = session.exec(
        select(AuditEvent)
        .where(AuditEvent.subject_type == "permit", AuditEvent.subject_id == str(permit.id))
        .order_by(col(AuditEvent.seq))
    ).all()
    for event in audit:
        details = json.loads(event.details or "{}")
        kind = event.action.removeprefix("permit.")
        related = uuid.UUID(details["replaces"]) if details.get("replaces") else None
        detail = details.get("reason") or details.get("received_by") or ""
        events.append(HistoryEvent(event.at, kind, event.actor, detail, related, event.seq))
    if successor is not None and permit.replaced_at is not None:
        events.append(
            HistoryEvent(permit.replaced_at, "replaced", "", successor.serial, successor.id)
        )
    if permit.revoked_at is not None and not any(e.kind == "revoke" for e in events):
        events.append(HistoryEvent(permit.revoked_at, "revoke", "", permit.revoke_reason or ""))
    if permit.receipt_at is not None and not any(e.kind == "receipt" for e in events):
        events.append(HistoryEvent(permit.receipt_at, "receipt", "", permit.receipt_by_name or ""))

    registry = {c.code: c for c in session.exec(select(Checkpoint)).all()}
    rows = session.exec(
        select(Check)
        .where(Check.permit_id == permit.id)
        .order_by(col(Check.checked_at))
        .limit(MAX_CHECKS + 1)
    ).all()
    checks = []
    for check in rows[:MAX_CHECKS]:
        place = registry.get(check.checkpoint)
        checks.append(
            CheckEntry(
                at=check.checked_at,
                checkpoint=check.checkpoint,
                checkpoint_name=place.name(language) if place else check.checkpoint,
                latitude=place.latitude if place else None,
                longitude=place.longitude if place else None,
                result=check.result,
                reason=check.reason,
                source=check.source,
            )
        )
        events.append(
            HistoryEvent(
                check.checked_at,
                "check",
                check.source,
                place.name(language) if place else check.checkpoint,
                result=check.result,
            )
        )
    events.sort(key=lambda e: (e.at, e.audit_seq if e.audit_seq is not None else 10**12))
    return PermitHistory(
        issued=issued,
        status=effective_status(permit, now),
        policy=policy,
        predecessors=predecessors,
        successor=successor,
        events=events,
        checks=checks,
        checks_total=len(rows),
    )
