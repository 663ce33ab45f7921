"""Request and response shapes of the permit API (nothing internal leaks into a response)."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PersonIn(BaseModel):
    """A person to name on the permit: a Georgian personal number, or a foreign document."""

    model_config = ConfigDict(extra="forbid")
    role: str = Field(max_length=32, examples=["patient"])
    first_name: str = Field(max_length=200, examples=["ნინო"])
    last_name: str = Field(max_length=200, examples=["ბერიძე"])
    personal_number: str | None = Field(default=None, max_length=40, examples=["01024054321"])
    foreign_document_number: str | None = Field(default=None, max_length=40)
    position: str | None = Field(default=None, max_length=200, description="job position")


class VehicleIn(BaseModel):
    """The vehicle: kind, make and model, plate (normalised by the service)."""

    model_config = ConfigDict(extra="forbid")
    kind: str = Field(default="car", max_length=16)
    make_model: str | None = Field(default=None, max_length=200, examples=["Toyota Prius"])
    plate: str | None = Field(default=None, max_length=40, examples=["AA-123-BB"])


class RouteIn(BaseModel):
    """From and to: addresses (kept in the database) and municipalities (in the QR)."""

    model_config = ConfigDict(extra="forbid")
    from_address: str | None = Field(default=None, max_length=400)
    from_municipality: int
    to_address: str | None = Field(default=None, max_length=400)
    to_municipality: int
    note: str | None = Field(
        default=None, max_length=200, description="short, shown at checkpoints"
    )


class WindowIn(BaseModel):
    """A daily window in local time, HH:MM to HH:MM."""

    model_config = ConfigDict(extra="forbid")
    start: str = Field(max_length=5, examples=["06:00"])
    end: str = Field(max_length=5, examples=["08:00"])


class ScheduleIn(BaseModel):
    """When the permit is good: a period, optionally daily windows and weekdays (Asia/Tbilisi)."""

    model_config = ConfigDict(extra="forbid")
    valid_from: datetime
    valid_until: datetime
    windows: list[WindowIn] = Field(default_factory=list, max_length=6)
    weekdays: list[str] = Field(
        default_factory=list, max_length=7, examples=[["mon", "wed", "fri"]]
    )


class PermitCreate(BaseModel):
    """Everything needed to issue a permit."""

    model_config = ConfigDict(extra="forbid")
    category: str = Field(max_length=32, examples=["medical_staff"])
    persons: list[PersonIn] = Field(max_length=50)
    vehicle: VehicleIn | None = None
    route: RouteIn
    schedule: ScheduleIn
    purpose_detail: str | None = Field(default=None, max_length=2000, description="private")
    beneficiary: str | None = Field(default=None, max_length=400, description="private")
    reference_document: str | None = Field(default=None, max_length=200)


class RevokeIn(BaseModel):
    """Why a permit is revoked."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=3, max_length=500)


class ReceiptIn(BaseModel):
    """Who at the clinic received the delivered items."""

    model_config = ConfigDict(extra="forbid")
    received_by: str = Field(min_length=2, max_length=200)
    received_at: datetime | None = None


class PersonOut(BaseModel):
    """A person as the register shows them."""

    role: str
    first_name: str
    last_name: str
    personal_number: str | None
    foreign_document_number: str | None
    position: str | None


class VehicleOut(BaseModel):
    """The vehicle as the register shows it."""

    kind: str | None
    make_model: str | None
    plate: str | None
    plate_freeform: bool


class RouteOut(BaseModel):
    """The route as the register shows it."""

    from_address: str | None
    from_municipality: int | None
    to_address: str | None
    to_municipality: int | None
    note: str | None


class ScheduleOut(BaseModel):
    """The schedule as the register shows it."""

    valid_from: datetime
    valid_until: datetime
    windows: list[WindowIn]
    weekdays: list[str]


class OrganisationRef(BaseModel):
    """The issuing organisation."""

    code: str
    name_ka: str
    name_az: str
    name_en: str


class ReceiptOut(BaseModel):
    """A recorded delivery receipt."""

    received_by: str
    received_at: datetime


class PermitPublic(BaseModel):
    """A permit as returned to its issuer or to the regional administration."""

    id: uuid.UUID
    serial: str
    control_code: str
    category: str
    status: str
    policy_version: int
    issuer: OrganisationRef
    persons: list[PersonOut]
    vehicle: VehicleOut | None
    route: RouteOut
    schedule: ScheduleOut
    purpose_detail: str | None
    beneficiary: str | None
    reference_document: str | None
    qr_text: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    replaced_by: uuid.UUID | None
    replaces: uuid.UUID | None
    receipt: ReceiptOut | None
    holder_path: str
    warnings: list[str] = Field(default_factory=list)


class PermitPage(BaseModel):
    """One page of search results."""

    items: list[PermitPublic]
    total: int
    page: int
    per_page: int


class BatchItemIn(BaseModel):
    """One permit of a batch, with the key that makes its retry harmless."""

    # Printable text only: a control character (NUL above all) cannot be stored on PostgreSQL.
    idempotency_key: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$"
    )
    permit: PermitCreate


class BatchIn(BaseModel):
    """Many permits issued in one request (a clinic system's roster): at most 500."""

    items: list[BatchItemIn] = Field(min_length=1, max_length=500)


class FieldErrorOut(BaseModel):
    """One problem with one field, as every error answer carries it."""

    field: str
    code: str
    message: str


class BatchResultOut(BaseModel):
    """The outcome of one item, in the order sent: 201 issued, 200 issued before under the
    same idempotency key, 4xx refused with its errors (422 invalid, 403 a category the
    organisation may not issue...), and nothing stored for it."""

    index: int
    status: int
    permit: PermitPublic | None = None
    errors: list[FieldErrorOut] = Field(default_factory=list)


class BatchOut(BaseModel):
    """Every item's outcome, and how many were issued and refused."""

    issued: int
    refused: int
    results: list[BatchResultOut]
