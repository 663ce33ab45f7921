"""The check table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class Check(SQLModel, table=True):
    """One scan of a permit at a checkpoint, with its verdict."""

    __tablename__ = "permit_check"
    __table_args__ = (Index("ix_check_checkpoint_at", "checkpoint", "checked_at"),)

    id: int | None = Field(default=None, primary_key=True)
    permit_id: uuid.UUID | None = Field(default=None, foreign_key="permit.id", index=True)
    cti: str | None = Field(default=None, max_length=10)
    checked_at: datetime = Field(sa_type=UTCDateTime, index=True)
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    checkpoint: str = Field(max_length=100)
    officer_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    result: str = Field(max_length=32)
    reason: str = Field(default="", max_length=300)
    source: str = Field(max_length=16)  # "online" or "device"
    device_check_id: str | None = Field(default=None, max_length=64, unique=True)
