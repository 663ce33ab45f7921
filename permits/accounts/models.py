"""User, API-token, browser-session and login-attempt tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class User(SQLModel, table=True):
    """A person who works in one organisation and holds one or more roles."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    full_name: str = Field(max_length=200)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    roles: str = Field(max_length=200)  # comma-separated role slugs
    password_hash: str | None = Field(default=None, max_length=200)
    must_change_password: bool = Field(default=False)
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    # when the password (or the one-time password) was last set; one-time passwords expire
    password_set_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def role_set(self) -> frozenset[str]:
        """The user's roles as a set of slugs."""
        return frozenset(r for r in self.roles.split(",") if r)


class ApiToken(SQLModel, table=True):
    """A bearer token for a clinic system: one user, one organisation, one role; shown once."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    role: str = Field(max_length=32)
    name: str = Field(max_length=100)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    prefix: str = Field(max_length=12)
    created_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(SQLModel, table=True):
    """A browser session: the cookie holds a random token, the table only its SHA-256.

    A session ends when the user logs out, changes the password (other sessions), is
    deactivated, after `IDLE_TIMEOUT` without a request, or `ABSOLUTE_TIMEOUT` after login.
    """

    __tablename__ = "web_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=200)


class LoginAttempt(SQLModel, table=True):
    """One attempt to log in, kept to throttle guessing per account and per address."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    address: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    succeeded: bool = False
