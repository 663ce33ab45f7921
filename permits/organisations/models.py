"""The organisation table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class Organisation(SQLModel, table=True):
    """An organisation that issues permits or oversees them, in one municipality."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    kind: str = Field(max_length=32)
    name_ka: str = Field(max_length=300)
    name_az: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    municipality: int
    address: str = Field(default="", max_length=300)
    head_name: str | None = Field(default=None, max_length=200)
    languages: str = Field(default="ka,az", max_length=16)
    categories: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    next_serial: int = Field(default=0)
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)

    def name(self, language: str) -> str:
        """Return the organisation's name in `language` (ka, az or en)."""
        return {"ka": self.name_ka, "az": self.name_az}.get(language, self.name_en)
