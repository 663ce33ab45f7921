"""Creating and managing users: one-time passwords, password changes, activation, API tokens.

Every function here owns its transaction (it commits) and records an audit event, except
`create_user`, which the spine and the demo call inside their own units of work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.models import ApiToken, User
from permits.accounts.passwords import (
    check_password,
    hash_password,
    one_time_password,
    password_problem,
)
from permits.accounts.roles import (
    ALL_ROLES,
    REGIONAL_ADMIN,
    USER_MANAGING_ROLES,
    assignable_roles,
)
from permits.accounts.sessions import end_sessions
from permits.accounts.tokens import create_token, revoke_token
from permits.audit.service import record
from permits.errors import Conflict, FieldError, NotFound, NotPermitted, ValidationFailed
from permits.organisations.models import Organisation

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


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
        password_set_at=now if password_hash else None,
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


def _require_manager(actor: Caller | None, organisation_id: int) -> None:
    """Org heads manage their own organisation; regional administrators any organisation.

    `actor` None is the command line run by the operator, who may do everything.
    """
    if actor is None:
        return
    actor.require_any(USER_MANAGING_ROLES)
    if organisation_id != actor.organisation_id and REGIONAL_ADMIN not in actor.roles:
        raise NotFound("no such user")


def _check_roles(actor: Caller | None, organisation: Organisation, roles: list[str]) -> None:
    allowed: tuple[str, ...] = (
        ALL_ROLES
        if actor is None or actor.is_regional_admin
        else assignable_roles(organisation.kind)
    )
    bad = [r for r in roles if r not in allowed]
    if not roles or bad:
        raise ValidationFailed(
            [FieldError("roles", "role_invalid", f"choose roles among {', '.join(allowed)}")]
        )


def create_user_with_one_time_password(
    session: Session,
    *,
    actor: Caller | None,
    organisation_id: int,
    username: str,
    full_name: str,
    roles: list[str],
    now: datetime,
) -> tuple[User, str]:
    """Create a user who must change a one-time password at first login; return both.

    The one-time password is returned once and stored only as an argon2id hash; it expires
    after `ONE_TIME_PASSWORD_LIFETIME`. Commits.
    """
    _require_manager(actor, organisation_id)
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    errors = []
    name = username.strip().lower()
    if not USERNAME.match(name):
        errors.append(
            FieldError(
                "username",
                "username_invalid",
                "3-64 lower-case letters, digits, dots, dashes or underscores",
            )
        )
    full = " ".join(full_name.split())
    if not 2 <= len(full) <= 200:
        errors.append(FieldError("full_name", "full_name_invalid", "give the full name"))
    try:
        _check_roles(actor, organisation, roles)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    if session.exec(select(User).where(User.username == name)).first() is not None:
        raise ValidationFailed([FieldError("username", "user_exists", f"{name} is taken")])
    password = one_time_password()
    user = create_user(
        session,
        username=name,
        full_name=full,
        organisation=organisation,
        roles=roles,
        now=now,
        actor=actor,
        password_hash=hash_password(password),
        must_change_password=True,
    )
    return user, password


def _managed_user(session: Session, actor: Caller | None, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("no such user")
    _require_manager(actor, user.organisation_id)
    return user


def reset_password(session: Session, *, actor: Caller | None, user_id: int, now: datetime) -> str:
    """Give a user a new one-time password (returned once), end their sessions, and commit."""
    user = _managed_user(session, actor, user_id)
    password = one_time_password()
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.password_set_at = now
    session.add(user)
    assert user.id is not None
    end_sessions(session, user_id=user.id, now=now)
    record(
        session,
        actor=actor,
        action="user.password_reset",
        subject_type="user",
        subject_id=user.username,
        at=now,
    )
    session.commit()
    return password


def set_active(
    session: Session, *, actor: Caller | None, user_id: int, active: bool, now: datetime
) -> User:
    """Activate or deactivate a user (a deactivated user's sessions end); commit."""
    user = _managed_user(session, actor, user_id)
    if actor is not None and user.id == actor.user_id and not active:
        raise Conflict("you cannot deactivate yourself", code="cannot_deactivate_self")
    user.active = active
    session.add(user)
    assert user.id is not None
    if not active:
        end_sessions(session, user_id=user.id, now=now)
    record(
        session,
        actor=actor,
        action="user.activate" if active else "user.deactivate",
        subject_type="user",
        subject_id=user.username,
        at=now,
    )
    session.commit()
    return user


def change_password(
    session: Session,
    *,
    caller: Caller,
    current: str,
    new: str,
    repeat: str,
    now: datetime,
    keep_session_id: int | None = None,
) -> None:
    """Change the caller's own password after checking the current one; commit.

    The new password is typed twice and must follow the rules (`password_problem`). Every
    other session of the user ends. Raises ValidationFailed naming the field at fault.
    """
    user = session.get(User, caller.user_id)
    if user is None:
        raise NotFound("no such user")
    errors: list[FieldError] = []
    if not check_password(user.password_hash, current):
        errors.append(
            FieldError("current_password", "current_password_wrong", "the password is wrong")
        )
    problem = password_problem(new, username=user.username)
    if problem:
        errors.append(FieldError("new_password", problem, "the new password is not acceptable"))
    elif new != repeat:
        errors.append(
            FieldError("new_password_repeat", "passwords_differ", "the two passwords differ")
        )
    elif check_password(user.password_hash, new):
        errors.append(
            FieldError("new_password", "password_unchanged", "choose a different password")
        )
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_set_at = now
    session.add(user)
    assert user.id is not None
    end_sessions(session, user_id=user.id, now=now, keep_session_id=keep_session_id)
    record(
        session,
        actor=caller,
        action="user.password_change",
        subject_type="user",
        subject_id=user.username,
        at=now,
    )
    session.commit()


def organisation_users(session: Session, *, actor: Caller, organisation_id: int) -> list[User]:
    """Return the users of an organisation the actor manages, by user name."""
    _require_manager(actor, organisation_id)
    return list(
        session.exec(
            select(User).where(User.organisation_id == organisation_id).order_by(col(User.username))
        ).all()
    )


@dataclass(frozen=True, slots=True)
class TokenRow:
    """An API token as the management page lists it (never the token itself)."""

    id: int
    name: str
    username: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def organisation_tokens(session: Session, *, actor: Caller, organisation_id: int) -> list[TokenRow]:
    """Return the API tokens of an organisation the actor manages, newest first."""
    _require_manager(actor, organisation_id)
    rows = session.exec(
        select(ApiToken, User)
        .where(ApiToken.organisation_id == organisation_id)
        .where(col(User.id) == ApiToken.user_id)
        .order_by(col(ApiToken.created_at).desc(), col(ApiToken.id).desc())
    ).all()
    return [
        TokenRow(t.id or 0, t.name, u.username, t.role, t.prefix, t.created_at, t.revoked_at)
        for t, u in rows
    ]


def create_api_token(
    session: Session, *, actor: Caller | None, user_id: int, role: str, name: str, now: datetime
) -> str:
    """Create an API token for a user of the actor's organisation, acting in one `role` the
    user holds; return it (shown once; only its SHA-256 is kept). Commits."""
    user = _managed_user(session, actor, user_id)
    label = " ".join(name.split())
    errors = []
    if not 2 <= len(label) <= 100:
        errors.append(FieldError("name", "token_name_invalid", "name the system, 2-100 letters"))
    if role not in user.role_set:
        errors.append(FieldError("role", "role_not_held", f"{user.username} does not hold {role}"))
    if not user.active:
        errors.append(FieldError("user_id", "user_inactive", f"{user.username} is inactive"))
    if errors:
        raise ValidationFailed(errors)
    try:
        token = create_token(session, user=user, role=role, name=label, now=now)
    except NotPermitted as exc:  # pragma: no cover - checked above
        raise ValidationFailed([FieldError("role", "role_not_held", exc.message)]) from exc
    record(
        session,
        actor=actor,
        action="token.create",
        subject_type="user",
        subject_id=user.username,
        at=now,
        details={"role": role, "name": label, "prefix": token[:10]},
    )
    session.commit()
    return token


def revoke_api_token(
    session: Session, *, actor: Caller | None, token_id: int, now: datetime
) -> None:
    """Revoke an API token of an organisation the actor manages, from `now`; commit."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("no such token")
    _require_manager(actor, row.organisation_id)
    if row.revoked_at is not None:
        raise Conflict("the token is already revoked", code="already_revoked")
    revoke_token(session, token_id=token_id, now=now)
    record(
        session,
        actor=actor,
        action="token.revoke",
        subject_type="api_token",
        subject_id=str(token_id),
        at=now,
        details={"prefix": row.prefix},
    )
    session.commit()
