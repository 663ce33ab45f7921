"""Browser sessions and logging in: argon2id passwords, throttling, one-time passwords.

A session token lives only in the user's HttpOnly cookie; the database keeps its SHA-256.
Failed logins are throttled per account and per address: after `ACCOUNT_FAILURES` failures
for one user name (or `ADDRESS_FAILURES` from one address) within `THROTTLE_WINDOW`, further
attempts are refused until `LOCK_TIME` after the last failure, even with the right password.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.models import LoginAttempt, User, WebSession
from permits.accounts.passwords import check_password, hash_password, needs_rehash
from permits.audit.service import record
from permits.errors import NotAuthenticated, PermitsError
from permits.organisations.models import Organisation

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
THROTTLE_WINDOW = timedelta(minutes=15)
LOCK_TIME = timedelta(minutes=15)
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 20
ONE_TIME_PASSWORD_LIFETIME = timedelta(days=7)


class LoginFailed(NotAuthenticated):
    """The user name or the password is wrong (never says which)."""

    default_code = "login_failed"


class LoginLocked(PermitsError):
    """Too many failed attempts: logging in is refused for a while."""

    status_code = 429
    default_code = "login_locked"

    def __init__(self, message: str, *, retry_after: timedelta) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class SessionExpired(NotAuthenticated):
    """The browser session is missing, ended or timed out."""

    default_code = "session_expired"


@dataclass(frozen=True, slots=True)
class SessionUser:
    """Who a browser session belongs to: the caller, and whether the password must change."""

    caller: Caller
    full_name: str
    must_change_password: bool
    session_id: int
    last_seen_at: datetime
    organisation_names: dict[str, str]

    def organisation_name(self, language: str) -> str:
        """The user's organisation in `language` (ka, az or en)."""
        return self.organisation_names.get(language) or self.organisation_names["en"]


def token_digest(token: str) -> str:
    """Return the SHA-256 (hex) under which a session token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def caller_for_user(user: User, organisation: Organisation) -> Caller:
    """Return the caller a user acts as in a browser session (all of the user's roles)."""
    assert user.id is not None and organisation.id is not None
    return Caller(
        user_id=user.id,
        username=user.username,
        organisation_id=organisation.id,
        organisation_code=organisation.code,
        organisation_kind=organisation.kind,
        roles=user.role_set,
    )


def lock_remaining(session: Session, *, username: str, address: str, now: datetime) -> timedelta:
    """Return how long logging in as `username` from `address` stays locked (zero if not)."""
    since = now - THROTTLE_WINDOW
    remaining = timedelta(0)
    for column, value, limit in (
        (LoginAttempt.username, username, ACCOUNT_FAILURES),
        (LoginAttempt.address, address, ADDRESS_FAILURES),
    ):
        count, last = session.exec(
            select(func.count(), func.max(LoginAttempt.at))
            .where(column == value)
            .where(col(LoginAttempt.at) > since)
            .where(col(LoginAttempt.succeeded).is_(False))
        ).one()
        if count >= limit and last is not None:
            last_at = last if isinstance(last, datetime) else datetime.fromisoformat(str(last))
            if last_at.tzinfo is None:
                last_at = last_at.replace(tzinfo=now.tzinfo)
            remaining = max(remaining, last_at + LOCK_TIME - now)
    return max(remaining, timedelta(0))


def login(
    session: Session,
    *,
    username: str,
    password: str,
    address: str,
    user_agent: str | None,
    now: datetime,
) -> tuple[str, SessionUser]:
    """Check the password and start a session; return (cookie token, who), and commit.

    Raises LoginLocked while the account or the address is locked, and LoginFailed for an
    unknown user, a wrong password, an inactive user or organisation, or an expired
    one-time password. Every attempt is recorded (and so counts towards a lock).
    """
    name = username.strip().lower()[:64]
    address = (address or "unknown")[:64]
    remaining = lock_remaining(session, username=name, address=address, now=now)
    if remaining > timedelta(0):
        raise LoginLocked("too many failed attempts; try again later", retry_after=remaining)
    row = session.exec(
        select(User, Organisation)
        .where(User.username == name)
        .where(col(Organisation.id) == User.organisation_id)
    ).first()
    user, organisation = row if row else (None, None)
    good = check_password(user.password_hash if user else None, password)
    if good and user is not None and user.must_change_password:
        set_at = user.password_set_at or user.created_at
        if now - set_at > ONE_TIME_PASSWORD_LIFETIME:
            good = False
    if good and (
        user is None or organisation is None or not user.active or not organisation.active
    ):
        good = False
    session.add(LoginAttempt(username=name, address=address, at=now, succeeded=good))
    if not good or user is None or organisation is None:
        session.commit()
        raise LoginFailed("wrong user name or password")
    assert user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    session.add(user)
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=token_digest(token),
        user_id=user.id,  # type: ignore[arg-type]
        created_at=now,
        last_seen_at=now,
        expires_at=now + ABSOLUTE_TIMEOUT,
        address=address,
        user_agent=(user_agent or "")[:200] or None,
    )
    session.add(web_session)
    session.flush()
    caller = caller_for_user(user, organisation)
    record(
        session,
        actor=caller,
        action="user.login",
        subject_type="user",
        subject_id=user.username,
        at=now,
        details={"address": address},
    )
    session.commit()
    assert web_session.id is not None
    return token, SessionUser(
        caller,
        user.full_name,
        user.must_change_password,
        web_session.id,
        now,
        _names(organisation),
    )


def session_user(session: Session, *, token: str, now: datetime) -> SessionUser:
    """Return who holds the session `token`; raise SessionExpired when it is not valid now.

    Reads only; `touch_session` moves the idle deadline.
    """
    if not token or len(token) > 100:
        raise SessionExpired("no session")
    row = session.exec(
        select(WebSession, User, Organisation)
        .where(WebSession.token_hash == token_digest(token))
        .where(col(User.id) == WebSession.user_id)
        .where(col(Organisation.id) == User.organisation_id)
    ).first()
    if row is None:
        raise SessionExpired("no session")
    web_session, user, organisation = row
    if (
        web_session.ended_at is not None
        or now >= web_session.expires_at
        or now - web_session.last_seen_at >= IDLE_TIMEOUT
        or not user.active
        or not organisation.active
    ):
        raise SessionExpired("the session has ended")
    assert web_session.id is not None
    return SessionUser(
        caller_for_user(user, organisation),
        user.full_name,
        user.must_change_password,
        web_session.id,
        web_session.last_seen_at,
        _names(organisation),
    )


def _names(organisation: Organisation) -> dict[str, str]:
    return {"ka": organisation.name_ka, "az": organisation.name_az, "en": organisation.name_en}


def touch_session(session: Session, *, session_id: int, now: datetime) -> bool:
    """Move a session's idle deadline to `now` (at most once a minute); commit. True if moved."""
    result = session.execute(
        update(WebSession)
        .where(col(WebSession.id) == session_id)
        .where(col(WebSession.last_seen_at) <= now - TOUCH_EVERY)
        .values(last_seen_at=now)
    )
    session.commit()
    return bool(result.rowcount)  # type: ignore[attr-defined]


def logout(session: Session, *, token: str, now: datetime) -> None:
    """End the session `token` (nothing happens for an unknown token), and commit."""
    web_session = session.exec(
        select(WebSession).where(WebSession.token_hash == token_digest(token))
    ).first()
    if web_session is not None and web_session.ended_at is None:
        web_session.ended_at = now
        session.add(web_session)
        user = session.get(User, web_session.user_id)
        record(
            session,
            actor=None,
            action="user.logout",
            subject_type="user",
            subject_id=user.username if user else str(web_session.user_id),
            at=now,
        )
    session.commit()


def end_sessions(
    session: Session, *, user_id: int, now: datetime, keep_session_id: int | None = None
) -> int:
    """End every open session of a user except `keep_session_id`; the caller commits."""
    query = (
        update(WebSession)
        .where(col(WebSession.user_id) == user_id)
        .where(col(WebSession.ended_at).is_(None))
    )
    if keep_session_id is not None:
        query = query.where(col(WebSession.id) != keep_session_id)
    result = session.execute(query.values(ended_at=now))
    return int(result.rowcount)  # type: ignore[attr-defined]
