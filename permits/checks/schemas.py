"""Request and response shapes of online verification."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class VerifyIn(BaseModel):
    """A QR text or a typed control code, and where it was checked."""

    model_config = ConfigDict(extra="forbid")
    qr_text: str | None = Field(default=None, max_length=4096)
    control_code: str | None = Field(default=None, max_length=20)
    checkpoint: str = Field(min_length=1, max_length=100)


class PersonView(BaseModel):
    """A person as the officer compares them."""

    role: str
    name: str
    document: str
    foreign_document: bool


class VerifyOut(BaseModel):
    """The verdict and what to compare with the people and the car."""

    status: str
    reason: str
    valid: bool
    control_code: str | None = None
    category: int | None = None
    issuer: str | None = None
    persons: list[PersonView] = Field(default_factory=list)
    plate: str | None = None
    plate_freeform: bool = False
    vehicle_kind: str | None = None
    make_model: str | None = None
    route_from: int | None = None
    route_to: int | None = None
    route_note: str | None = None
    not_before: int | None = None
    expires: int | None = None
    windows: list[list[int]] = Field(default_factory=list)
    weekdays: int | None = None
    warnings: list[str] = Field(default_factory=list)
    check_id: int
