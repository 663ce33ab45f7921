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
from typing import Any

from sqlalchemy import Column, Select, bindparam, select
from sqlalchemy.orm import configure_mappers
from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.certificates.pdf import batch_pdf, certificate_pdf
from permits.certificates.phone import phone_png
from permits.certificates.view import CertificateView, build_view
from permits.certificates.words import resolve_languages
from permits.errors import FieldError, NotFound, ValidationFailed
from permits.issuance.models import Permit, PermitPerson
from permits.organisations.models import Organisation
from permits.policy.models import PolicyVersion
from permits.policy.service import policy_document

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


_PERMIT = Permit.__table__  # type: ignore[attr-defined]
_PERSON = PermitPerson.__table__  # type: ignore[attr-defined]
_ORGANISATION = Organisation.__table__  # type: ignore[attr-defined]
_SUCCESSOR = _PERMIT.alias("successor")
_POLICY = PolicyVersion.__table__  # type: ignore[attr-defined]

_PRIVATE = frozenset({"purpose_detail"})
"""Permit columns never read for a certificate: no certificate may print them."""
_PERMIT_COLUMNS = tuple(c for c in _PERMIT.c if c.name not in _PRIVATE)
_ORGANISATION_COLUMNS = tuple(_ORGANISATION.c)
_PERSON_COLUMNS = tuple(_PERSON.c)
_PERMIT_NAMES = tuple(c.name for c in _PERMIT_COLUMNS)
_ORGANISATION_NAMES = tuple(c.name for c in _ORGANISATION_COLUMNS)
_PERSON_NAMES = tuple(c.name for c in _PERSON_COLUMNS)
_ORGANISATION_AT = len(_PERMIT_COLUMNS)
_PERSON_AT = _ORGANISATION_AT + len(_ORGANISATION_COLUMNS)
_SUCCESSOR_AT = _PERSON_AT + len(_PERSON_COLUMNS)
_POLICY_CREATED_AT = _SUCCESSOR_AT + 1
_CHUNK = 500  # keys per query, well under every database's limit on parameters


def _certificate_select(key: Column[Any]) -> Select[Any]:
    """One query for everything a certificate shows of the permits whose `key` is in :keys:
    the permit, its organisation, its persons in order (one row each, or one row with no
    person), its successor's serial and when its policy version was stored."""
    return (
        select(
            *_PERMIT_COLUMNS,
            *_ORGANISATION_COLUMNS,
            *_PERSON_COLUMNS,
            _SUCCESSOR.c.serial,
            _POLICY.c.created_at,
        )
        .join_from(_PERMIT, _ORGANISATION, _ORGANISATION.c.id == _PERMIT.c.organisation_id)
        .outerjoin(_POLICY, _POLICY.c.version == _PERMIT.c.policy_version)
        .outerjoin(_PERSON, _PERSON.c.permit_id == _PERMIT.c.id)
        .outerjoin(_SUCCESSOR, _SUCCESSOR.c.id == _PERMIT.c.replaced_by_id)
        .where(key.in_(bindparam("keys", expanding=True)))
        .order_by(_PERMIT.c.id, _PERSON.c.position)
    )


_BY_ID = _certificate_select(_PERMIT.c.id)
_BY_SERIAL = _certificate_select(_PERMIT.c.serial)
_BY_TOKEN = _certificate_select(_PERMIT.c.holder_token)


@dataclass(slots=True)
class _Loaded:
    """A permit with what its certificate shows, as read-only snapshots (not in the session)."""

    permit: Permit
    organisation: Organisation
    persons: list[PermitPerson]
    replaced_by_serial: str | None
    policy_created_at: datetime | None  # None: the version is missing (policy_version says so)


def _fields(names: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    return dict(zip(names, values, strict=True))


def _fetch(session: Session, statement: Select[Any], keys: Sequence[object]) -> list[_Loaded]:
    """Load the permits `statement` finds for `keys`, with their organisations and persons."""
    if not keys:
        return []
    configure_mappers()  # model_construct needs configured mappers (a no-op once done)
    connection = session.connection()
    loaded: dict[object, _Loaded] = {}
    organisations: dict[object, Organisation] = {}
    for start in range(0, len(keys), _CHUNK):
        for row in connection.execute(statement, {"keys": keys[start : start + _CHUNK]}):
            values = tuple(row)
            item = loaded.get(values[0])
            if item is None:
                organisation_id = values[_ORGANISATION_AT]
                organisation = organisations.get(organisation_id)
                if organisation is None:
                    organisation = Organisation.model_construct(
                        **_fields(_ORGANISATION_NAMES, values[_ORGANISATION_AT:_PERSON_AT])
                    )
                    organisations[organisation_id] = organisation
                item = _Loaded(
                    permit=Permit.model_construct(
                        **_fields(_PERMIT_NAMES, values[:_ORGANISATION_AT])
                    ),
                    organisation=organisation,
                    persons=[],
                    replaced_by_serial=values[_SUCCESSOR_AT],
                    policy_created_at=values[_POLICY_CREATED_AT],
                )
                loaded[values[0]] = item
            if values[_PERSON_AT] is not None:
                item.persons.append(
                    PermitPerson.model_construct(
                        **_fields(_PERSON_NAMES, values[_PERSON_AT:_SUCCESSOR_AT])
                    )
                )
    return list(loaded.values())


def _load(session: Session, refs: Sequence[str]) -> list[_Loaded | None]:
    """Return the permit for each reference (an id or a serial), None where there is none."""
    parsed = [_parse_ref(ref) for ref in refs]
    ids = list(dict.fromkeys(p for p in parsed if isinstance(p, uuid.UUID)))
    serials = list(dict.fromkeys(p for p in parsed if isinstance(p, str)))
    by_id = {i.permit.id: i for i in _fetch(session, _BY_ID, ids)}
    by_serial = {i.permit.serial: i for i in _fetch(session, _BY_SERIAL, serials)}
    return [
        by_id.get(p) if isinstance(p, uuid.UUID) else by_serial.get(p) if p else None
        for p in parsed
    ]


def _views(
    session: Session,
    loaded: Sequence[_Loaded],
    *,
    languages: str | None,
    now: datetime,
) -> list[CertificateView]:
    """Build the views of the `loaded` permits."""
    views = []
    for item in loaded:
        views.append(
            build_view(
                permit=item.permit,
                persons=item.persons,
                organisation=item.organisation,
                policy=policy_document(
                    session, version=item.permit.policy_version, created_at=item.policy_created_at
                ),
                languages=resolve_languages(languages, item.organisation.languages),
                now=now,
                replaced_by_serial=item.replaced_by_serial,
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
    loaded = _load(session, refs)
    for index, (ref, item) in enumerate(zip(refs, loaded, strict=True)):
        field = "permit" if len(refs) == 1 else f"permits[{index}]"
        if item is None:
            raise NotFound(f"no such permit: {ref}", field=field)
        if caller is not None:
            try:
                caller.require_organisation(item.permit.organisation_id)
            except NotFound as exc:
                raise NotFound(f"no such permit: {ref}", field=field) from exc
    return _views(session, [i for i in loaded if i is not None], languages=languages, now=now)


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
) -> CertificateView:
    """Return the view behind a holder link (no login: the token is the key), or NotFound."""
    if not _TOKEN.match(token):
        raise NotFound("no such certificate")
    loaded = _fetch(session, _BY_TOKEN, [token])
    if not loaded:
        raise NotFound("no such certificate")
    return _views(session, loaded, languages=languages, now=now)[0]


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
