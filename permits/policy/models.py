"""The policy-version table: each version is a whole document, never edited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class PolicyVersion(SQLModel, table=True):
    """One version of the issuing rules, in force from `effective_from`."""

    __tablename__ = "policy_version"

    version: int = Field(primary_key=True)
    effective_from: datetime = Field(sa_type=UTCDateTime, index=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by_user_id: int | None = Field(default=None, foreign_key="app_user.id")
    note: str = Field(default="", max_length=500)
    document: str = Field(sa_column=Column(Text, nullable=False))  # JSON
