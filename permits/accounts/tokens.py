"""API tokens: created and shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlmodel import Session, select

from permits.accounts.caller import Caller
from permits.accounts.models import ApiToken, User
from permits.errors import NotAuthenticated, NotPermitted
from permits.organisations.models import Organisation

TOKEN_PREFIX = "pmt_"  # noqa: S105 - a prefix, not a secret


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, user: User, role: str, name: str, now: datetime) -> str:
    """Create a token for `user` acting as `role` in the user's organisation; return it once.

    Raises NotPermitted when the user does not hold `role`. The caller commits.
    """
    if role not in user.role_set:
        raise NotPermitted(f"{user.username} does not hold the role {role}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        ApiToken(
            user_id=user.id,
            organisation_id=user.organisation_id,
            role=role,
            name=name,
            token_hash=_digest(token),
            prefix=token[:10],
            created_at=now,
        )
    )
    return token


def revoke_token(session: Session, *, token_id: int, now: datetime) -> None:
    """Mark a token revoked from `now`; the caller commits."""
    row = session.get(ApiToken, token_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = now
        session.add(row)


def caller_for_token(session: Session, token: str) -> Caller:
    """Return the caller a bearer token stands for; raise NotAuthenticated if it is not valid."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise NotAuthenticated("invalid token")
    row = session.exec(
        select(ApiToken, User, Organisation)
        .where(ApiToken.token_hash == _digest(token))
        .where(User.id == ApiToken.user_id)
        .where(Organisation.id == ApiToken.organisation_id)
    ).first()
    if row is None:
        raise NotAuthenticated("invalid token")
    api_token, user, organisation = row
    if api_token.revoked_at is not None or not user.active or not organisation.active:
        raise NotAuthenticated("token revoked")
    if api_token.role not in user.role_set:
        raise NotAuthenticated("token role no longer held")
    assert user.id is not None and organisation.id is not None
    return Caller(
        user_id=user.id,
        username=user.username,
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_kind=organisation.kind,
        roles=frozenset({api_token.role}),
    )
