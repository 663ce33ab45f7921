"""Request and response shapes of online verification."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

QR_TEXT_MAX = 4096  # characters of a scanned code
CHECKPOINT_MAX = 100  # characters of a checkpoint's name or code


class VerifyIn(BaseModel):
    """A QR text or a typed control code, and where it was checked."""

    model_config = ConfigDict(extra="forbid")
    qr_text: str | None = Field(default=None, max_length=QR_TEXT_MAX)
    control_code: str | None = Field(default=None, max_length=20)
    checkpoint: str = Field(min_length=1, max_length=CHECKPOINT_MAX)


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


DEVICE_RESULTS = Literal[
    "valid",
    "malformed",
    "unknown_issuer",
    "bad_signature",
    "category_not_allowed",
    "not_yet_valid",
    "expired",
    "outside_window",
    "revoked",
    "replaced",
]


class DeviceCheckIn(BaseModel):
    """One scan recorded on a checkpoint device while it verified offline.

    It carries no names or personal numbers: only the permit id (cti), the verdict, when and
    where. `device_check_id` is made by the device (a random UUID) and makes uploads
    idempotent: sending the same record again stores nothing new.
    """

    model_config = ConfigDict(extra="forbid")
    device_check_id: str = Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    checked_at: AwareDatetime
    checkpoint: str = Field(min_length=1, max_length=100)
    result: DEVICE_RESULTS
    reason: str = Field(default="", max_length=300)
    cti: str | None = Field(default=None, pattern=r"^[0-9a-f]{10}$")


class DeviceChecksIn(BaseModel):
    """A batch of device check records (at most 500 per request)."""

    model_config = ConfigDict(extra="forbid")
    checks: list[DeviceCheckIn] = Field(min_length=1, max_length=500)


class DeviceChecksOut(BaseModel):
    """Which records were stored now and which the server already had (both are done)."""

    stored: list[str]
    duplicates: list[str]


class CheckpointOut(BaseModel):
    """A registered checkpoint as a device offers it: the code it records, and its names."""

    code: str
    names: dict[str, str]  # ka, az, en
    municipality: int


class CheckpointsOut(BaseModel):
    """The active checkpoints of the registry, by code."""

    checkpoints: list[CheckpointOut]
