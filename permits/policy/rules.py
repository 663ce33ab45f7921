"""The shape of a policy document, validated when it is loaded (a bad file never loads)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from verifier.model import Role, VehicleKind

LANGUAGES = ("ka", "az", "en")
ORGANISATION_KINDS = (
    "clinic",
    "village_doctor",
    "municipality",
    "ministry",
    "regional_administration",
)
OrganisationKind = Literal[
    "clinic", "village_doctor", "municipality", "ministry", "regional_administration"
]
ROLE_SLUGS = tuple(role.name.lower() for role in Role)
VEHICLE_SLUGS = tuple(kind.name.lower() for kind in VehicleKind)
OPTIONAL_FIELDS = (
    "route_from_address",
    "route_to_address",
    "make_model",
    "beneficiary",
    "reference_document",
    "person_position",
    "purpose_detail",
)


class Names(BaseModel):
    """A label in each of the three languages."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    ka: str = Field(min_length=1)
    az: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, language: str) -> str:
        """Return the label in `language`, falling back to English."""
        return str(getattr(self, language, self.en))

    def as_dict(self) -> dict[str, str]:
        """Return {language: label}."""
        return {"ka": self.ka, "az": self.az, "en": self.en}


class DailyWindow(BaseModel):
    """A daily window in local time, given as ["06:00", "08:00"] in the file."""

    model_config = ConfigDict(frozen=True)
    start: time
    end: time

    @property
    def start_minute(self) -> int:
        """Minutes after midnight at which the window opens."""
        return self.start.hour * 60 + self.start.minute

    @property
    def end_minute(self) -> int:
        """Minutes after midnight at which the window closes."""
        return self.end.hour * 60 + self.end.minute


class CategoryRules(BaseModel):
    """Everything the policy says about one category of permit."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    slug: str = ""
    code: int = Field(ge=1, le=255)
    names: Names
    public_names: Names
    issuer_kinds: tuple[OrganisationKind, ...] = Field(min_length=1)
    roles: dict[str, tuple[int, int]]
    max_persons: int = Field(ge=1, le=50)
    vehicle_required: bool = True
    vehicle_kinds: tuple[str, ...] = ("car",)
    required_fields: tuple[str, ...] = ()
    max_validity_days: int = Field(ge=1, le=366)
    daily_windows: tuple[DailyWindow, ...] = ()
    regulation_end: datetime | None = None
    medical: bool = False
    receipt: bool = False

    @field_validator("daily_windows", mode="before")
    @classmethod
    def _windows_from_pairs(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return [
                {"start": item[0], "end": item[1]} if isinstance(item, list | tuple) else item
                for item in value
            ]
        return value

    @model_validator(mode="after")
    def _check(self) -> CategoryRules:
        for role, (low, high) in self.roles.items():
            if role not in ROLE_SLUGS:
                raise ValueError(f"unknown role {role!r}")
            if not 0 <= low <= high:
                raise ValueError(f"role {role!r}: bad bounds {low}..{high}")
        if not any(low > 0 for low, _ in self.roles.values()):
            raise ValueError("at least one role must be required")
        for kind in self.vehicle_kinds:
            if kind not in VEHICLE_SLUGS:
                raise ValueError(f"unknown vehicle kind {kind!r}")
        for name in self.required_fields:
            if name not in OPTIONAL_FIELDS:
                raise ValueError(f"unknown field {name!r}")
        if self.regulation_end is not None and self.regulation_end.tzinfo is None:
            raise ValueError("regulation_end needs a UTC offset")
        return self

    def allows_role(self, role: str) -> bool:
        """True when a person may be on this permit in `role`."""
        return role in self.roles


class Limits(BaseModel):
    """Thresholds for list freshness and anomaly detection."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    trust_list_stale_hours: int = Field(default=24, ge=1)
    revocation_list_stale_hours: int = Field(default=12, ge=1)
    plate_active_permits_max: int = Field(default=3, ge=1)
    person_active_permits_max: int = Field(default=3, ge=1)
    issuer_daily_volume_factor: float = Field(default=5.0, gt=1)
    checkpoint_max_speed_kmh: int = Field(default=120, ge=1)


class MunicipalityRules(BaseModel):
    """A municipality: its wire code and names."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    code: int = Field(ge=1, le=255)
    names: Names


class PolicyDocument(BaseModel):
    """One version of the policy, as stored and as loaded from a file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = Field(ge=1)
    effective_from: datetime
    note: str = ""
    limits: Limits = Limits()
    municipalities: tuple[MunicipalityRules, ...] = Field(min_length=1)
    categories: dict[str, CategoryRules] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> PolicyDocument:
        if self.effective_from.tzinfo is None:
            raise ValueError("effective_from needs a UTC offset")
        codes = [c.code for c in self.categories.values()]
        if len(codes) != len(set(codes)):
            raise ValueError("two categories share a code")
        muni = [m.code for m in self.municipalities]
        if len(muni) != len(set(muni)):
            raise ValueError("two municipalities share a code")
        for slug, category in self.categories.items():
            object.__setattr__(category, "slug", slug)
        return self

    def category(self, slug: str) -> CategoryRules | None:
        """Return the rules for `slug`, or None when the policy has no such category."""
        return self.categories.get(slug)

    def category_by_code(self, code: int) -> CategoryRules | None:
        """Return the rules for the wire code `code`, or None."""
        for category in self.categories.values():
            if category.code == code:
                return category
        return None

    def municipality(self, code: int) -> MunicipalityRules | None:
        """Return the municipality with wire code `code`, or None."""
        for municipality in self.municipalities:
            if municipality.code == code:
                return municipality
        return None

    def categories_for_kind(self, kind: str) -> list[CategoryRules]:
        """Return the categories an organisation of `kind` may issue under this policy."""
        return [c for c in self.categories.values() if kind in c.issuer_kinds]
