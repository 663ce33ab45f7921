"""What a certificate shows, gathered once and drawn by the PDF, the phone image and the
holder page alike.

Only what a certificate may carry gets in here: the category's public name (never a
diagnosis: "Medical necessity", not the decree's heading), and never `purpose_detail`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from permits.certificates.words import label, moment_words, schedule_words, shared, tr
from permits.issuance.models import Permit, PermitPerson
from permits.issuance.plates import format_plate
from permits.issuance.service import ACTIVE, effective_status, permit_control_code
from permits.organisations.models import Organisation
from permits.policy.rules import PolicyDocument


@dataclass(frozen=True, slots=True)
class PersonLine:
    """A person as printed: role in each language, full name, document number."""

    role: tuple[str, ...]
    name: str
    document: str
    foreign_document: bool
    position: str | None


@dataclass(frozen=True, slots=True)
class CertificateView:
    """Everything a certificate prints, in its languages (tuples follow `languages`)."""

    languages: tuple[str, ...]
    status: str
    category: str
    category_names: tuple[str, ...]
    issuer_names: tuple[str, ...]
    issuer_address: str
    issuer_municipality: str
    serial: str
    control_code: str
    qr_text: str
    persons: tuple[PersonLine, ...]
    vehicle_kind: tuple[str, ...] | None
    make_model: str | None
    plate: str | None
    plate_freeform: bool
    route_from: str | None
    route_to: str | None
    route_note: str | None
    schedule: tuple[str, ...]
    issued_on: tuple[str, ...]
    beneficiary: str | None
    head_name: str | None
    receipt_section: bool
    receipt: tuple[str, ...] | None
    reference_document: str | None
    replaced_by_serial: str | None
    holder_path: str

    @property
    def valid(self) -> bool:
        """True when the permit is active: only then is its QR code printed."""
        return self.status == ACTIVE

    def label(self, message: str) -> str:
        """A label in every language of this certificate, side by side."""
        return label(self.languages, message)

    def each(self, message: str, **values: str) -> tuple[str, ...]:
        """A sentence in each language of this certificate, one entry per language."""
        return tuple(tr(language, message, **values) for language in self.languages)


def _municipality(policy: PolicyDocument, code: int | None, languages: tuple[str, ...]) -> str:
    if code is None:
        return ""
    municipality = policy.municipality(code)
    if municipality is None:
        return str(code)
    return " / ".join(dict.fromkeys(municipality.names.get(lang) for lang in languages))


def _place(address: str | None, municipality: str) -> str | None:
    parts = [p for p in (address, municipality) if p]
    return " · ".join(parts) if parts else None


def build_view(
    *,
    permit: Permit,
    persons: list[PermitPerson],
    organisation: Organisation,
    policy: PolicyDocument,
    languages: tuple[str, ...],
    now: datetime,
    replaced_by_serial: str | None = None,
) -> CertificateView:
    """Gather what the certificate of `permit` shows in `languages`, with its status at `now`."""
    rules = policy.category(permit.category)
    if rules is not None:
        category_names = tuple(rules.public_names.get(lang) for lang in languages)
        receipt_section = rules.receipt
    else:
        category_names = tuple(permit.category for _ in languages)
        receipt_section = False
    schedule = tuple(
        schedule_words(
            valid_from=permit.valid_from,
            valid_until=permit.valid_until,
            windows=permit.windows,
            weekdays=permit.weekdays,
            language=lang,
        )
        for lang in languages
    )
    people = tuple(
        PersonLine(
            role=tuple(dict.fromkeys(shared(lang, p.role.replace("_", " ")) for lang in languages)),
            name=f"{p.first_name} {p.last_name}",
            document=p.document,
            foreign_document=p.foreign_document,
            position=p.job_position,
        )
        for p in persons
    )
    receipt = None
    if receipt_section and permit.receipt_at is not None:
        receipt = tuple(
            tr(
                lang,
                "Receipt recorded by the clinic: {name}, {time}",
                name=permit.receipt_by_name or "",
                time=moment_words(permit.receipt_at, lang),
            )
            for lang in languages
        )
    return CertificateView(
        languages=languages,
        status=effective_status(permit, now),
        category=permit.category,
        category_names=category_names,
        issuer_names=tuple(organisation.name(lang) for lang in languages),
        issuer_address=organisation.address,
        issuer_municipality=_municipality(policy, organisation.municipality, languages),
        serial=permit.serial,
        control_code=permit_control_code(permit),
        qr_text=permit.qr_text,
        persons=people,
        vehicle_kind=None
        if permit.vehicle_kind is None
        else tuple(dict.fromkeys(shared(lang, permit.vehicle_kind) for lang in languages)),
        make_model=permit.make_model,
        plate=format_plate(permit.plate) if permit.plate else None,
        plate_freeform=permit.plate_freeform,
        route_from=_place(
            permit.route_from_address,
            _municipality(policy, permit.route_from_municipality, languages),
        ),
        route_to=_place(
            permit.route_to_address, _municipality(policy, permit.route_to_municipality, languages)
        ),
        route_note=permit.route_note,
        schedule=schedule,
        issued_on=tuple(moment_words(permit.issued_at, lang) for lang in languages),
        beneficiary=permit.beneficiary if receipt_section else None,
        head_name=organisation.head_name if receipt_section else None,
        receipt_section=receipt_section,
        receipt=receipt,
        reference_document=permit.reference_document,
        replaced_by_serial=replaced_by_serial,
        holder_path=f"/h/{permit.holder_token}",
    )
