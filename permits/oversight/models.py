"""The checkpoint registry: where each checkpoint stands, so that two checks of one permit
can be compared by distance and time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Table
from sqlmodel import Field, SQLModel

from permits.checks.models import Check
from permits.db import UTCDateTime
from permits.issuance.models import Permit


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


# Indexes that the administration's queries need on the spine's tables, declared here (next to
# migration 0002_admin, which creates them) so that the models and the migrations agree.
_permit: Table = Permit.__table__  # type: ignore[attr-defined]
_check: Table = Check.__table__  # type: ignore[attr-defined]
Index(
    "ix_admin_permit_issued",
    _permit.c.issued_at,
    _permit.c.category,
    _permit.c.organisation_id,
    _permit.c.route_to_municipality,
    _permit.c.status,
    _permit.c.valid_until,
)
Index("ix_admin_permit_kid", _permit.c.kid, _permit.c.status)
Index("ix_admin_check_at", _check.c.checked_at, _check.c.checkpoint, _check.c.result)
Index("ix_admin_check_permit_at", _check.c.permit_id, _check.c.checked_at)
