"""API tokens: created and shown once, stored as a hash, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import RowMapping, bindparam, select
from sqlmodel import Session

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


_TOKENS = ApiToken.__table__  # type: ignore[attr-defined]
_USERS = User.__table__  # type: ignore[attr-defined]
_ORGANISATIONS = Organisation.__table__  # type: ignore[attr-defined]
_CALLERS = (
    select(
        _TOKENS.c.role,
        _TOKENS.c.revoked_at,
        _USERS.c.id.label("user_id"),
        _USERS.c.username,
        _USERS.c.roles,
        _USERS.c.active.label("user_active"),
        _ORGANISATIONS.c.id.label("organisation_id"),
        _ORGANISATIONS.c.code,
        _ORGANISATIONS.c.kind,
        _ORGANISATIONS.c.active.label("org_active"),
    )
    .join(_USERS, _USERS.c.id == _TOKENS.c.user_id)
    .join(_ORGANISATIONS, _ORGANISATIONS.c.id == _TOKENS.c.organisation_id)
)
_TOKEN_CALLER = _CALLERS.where(_TOKENS.c.token_hash == bindparam("token_hash"))
_TOKENS_CALLERS = _CALLERS.add_columns(_TOKENS.c.token_hash).where(
    _TOKENS.c.token_hash.in_(bindparam("hashes", expanding=True))
)


def well_formed(token: str) -> bool:
    """True when `token` has the shape of an API token (checked before any look-up)."""
    return token.startswith(TOKEN_PREFIX) and len(token) <= 100


def caller_for_token(session: Session, token: str) -> Caller:
    """Return the caller a bearer token stands for; raise NotAuthenticated if it is not valid."""
    if not well_formed(token):
        raise NotAuthenticated("invalid token")
    row = (
        session.connection()
        .execute(_TOKEN_CALLER, {"token_hash": _digest(token)})
        .mappings()
        .first()
    )
    caller = _caller(row)
    if isinstance(caller, NotAuthenticated):
        raise caller
    return caller


def callers_for_tokens(
    session: Session, tokens: Collection[str]
) -> dict[str, Caller | NotAuthenticated]:
    """Return, for each of `tokens`, the caller it stands for or the NotAuthenticated error
    `caller_for_token` would raise, with one query for all of them (a group of online checks
    from many checkpoints)."""
    digests = {token: _digest(token) for token in tokens if well_formed(token)}
    rows: dict[str, RowMapping] = {}
    if digests:
        found = session.connection().execute(_TOKENS_CALLERS, {"hashes": list(digests.values())})
        rows = {row["token_hash"]: row for row in found.mappings()}
    return {
        token: _caller(rows.get(digests[token])) if token in digests else _caller(None)
        for token in tokens
    }


def _caller(row: RowMapping | None) -> Caller | NotAuthenticated:
    if row is None:
        return NotAuthenticated("invalid token")
    if row["revoked_at"] is not None or not row["user_active"] or not row["org_active"]:
        return NotAuthenticated("token revoked")
    roles = frozenset(r for r in row["roles"].split(",") if r)
    if row["role"] not in roles:
        return NotAuthenticated("token role no longer held")
    return Caller(
        user_id=row["user_id"],
        username=row["username"],
        organisation_id=row["organisation_id"],
        organisation_code=row["code"],
        organisation_kind=row["kind"],
        roles=frozenset({row["role"]}),
    )
