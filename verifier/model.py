"""The permit as the checkpoint sees it: typed values shared by encoder, verifier and server.

These types are the contract between the issuing service (`permits/`) and the checkpoint
side (`verifier/`). They carry only what an officer compares; addresses and medical
detail stay in the issuer's database.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

TIMEZONE = "Asia/Tbilisi"
"""All daily windows and weekdays are read in this zone (UTC+04:00, no daylight saving)."""


class Role(enum.IntEnum):
    """What a person named on a permit is there as (wire values are fixed by format v1)."""

    PATIENT = 1
    ESCORT = 2
    DRIVER = 3
    STAFF_MEMBER = 4
    FAMILY_MEMBER = 5
    FARMER = 6
    PASSENGER = 7
    SHOP_SUPPLIER = 8
    SPECIALIST = 9
    AUTHORISED_PERSON = 10


class VehicleKind(enum.IntEnum):
    """Kind of vehicle (wire values fixed by format v1; absent on the wire means CAR)."""

    CAR = 1
    MINIBUS = 2
    VAN = 3
    TRUCK = 4
    TRACTOR = 5
    MOTORBIKE = 6
    BICYCLE = 7
    AMBULANCE = 8


class Status(str, enum.Enum):  # noqa: UP042 (str() of a member stays "Status.VALID")
    """The one verdict a verification returns. Every failure has its own value."""

    VALID = "valid"
    MALFORMED = "malformed"
    UNKNOWN_ISSUER = "unknown_issuer"
    BAD_SIGNATURE = "bad_signature"
    CATEGORY_NOT_ALLOWED = "category_not_allowed"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    OUTSIDE_WINDOW = "outside_window"
    REVOKED = "revoked"
    REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class Person:
    """A person named on a permit.

    `document` is an 11-digit Georgian personal number, or a foreign document number
    when `foreign_document` is true.
    """

    role: Role
    name: str
    document: str
    foreign_document: bool = False


@dataclass(frozen=True, slots=True)
class Window:
    """A daily time window in local time, minutes after midnight.

    `end` is exclusive; `end < start` wraps past midnight.
    """

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PermitClaims:
    """Everything a permit's QR code carries (CWT claims plus the permit's own fields)."""

    permit_id: bytes  # cti: 5 bytes, also the control code
    category: int
    not_before: int  # epoch seconds (UTC)
    expires: int  # epoch seconds (UTC), exclusive
    persons: tuple[Person, ...]
    plate: str | None = None  # normalised, e.g. "AB123CD" (shown as AB-123-CD)
    plate_freeform: bool = False
    vehicle_kind: VehicleKind | None = None
    make_model: str | None = None
    route_from: int | None = None  # municipality code
    route_to: int | None = None
    route_note: str | None = None
    windows: tuple[Window, ...] = ()
    weekdays: int | None = None  # bitmask, bit 0 = Monday ... bit 6 = Sunday; None = every day


@dataclass(frozen=True, slots=True)
class IssuerKey:
    """One public key of an issuer on the trust list."""

    kid: bytes  # first 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER
    public_key_der: bytes  # SubjectPublicKeyInfo DER, P-256
    status: str = "active"  # "active" signs new permits; "retired" still verifies old ones


@dataclass(frozen=True, slots=True)
class Issuer:
    """An issuer organisation on the trust list."""

    code: str
    names: dict[str, str]  # language code (ka, az, en) -> name
    municipality: int
    categories: tuple[int, ...]
    keys: tuple[IssuerKey, ...]


@dataclass(frozen=True, slots=True)
class Category:
    """A category's wire number, slug and names for display."""

    code: int
    slug: str
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Municipality:
    """A municipality's wire number and names for display."""

    code: int
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class TrustList:
    """The root-signed list of issuers, their keys and what each may issue."""

    version: int
    issued: int  # epoch seconds
    stale_after: int  # seconds after `issued` when a device should warn that the list is old
    issuers: tuple[Issuer, ...]
    categories: tuple[Category, ...] = ()
    municipalities: tuple[Municipality, ...] = ()

    def key_for(self, kid: bytes) -> tuple[Issuer, IssuerKey] | None:
        """Return the issuer and key with this kid, or None when the kid is not on the list."""
        for issuer in self.issuers:
            for key in issuer.keys:
                if key.kid == kid:
                    return issuer, key
        return None


@dataclass(frozen=True, slots=True)
class RevocationPartition:
    """One issuer's revoked and replaced permit ids, each a sorted run of 5-byte ids."""

    revoked: bytes = b""
    replaced: bytes = b""


@dataclass(frozen=True, slots=True)
class RevocationList:
    """The root-signed list of permits that must not verify, partitioned by issuer code."""

    version: int
    issued: int
    stale_after: int
    partitions: dict[str, RevocationPartition] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of checking one QR text: a status, one line why, and what to compare.

    `claims` and `issuer` are set whenever the signature was verified (so an officer can see
    whose permit was revoked or expired); they are None for malformed, unknown issuer and
    bad signature.
    """

    status: Status
    reason: str
    claims: PermitClaims | None = None
    issuer: Issuer | None = None
    control_code: str | None = None
    at: datetime | None = None
    warnings: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        """True only for Status.VALID."""
        return self.status is Status.VALID
