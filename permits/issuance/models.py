"""Permit and permit-person tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class Permit(SQLModel, table=True):
    """A signed movement permit and everything the issuer keeps about it.

    `qr_text` is the signed form; it is written in the same transaction as the row, so a
    signature never exists without its row. `purpose_detail` and `beneficiary` are private:
    they never reach the QR code.
    """

    __table_args__ = (
        UniqueConstraint("organisation_id", "idempotency_key"),
        Index("ix_permit_org_issued", "organisation_id", "issued_at"),
        Index("ix_permit_status_until", "status", "valid_until"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    cti: str = Field(max_length=10, unique=True, index=True)  # hex of the 5-byte permit id
    serial: str = Field(max_length=32, unique=True)
    category: str = Field(max_length=32, index=True)
    policy_version: int = Field(foreign_key="policy_version.version")
    organisation_id: int = Field(foreign_key="organisation.id")
    issued_by_user_id: int = Field(foreign_key="app_user.id")
    kid: str = Field(max_length=16)
    status: str = Field(max_length=16, default="active")
    valid_from: datetime = Field(sa_type=UTCDateTime)
    valid_until: datetime = Field(sa_type=UTCDateTime)
    windows: list[list[int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    weekdays: int | None = None
    vehicle_kind: str | None = Field(default=None, max_length=16)
    make_model: str | None = Field(default=None, max_length=60)
    plate: str | None = Field(default=None, max_length=16, index=True)
    plate_freeform: bool = False
    plate_tail: str | None = Field(default=None, max_length=16)  # plate[2:], for the register
    route_from_address: str | None = Field(default=None, max_length=200)
    route_from_municipality: int | None = None
    route_to_address: str | None = Field(default=None, max_length=200)
    route_to_municipality: int | None = None
    route_note: str | None = Field(default=None, max_length=60)
    purpose_detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    beneficiary: str | None = Field(default=None, max_length=200)
    reference_document: str | None = Field(default=None, max_length=100)
    qr_text: str = Field(sa_column=Column(Text, nullable=False))
    holder_token: str = Field(max_length=32, unique=True)
    idempotency_key: str | None = Field(default=None, max_length=100)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    revoke_reason: str | None = Field(default=None, max_length=500)
    replaced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replaced_by_id: uuid.UUID | None = Field(default=None, foreign_key="permit.id")
    replaces_id: uuid.UUID | None = Field(default=None, foreign_key="permit.id")
    receipt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    receipt_by_name: str | None = Field(default=None, max_length=200)
    receipt_recorded_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")


class PermitPerson(SQLModel, table=True):
    """A person named on a permit, in order."""

    __tablename__ = "permit_person"

    id: int | None = Field(default=None, primary_key=True)
    permit_id: uuid.UUID = Field(foreign_key="permit.id", index=True)
    position: int
    role: str = Field(max_length=32)
    first_name: str = Field(max_length=60)
    last_name: str = Field(max_length=60)
    document: str = Field(max_length=20, index=True)
    foreign_document: bool = False
    job_position: str | None = Field(default=None, max_length=100)
