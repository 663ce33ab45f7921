"""Registering organisations."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, select

from permits.accounts.caller import Caller
from permits.audit.service import record
from permits.errors import Conflict, FieldError, ValidationFailed
from permits.organisations.models import Organisation
from permits.policy.rules import ORGANISATION_KINDS

_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")


def create_organisation(
    session: Session,
    *,
    code: str,
    kind: str,
    names: dict[str, str],
    municipality: int,
    address: str,
    now: datetime,
    actor: Caller | None,
    head_name: str | None = None,
    languages: str = "ka,az",
    categories: list[str] | None = None,
) -> Organisation:
    """Register an organisation and commit; raise ValidationFailed or Conflict on bad input."""
    errors = []
    if not _CODE.match(code):
        errors.append(
            FieldError("code", "code_invalid", "a code is 2-16 capital letters, digits and dashes")
        )
    if kind not in ORGANISATION_KINDS:
        errors.append(
            FieldError("kind", "kind_invalid", f"kind is one of {', '.join(ORGANISATION_KINDS)}")
        )
    for language in ("ka", "az", "en"):
        if not names.get(language, "").strip():
            errors.append(
                FieldError(f"name_{language}", "required", f"the name in {language} is required")
            )
    if errors:
        raise ValidationFailed(errors)
    if session.exec(select(Organisation).where(Organisation.code == code)).first() is not None:
        raise Conflict(f"an organisation {code} exists", code="organisation_exists")
    organisation = Organisation(
        code=code,
        kind=kind,
        name_ka=names["ka"].strip(),
        name_az=names["az"].strip(),
        name_en=names["en"].strip(),
        municipality=municipality,
        address=address,
        head_name=head_name,
        languages=languages,
        categories=categories,
        created_at=now,
    )
    session.add(organisation)
    session.flush()
    record(
        session,
        actor=actor,
        action="organisation.create",
        subject_type="organisation",
        subject_id=code,
        at=now,
        details={"kind": kind},
    )
    session.commit()
    return organisation
