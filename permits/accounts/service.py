"""Creating users."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from permits.accounts.caller import Caller
from permits.accounts.models import User
from permits.accounts.roles import ALL_ROLES
from permits.audit.service import record
from permits.errors import Conflict, FieldError, ValidationFailed
from permits.organisations.models import Organisation


def create_user(
    session: Session,
    *,
    username: str,
    full_name: str,
    organisation: Organisation,
    roles: list[str],
    now: datetime,
    actor: Caller | None,
    password_hash: str | None = None,
    must_change_password: bool = True,
) -> User:
    """Create a user in `organisation` with `roles` and commit."""
    unknown = [r for r in roles if r not in ALL_ROLES]
    if unknown or not roles:
        raise ValidationFailed(
            [FieldError("roles", "role_invalid", f"roles are among {', '.join(ALL_ROLES)}")]
        )
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"a user {username} exists", code="user_exists")
    assert organisation.id is not None
    user = User(
        username=username,
        full_name=full_name,
        organisation_id=organisation.id,
        roles=",".join(roles),
        password_hash=password_hash,
        must_change_password=must_change_password,
        created_at=now,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor,
        action="user.create",
        subject_type="user",
        subject_id=username,
        at=now,
        details={"organisation": organisation.code, "roles": roles},
    )
    session.commit()
    return user
