"""Issuer keys and published lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class IssuerKey(SQLModel, table=True):
    """An issuer organisation's ES256 key pair; the private half lives encrypted under keys/.

    status: pending (awaiting approval), active (signs new permits), retired (verifies old
    permits until the last one expires), revoked (compromised: its permits stop verifying).
    """

    __tablename__ = "issuer_key"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kid: str = Field(max_length=16, unique=True, index=True)  # hex of 8 bytes
    public_key_der: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(max_length=16, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PublishedList(SQLModel, table=True):
    """A signed trust list or revocation list as published, one row per version."""

    __tablename__ = "published_list"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # "trust" or "revocation"
    version: int
    state: int  # the list-state counter it was built from
    issued_at: datetime = Field(sa_type=UTCDateTime)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    entries: int = 0


class ListState(SQLModel, table=True):
    """Counters bumped, in the same transaction, by every change a list must reflect."""

    __tablename__ = "list_state"

    kind: str = Field(primary_key=True, max_length=16)
    counter: int = 0
