"""User and API-token tables."""

from __future__ import annotations

from datetime import datetime

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
