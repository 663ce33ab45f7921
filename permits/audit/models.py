"""Audit event and chain-head tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class AuditEvent(SQLModel, table=True):
    """One state change: who, when, what; `hash` chains it to the event before."""

    __tablename__ = "audit_event"

    seq: int = Field(primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    actor_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor: str = Field(max_length=100)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    action: str = Field(max_length=40, index=True)
    subject_type: str = Field(max_length=40)
    subject_id: str = Field(max_length=64, index=True)
    details: str = Field(sa_column=Column(Text, nullable=False))  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The single row holding the last sequence number and hash; locking it orders writers."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    last_hash: str = Field(default="0" * 64, max_length=64)
