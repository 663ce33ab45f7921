"""From a validated permit to the signed QR text (the only place permits meet keys)."""

from __future__ import annotations

from datetime import datetime

from permits.issuance.validation import ValidatedPermit
from permits.trust.keys import SigningKey
from verifier import codec, cose, text
from verifier.model import PermitClaims, Person, Role, VehicleKind, Window


def claims_for(validated: ValidatedPermit, *, permit_id: bytes) -> PermitClaims:
    """Return what the QR carries for `validated`: never addresses, never medical detail."""
    return PermitClaims(
        permit_id=permit_id,
        category=validated.category.code,
        not_before=_epoch(validated.valid_from),
        expires=_epoch(validated.valid_until),
        persons=tuple(
            Person(
                role=Role[p.role.upper()],
                name=f"{p.first_name} {p.last_name}",
                document=p.document,
                foreign_document=p.foreign_document,
            )
            for p in validated.persons
        ),
        plate=validated.plate,
        plate_freeform=validated.plate_freeform,
        vehicle_kind=VehicleKind[validated.vehicle_kind.upper()]
        if validated.vehicle_kind
        else None,
        make_model=validated.make_model,
        route_from=validated.route_from_municipality,
        route_to=validated.route_to_municipality,
        route_note=validated.route_note,
        windows=tuple(Window(start, end) for start, end in validated.windows),
        weekdays=validated.weekdays,
    )


def sign_claims(claims: PermitClaims, *, key: SigningKey) -> str:
    """Encode and sign `claims` with `key`; return the QR text (MP1: + Base45)."""
    message = cose.sign1(codec.encode_claims(claims), private_key=key.private_key, kid=key.kid)
    return text.encode_qr_text(message)


def _epoch(value: datetime) -> int:
    return int(value.timestamp())
