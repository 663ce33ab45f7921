"""Revoking by the regional administration: one permit with a reason, or all active permits
of an issuer or of a category in bulk, after a preview of how many and a confirmation that
names that number."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.audit.service import record
from permits.errors import Conflict, FieldError, NotFound, ValidationFailed
from permits.issuance.models import Permit
from permits.issuance.service import revoke_permit
from permits.organisations.models import Organisation
from permits.policy.service import policy_at
from permits.trust.keys import bump_list_state

MIN_REASON = 3
BATCH = 1000


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if len(text) < MIN_REASON:
        raise ValidationFailed(
            [FieldError("reason", "reason_required", "give the reason for the revocation")]
        )
    if len(text) > 500:
        raise ValidationFailed(
            [FieldError("reason", "reason_too_long", "the reason is at most 500 characters")]
        )
    return text


def revoke_one(
    session: Session, *, caller: Caller, permit_id: uuid.UUID, reason: str, now: datetime
) -> Permit:
    """Revoke one active permit of any organisation with a reason, and commit."""
    caller.require_any({REGIONAL_ADMIN})
    return revoke_permit(
        session, caller=caller, permit_id=permit_id, reason=_reason(reason), now=now
    )


@dataclass(frozen=True, slots=True)
class BulkScope:
    """Which permits a bulk revocation takes: all active of an issuer, of a category, or of
    a category at one issuer."""

    issuer: str | None = None
    category: str | None = None

    def describe(self) -> str:
        """A short text for audit records: 'issuer=X category=Y'."""
        parts = []
        if self.issuer:
            parts.append(f"issuer={self.issuer}")
        if self.category:
            parts.append(f"category={self.category}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class BulkPreview:
    """How many active permits a bulk revocation would take now."""

    scope: BulkScope
    count: int
    organisation: Organisation | None


def _scoped(
    session: Session, scope: BulkScope, now: datetime
) -> tuple[list[Any], Organisation | None]:
    errors = []
    issuer = (scope.issuer or "").strip().upper() or None
    category = (scope.category or "").strip() or None
    if not issuer and not category:
        errors.append(
            FieldError("issuer", "scope_required", "choose an issuer, a category, or both")
        )
    organisation = None
    if issuer:
        organisation = session.exec(select(Organisation).where(Organisation.code == issuer)).first()
        if organisation is None:
            errors.append(FieldError("issuer", "issuer_unknown", f"no organisation {issuer}"))
    if category and policy_at(session, now).category(category) is None:
        errors.append(FieldError("category", "category_unknown", f"no category {category}"))
    if errors:
        raise ValidationFailed(errors)
    condition: list[Any] = [col(Permit.status) == "active", col(Permit.valid_until) > now]
    if organisation is not None:
        condition.append(col(Permit.organisation_id) == organisation.id)
    if category:
        condition.append(col(Permit.category) == category)
    return condition, organisation


def preview_bulk_revoke(
    session: Session, *, caller: Caller, scope: BulkScope, now: datetime
) -> BulkPreview:
    """Count the active (not yet expired) permits `scope` takes. Changes nothing."""
    caller.require_any({REGIONAL_ADMIN})
    condition, organisation = _scoped(session, scope, now)
    count = session.exec(select(func.count()).select_from(Permit).where(*condition)).one()
    session.rollback()
    return BulkPreview(scope, int(count), organisation)


def bulk_revoke(
    session: Session,
    *,
    caller: Caller,
    scope: BulkScope,
    reason: str,
    confirmed_count: int,
    now: datetime,
) -> int:
    """Revoke every active permit in `scope` with `reason`, in one transaction, and commit.

    `confirmed_count` is the number the person confirmed after the preview: when the number
    of permits in scope is different now (permits were issued or expired since), nothing is
    revoked and Conflict says the new number. Each permit gets its own audit record; the
    revocation list changes once. Returns how many were revoked.
    """
    caller.require_any({REGIONAL_ADMIN})
    text = _reason(reason)
    condition, _ = _scoped(session, scope, now)
    ids = list(
        session.exec(select(Permit.id, Permit.serial).where(*condition).with_for_update()).all()
    )
    if len(ids) != confirmed_count:
        session.rollback()
        raise Conflict(
            f"{len(ids)} permits are in scope now, not {confirmed_count}: preview again",
            code="bulk_count_changed",
        )
    if not ids:
        session.rollback()
        raise NotFound("no active permit is in scope", code="nothing_to_revoke")
    for start in range(0, len(ids), BATCH):
        chunk = [permit_id for permit_id, _ in ids[start : start + BATCH]]
        session.execute(
            update(Permit)
            .where(col(Permit.id).in_(chunk))
            .values(
                status="revoked",
                revoked_at=now,
                revoked_by_user_id=caller.user_id,
                revoke_reason=text,
            )
        )
    for permit_id, serial in ids:
        record(
            session,
            actor=caller,
            action="permit.revoke",
            subject_type="permit",
            subject_id=str(permit_id),
            at=now,
            details={"serial": serial, "reason": text, "bulk": scope.describe()},
        )
    record(
        session,
        actor=caller,
        action="permit.revoke_bulk",
        subject_type="scope",
        subject_id=scope.describe()[:64],
        at=now,
        details={"count": len(ids), "reason": text},
    )
    bump_list_state(session, "revocation")
    session.commit()
    return len(ids)
