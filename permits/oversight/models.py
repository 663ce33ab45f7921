"""The checkpoint registry: where each checkpoint stands, so that two checks of one permit
can be compared by distance and time."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime


class Checkpoint(SQLModel, table=True):
    """A police checkpoint; `code` is what devices send as the check's `checkpoint`."""

    __tablename__ = "checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=100, unique=True, index=True)
    name_ka: str = Field(max_length=200)
    name_az: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    municipality: int
    latitude: float
    longitude: float
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)

    def name(self, language: str) -> str:
        """Return the checkpoint's name in `language` (ka, az or en)."""
        return {"ka": self.name_ka, "az": self.name_az}.get(language, self.name_en)
