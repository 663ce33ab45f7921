"""Issuer key lifecycle: create, approve, rotate, revoke; and the key that signs new permits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import ColumnElement, Label, Select, bindparam, update
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.audit.service import record
from permits.errors import Conflict, KeyUnavailable, NotFound
from permits.organisations.models import Organisation
from permits.trust.keystore import KeyStore
from permits.trust.models import IssuerKey, ListState

PENDING, ACTIVE, RETIRED, REVOKED = "pending", "active", "retired", "revoked"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The key an organisation signs new permits with."""

    kid: bytes
    private_key: ec.EllipticCurvePrivateKey


def bump_list_state(session: Session, kind: str) -> None:
    """Mark the `kind` list ("trust" or "revocation") as changed, in the caller's transaction."""
    updated = session.execute(
        update(ListState).where(col(ListState.kind) == kind).values(counter=ListState.counter + 1)
    )
    if updated.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ListState(kind=kind, counter=1))


def create_key(
    session: Session,
    *,
    organisation: Organisation,
    keystore: KeyStore,
    now: datetime,
    actor: Caller | None,
    approve: bool = False,
) -> IssuerKey:
    """Create a key pair for `organisation` and commit it.

    The key is active at once when the organisation has no active key or `approve` is set
    (the previous active key is then retired); otherwise it waits for approval as pending.
    """
    assert organisation.id is not None
    kid, der = keystore.create_issuer_key(organisation.code)
    current = _active(session, organisation.id)
    key = IssuerKey(
        organisation_id=organisation.id,
        kid=kid.hex(),
        public_key_der=der,
        status=PENDING,
        created_at=now,
    )
    session.add(key)
    if current is None or approve:
        _activate(session, key, current, now)
    session.flush()
    record(
        session,
        actor=actor,
        action="key.create",
        subject_type="issuer_key",
        subject_id=key.kid,
        at=now,
        details={"organisation": organisation.code, "status": key.status},
    )
    session.commit()
    return key


def _active(session: Session, organisation_id: int) -> IssuerKey | None:
    return session.exec(
        select(IssuerKey)
        .where(IssuerKey.organisation_id == organisation_id)
        .where(IssuerKey.status == ACTIVE)
    ).first()


def _activate(session: Session, key: IssuerKey, current: IssuerKey | None, now: datetime) -> None:
    if current is not None and current.id != key.id:
        current.status, current.retired_at = RETIRED, now
        session.add(current)
    key.status, key.activated_at = ACTIVE, now
    session.add(key)
    bump_list_state(session, "trust")


def approve_key(session: Session, *, kid: str, now: datetime, actor: Caller | None) -> IssuerKey:
    """Activate a pending key (the organisation's active key is retired) and commit."""
    key = _get(session, kid)
    if key.status != PENDING:
        raise Conflict(f"key {kid} is {key.status}, not pending", code="key_not_pending")
    _activate(session, key, _active(session, key.organisation_id), now)
    record(
        session,
        actor=actor,
        action="key.approve",
        subject_type="issuer_key",
        subject_id=kid,
        at=now,
    )
    session.commit()
    return key


def rotate_key(
    session: Session,
    *,
    organisation: Organisation,
    keystore: KeyStore,
    now: datetime,
    actor: Caller | None,
) -> IssuerKey:
    """Create a new active key for `organisation`; the old one is retired and keeps verifying."""
    return create_key(
        session, organisation=organisation, keystore=keystore, now=now, actor=actor, approve=True
    )


def revoke_key(
    session: Session,
    *,
    kid: str,
    keystore: KeyStore,
    now: datetime,
    actor: Caller | None,
    reason: str,
) -> IssuerKey:
    """Revoke a compromised key: it leaves the trust list and its private file is destroyed."""
    key = _get(session, kid)
    if key.status == REVOKED:
        raise Conflict(f"key {kid} is already revoked", code="already_revoked")
    organisation = session.get(Organisation, key.organisation_id)
    assert organisation is not None
    key.status, key.revoked_at = REVOKED, now
    session.add(key)
    bump_list_state(session, "trust")
    record(
        session,
        actor=actor,
        action="key.revoke",
        subject_type="issuer_key",
        subject_id=kid,
        at=now,
        details={"reason": reason, "organisation": organisation.code},
    )
    session.commit()
    keystore.destroy_issuer_key(organisation.code, bytes.fromhex(kid))
    return key


def _get(session: Session, kid: str) -> IssuerKey:
    key = session.exec(select(IssuerKey).where(IssuerKey.kid == kid.lower())).first()
    if key is None:
        raise NotFound(f"no key {kid}")
    return key


_KEYS = IssuerKey.__table__  # type: ignore[attr-defined]


def _active_kid(organisation_id: ColumnElement[int]) -> Select[Any]:
    return (
        select(_KEYS.c.kid)
        .where(_KEYS.c.organisation_id == organisation_id, _KEYS.c.status == ACTIVE)
        .order_by(_KEYS.c.activated_at.desc())
        .limit(1)  # never two active keys, but a scalar subquery must not fail if there were
    )


_ACTIVE_KID = _active_kid(bindparam("organisation_id"))


def signing_key(session: Session, *, organisation: Organisation, keystore: KeyStore) -> SigningKey:
    """Return the organisation's active signing key; KeyUnavailable when it has none."""
    assert organisation.id is not None
    kid_hex = (
        session.connection().execute(_ACTIVE_KID, {"organisation_id": organisation.id}).scalar()
    )
    return signing_key_of(kid_hex, organisation=organisation, keystore=keystore)


def active_kid_of(organisation_id: ColumnElement[int]) -> Label[str]:
    """The kid (`active_kid`) of the active key of the organisation `organisation_id` names,
    as a column for a caller's own query, which then needs no query of its own for it."""
    return _active_kid(organisation_id).scalar_subquery().label("active_kid")


def signing_key_of(
    kid_hex: str | None, *, organisation: Organisation, keystore: KeyStore
) -> SigningKey:
    """As `signing_key`, for the active kid already read (`active_kid_of`; None: no active
    key, KeyUnavailable)."""
    if kid_hex is None:
        raise KeyUnavailable(
            f"{organisation.code} has no active signing key", code="no_signing_key"
        )
    kid = bytes.fromhex(kid_hex)
    return SigningKey(kid=kid, private_key=keystore.issuer_private_key(organisation.code, kid))
