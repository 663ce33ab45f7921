"""What the workspace pages share: the caller's organisation, the policy in force, labels
for categories, roles, vehicles, municipalities and weekdays in the page's language."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends
from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.accounts.roles import ISSUING_ROLES
from permits.errors import NotFound
from permits.issuance.models import Permit
from permits.issuance.validation import WEEKDAYS, allowed_categories
from permits.organisations.models import Organisation
from permits.policy.rules import CategoryRules, PolicyDocument
from permits.policy.service import policy_at
from permits.web.deps import page_caller_with

IssuerDep = Annotated[Caller, Depends(page_caller_with(ISSUING_ROLES))]
STATUS_LABELS = {
    "active": "Active",
    "expired": "Expired",
    "revoked": "Revoked",
    "replaced": "Replaced",
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Labels:
    """Names in one language for the things a permit mentions."""

    language: str
    policy: PolicyDocument
    gettext: Callable[[str], str]

    def category(self, slug: str) -> str:
        """The decree's name of a category."""
        rules = self.policy.category(slug)
        return rules.names.get(self.language) if rules else slug

    def public_category(self, slug: str) -> str:
        """The short name a checkpoint shows (never a diagnosis)."""
        rules = self.policy.category(slug)
        return rules.public_names.get(self.language) if rules else slug

    def role(self, slug: str) -> str:
        """A person's role on a permit (patient, escort, driver ...)."""
        return self.gettext(slug.replace("_", " "))

    def vehicle(self, slug: str | None) -> str:
        """A kind of vehicle."""
        return self.gettext(slug) if slug else ""

    def municipality(self, code: int | None) -> str:
        """A municipality's name."""
        if code is None:
            return ""
        found = self.policy.municipality(code)
        return found.names.get(self.language) if found else str(code)

    def municipalities(self) -> list[tuple[str, str]]:
        """(code, name) of every municipality, for a select."""
        return [(str(m.code), m.names.get(self.language)) for m in self.policy.municipalities]

    def weekday(self, slug: str) -> str:
        """A weekday's name ("mon" -> Monday)."""
        return self.gettext(WEEKDAY_NAMES[WEEKDAYS.index(slug)])

    def weekdays(self) -> list[tuple[str, str]]:
        """(slug, name) of the weekdays, for checkboxes."""
        return [(slug, self.weekday(slug)) for slug in WEEKDAYS]


def organisation_of(session: Session, caller: Caller) -> Organisation:
    """The caller's organisation."""
    organisation = session.get(Organisation, caller.organisation_id)
    if organisation is None:
        raise NotFound("no such organisation")
    return organisation


def issuable(
    session: Session, caller: Caller, now: datetime
) -> tuple[Organisation, PolicyDocument, list[CategoryRules]]:
    """The caller's organisation, the policy now, and the categories it may issue."""
    organisation = organisation_of(session, caller)
    policy = policy_at(session, now)
    return organisation, policy, allowed_categories(organisation, policy)


def own_permit(session: Session, caller: Caller, permit_id: uuid.UUID) -> Permit:
    """A permit of the caller's own organisation (NotFound for any other, so that other
    organisations' permits are not even confirmed to exist)."""
    permit = session.get(Permit, permit_id)
    if permit is None or permit.organisation_id != caller.organisation_id:
        raise NotFound("no such permit")
    return permit


def end_read(session: Session) -> None:
    """End the request session's reading (releasing SQLite's write lock that a POST's
    session takes) before writing in a session of its own; what was read stays usable."""
    session.expunge_all()
    session.rollback()
