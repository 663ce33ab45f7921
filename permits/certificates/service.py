"""Finding the permits to render, with the caller's right to see them, and rendering them:
one PDF, one phone image, one PDF of many, a ZIP of phone images, the holder page's view.

Visibility is the spine's: an issuer sees its own organisation's permits, the regional
administration sees all; another organisation's permit is "not found" (404), so its
existence is not confirmed. `caller=None` is the operator at the console (`permits render`),
who holds the database anyway.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.certificates.pdf import batch_pdf, certificate_pdf
from permits.certificates.phone import phone_png
from permits.certificates.view import CertificateView, build_view
from permits.certificates.words import resolve_languages
from permits.errors import FieldError, NotFound, ValidationFailed
from permits.issuance.models import Permit, PermitPerson
from permits.organisations.models import Organisation
from permits.policy.service import policy_version

MAX_BATCH = 2000
"""The most permits one batch renders (a large clinic's whole roster)."""


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered file: its bytes, media type and a file name."""

    content: bytes
    media_type: str
    filename: str


_SERIAL = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,40}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def _parse_ref(ref: str) -> uuid.UUID | str | None:
    """A permit id, a serial (upper case), or None for text that can be neither."""
    text = ref.strip()
    try:
        return uuid.UUID(text)
    except ValueError:
        serial = text.upper()
        return serial if _SERIAL.match(serial) else None


def _load(session: Session, refs: Sequence[str]) -> list[Permit | None]:
    """Return the permit for each reference (an id or a serial), None where there is none."""
    parsed = [_parse_ref(ref) for ref in refs]
    ids = {p for p in parsed if isinstance(p, uuid.UUID)}
    serials = {p for p in parsed if isinstance(p, str)}
    by_id: dict[uuid.UUID, Permit] = {}
    by_serial: dict[str, Permit] = {}
    id_list, serial_list = list(ids), list(serials)
    for start in range(0, max(len(id_list), len(serial_list)), 500):
        if id_list[start : start + 500]:
            for permit in session.exec(
                select(Permit).where(col(Permit.id).in_(id_list[start : start + 500]))
            ).all():
                by_id[permit.id] = permit
        if serial_list[start : start + 500]:
            for permit in session.exec(
                select(Permit).where(col(Permit.serial).in_(serial_list[start : start + 500]))
            ).all():
                by_serial[permit.serial] = permit
    return [
        by_id.get(p) if isinstance(p, uuid.UUID) else by_serial.get(p) if p else None
        for p in parsed
    ]


def _views(
    session: Session,
    permits: list[Permit],
    *,
    languages: str | None,
    now: datetime,
) -> list[CertificateView]:
    """Build the views of `permits` with a few queries for all of them."""
    ids = [p.id for p in permits]
    people: dict[uuid.UUID, list[PermitPerson]] = {}
    for start in range(0, len(ids), 500):
        for person in session.exec(
            select(PermitPerson)
            .where(col(PermitPerson.permit_id).in_(ids[start : start + 500]))
            .order_by(col(PermitPerson.permit_id), col(PermitPerson.position))
        ).all():
            people.setdefault(person.permit_id, []).append(person)
    organisations = {
        o.id: o
        for o in session.exec(
            select(Organisation).where(
                col(Organisation.id).in_({p.organisation_id for p in permits})
            )
        ).all()
    }
    successors = {p.replaced_by_id for p in permits if p.replaced_by_id is not None}
    successor_serials: dict[uuid.UUID, str] = {}
    if successors:
        for successor_id, serial in session.exec(
            select(Permit.id, Permit.serial).where(col(Permit.id).in_(successors))
        ).all():
            successor_serials[successor_id] = serial
    views = []
    for permit in permits:
        organisation = organisations[permit.organisation_id]
        views.append(
            build_view(
                permit=permit,
                persons=people.get(permit.id, []),
                organisation=organisation,
                policy=policy_version(session, permit.policy_version),
                languages=resolve_languages(languages, organisation.languages),
                now=now,
                replaced_by_serial=successor_serials.get(permit.replaced_by_id)
                if permit.replaced_by_id
                else None,
            )
        )
    return views


def certificate_views(
    session: Session,
    *,
    caller: Caller | None,
    refs: Sequence[str],
    languages: str | None = None,
    now: datetime,
) -> list[CertificateView]:
    """Return the views of the permits named by `refs` (ids or serials), in that order.

    Raises ValidationFailed for an empty or too long list or a bad language, and NotFound
    naming the first reference that does not exist or that the caller may not see (nothing
    is rendered then).
    """
    if not refs:
        raise ValidationFailed([FieldError("permits", "required", "name at least one permit")])
    if len(refs) > MAX_BATCH:
        raise ValidationFailed(
            [FieldError("permits", "too_many", f"at most {MAX_BATCH} permits at once")]
        )
    resolve_languages(languages, None)
    permits = _load(session, refs)
    for index, (ref, permit) in enumerate(zip(refs, permits, strict=True)):
        field = "permit" if len(refs) == 1 else f"permits[{index}]"
        if permit is None:
            raise NotFound(f"no such permit: {ref}", field=field)
        if caller is not None:
            try:
                caller.require_organisation(permit.organisation_id)
            except NotFound as exc:
                raise NotFound(f"no such permit: {ref}", field=field) from exc
    return _views(session, [p for p in permits if p is not None], languages=languages, now=now)


def certificate_view(
    session: Session,
    *,
    caller: Caller | None,
    ref: str,
    languages: str | None = None,
    now: datetime,
) -> CertificateView:
    """Return the view of one permit (an id or a serial) the caller may see."""
    return certificate_views(session, caller=caller, refs=[ref], languages=languages, now=now)[0]


def holder_view(
    session: Session, *, token: str, languages: str | None = None, now: datetime
) -> tuple[CertificateView, Permit]:
    """Return the view behind a holder link (no login: the token is the key), or NotFound."""
    if not _TOKEN.match(token):
        raise NotFound("no such certificate")
    permit = session.exec(select(Permit).where(Permit.holder_token == token)).first()
    if permit is None:
        raise NotFound("no such certificate")
    return _views(session, [permit], languages=languages, now=now)[0], permit


def render_pdf(view: CertificateView) -> Rendered:
    """The one-page PDF of a certificate."""
    return Rendered(certificate_pdf(view), "application/pdf", f"{view.serial}.pdf")


def render_png(view: CertificateView) -> Rendered:
    """The phone image of a certificate."""
    return Rendered(phone_png(view), "image/png", f"{view.serial}.png")


def render_batch_pdf(views: Sequence[CertificateView]) -> Rendered:
    """One PDF with a page for each certificate, in order."""
    return Rendered(batch_pdf(views), "application/pdf", "certificates.pdf")


def zip_entries(views: Sequence[CertificateView]) -> Iterator[tuple[str, bytes]]:
    """Yield (file name, PNG) for each view; a serial that repeats gets a numbered name."""
    seen: dict[str, int] = {}
    for view in views:
        count = seen.get(view.serial, 0)
        seen[view.serial] = count + 1
        name = f"{view.serial}.png" if count == 0 else f"{view.serial}-{count + 1}.png"
        yield name, phone_png(view)


def render_batch_zip(views: Sequence[CertificateView]) -> Rendered:
    """A ZIP holding each certificate's phone image, named by serial."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, png in zip_entries(views):
            archive.writestr(name, png)
    return Rendered(out.getvalue(), "application/zip", "certificates.zip")
