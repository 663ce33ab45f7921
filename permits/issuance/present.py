"""Turning stored permits into API responses."""

from __future__ import annotations

from datetime import datetime

from permits.issuance.plates import format_plate
from permits.issuance.schemas import (
    OrganisationRef,
    PermitPublic,
    PersonOut,
    ReceiptOut,
    RouteOut,
    ScheduleOut,
    VehicleOut,
    WindowIn,
)
from permits.issuance.service import IssuedPermit, effective_status, permit_control_code
from permits.issuance.validation import mask_to_weekdays
from permits.timezone import minutes_to_hhmm


def permit_public(issued: IssuedPermit, *, now: datetime) -> PermitPublic:
    """Return the API view of a permit (for its issuer or the regional administration)."""
    permit, organisation = issued.permit, issued.organisation
    return PermitPublic(
        id=permit.id,
        serial=permit.serial,
        control_code=permit_control_code(permit),
        category=permit.category,
        status=effective_status(permit, now),
        policy_version=permit.policy_version,
        issuer=OrganisationRef(
            code=organisation.code,
            name_ka=organisation.name_ka,
            name_az=organisation.name_az,
            name_en=organisation.name_en,
        ),
        persons=[
            PersonOut(
                role=p.role,
                first_name=p.first_name,
                last_name=p.last_name,
                personal_number=None if p.foreign_document else p.document,
                foreign_document_number=p.document if p.foreign_document else None,
                position=p.job_position,
            )
            for p in issued.persons
        ],
        vehicle=None
        if permit.vehicle_kind is None
        else VehicleOut(
            kind=permit.vehicle_kind,
            make_model=permit.make_model,
            plate=format_plate(permit.plate) if permit.plate else None,
            plate_freeform=permit.plate_freeform,
        ),
        route=RouteOut(
            from_address=permit.route_from_address,
            from_municipality=permit.route_from_municipality,
            to_address=permit.route_to_address,
            to_municipality=permit.route_to_municipality,
            note=permit.route_note,
        ),
        schedule=ScheduleOut(
            valid_from=permit.valid_from,
            valid_until=permit.valid_until,
            windows=[
                WindowIn(start=minutes_to_hhmm(s), end=minutes_to_hhmm(e))
                for s, e in permit.windows
            ],
            weekdays=mask_to_weekdays(permit.weekdays),
        ),
        purpose_detail=permit.purpose_detail,
        beneficiary=permit.beneficiary,
        reference_document=permit.reference_document,
        qr_text=permit.qr_text,
        issued_at=permit.issued_at,
        revoked_at=permit.revoked_at,
        revoke_reason=permit.revoke_reason,
        replaced_by=permit.replaced_by_id,
        replaces=permit.replaces_id,
        receipt=ReceiptOut(received_by=permit.receipt_by_name or "", received_at=permit.receipt_at)
        if permit.receipt_at
        else None,
        holder_path=f"/h/{permit.holder_token}",
        warnings=list(issued.warnings),
    )
