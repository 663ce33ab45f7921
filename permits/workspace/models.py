"""Bulk-upload tables: one job per uploaded roster, one row per line of it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Table
from sqlmodel import Field, SQLModel

from permits.db import UTCDateTime
from permits.issuance.models import Permit, PermitPerson

VALIDATING, VALIDATED, ISSUING, DONE, FAILED = (
    "validating",
    "validated",
    "issuing",
    "done",
    "failed",
)
ROW_VALID, ROW_INVALID, ROW_DUPLICATE, ROW_ISSUED, ROW_EXISTING = (
    "valid",
    "invalid",
    "duplicate",
    "issued",
    "existing",
)


class BulkJob(SQLModel, table=True):
    """An uploaded roster: validated first, issued only when the user confirms.

    `file_sha256` identifies the file; each valid row carries an idempotency key derived
    from its content, so the same roster uploaded twice issues nothing twice.
    """

    __tablename__ = "bulk_job"
    __table_args__ = (Index("ix_bulk_job_org_created", "organisation_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    user_id: int = Field(foreign_key="app_user.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    filename: str = Field(max_length=200)
    file_sha256: str = Field(max_length=64)
    category: str = Field(max_length=32)
    defaults: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16, default=VALIDATING)
    total_rows: int = 0
    checked_rows: int = 0
    valid_rows: int = 0
    invalid_rows: int = 0
    duplicate_rows: int = 0
    existing_rows: int = 0
    issued_rows: int = 0
    error: str | None = Field(default=None, max_length=500)


class BulkRow(SQLModel, table=True):
    """One line of a roster: what it said, what it became, and what was wrong with it."""

    __tablename__ = "bulk_row"
    __table_args__ = (Index("ix_bulk_row_job_line", "job_id", "line"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: uuid.UUID = Field(foreign_key="bulk_job.id")
    line: int
    source: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    request: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    state: str = Field(max_length=16)
    duplicate_of: int | None = None
    idempotency_key: str | None = Field(default=None, max_length=100)
    permit_id: uuid.UUID | None = Field(default=None, foreign_key="permit.id")


# Indexes the register's searches need on the spine's tables, declared here (next to
# migration 0002_workspace, which creates them) so that the models and the migrations agree.
_permit: Table = Permit.__table__  # type: ignore[attr-defined]
_person: Table = PermitPerson.__table__  # type: ignore[attr-defined]
Index(
    "ix_ws_permit_org_status_until",
    _permit.c.organisation_id,
    _permit.c.status,
    _permit.c.valid_until,
)
Index("ix_ws_person_document_permit", _person.c.document, _person.c.permit_id)
Index("ix_ws_person_first_name", _person.c.first_name, _person.c.permit_id)
Index("ix_ws_person_last_name", _person.c.last_name, _person.c.permit_id)
Index("ix_ws_permit_org_plate_tail", _permit.c.organisation_id, _permit.c.plate_tail)  # 0003
