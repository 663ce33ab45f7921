"""Reading the audit trail: recent events with filters, and the chain check."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.audit.models import AuditEvent
from permits.audit.service import ChainReport, verify_chain


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of audit events, newest first, and how many match."""

    events: list[AuditEvent]
    total: int
    page: int
    per_page: int


def audit_events(
    session: Session,
    *,
    caller: Caller | None,
    action: str | None = None,
    actor: str | None = None,
    subject: str | None = None,
    around_seq: int | None = None,
    page: int = 1,
    per_page: int = 50,
) -> AuditPage:
    """Return audit events matching the filters, newest first (around `around_seq` when given:
    the events just before and after it, to look at a broken link)."""
    if caller is not None:
        caller.require_any({REGIONAL_ADMIN})
    query = select(AuditEvent)
    if action:
        query = query.where(col(AuditEvent.action).startswith(action.strip()))
    if actor:
        query = query.where(col(AuditEvent.actor).contains(actor.strip()))
    if subject:
        query = query.where(AuditEvent.subject_id == subject.strip())
    if around_seq is not None:
        query = query.where(
            col(AuditEvent.seq) >= around_seq - per_page // 2,
            col(AuditEvent.seq) <= around_seq + per_page // 2,
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    events = session.exec(
        query.order_by(col(AuditEvent.seq).desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return AuditPage(list(events), int(total), page, per_page)


def check_chain(session: Session, *, caller: Caller | None) -> ChainReport:
    """Verify the whole audit chain and report the first broken link (regional admins)."""
    if caller is not None:
        caller.require_any({REGIONAL_ADMIN})
    return verify_chain(session)
