"""Roles, and what each may do."""

from __future__ import annotations

ISSUER = "issuer"
ORG_HEAD = "org_head"
MUNICIPALITY_OFFICER = "municipality_officer"
MINISTRY_OFFICER = "ministry_officer"
REGIONAL_ADMIN = "regional_admin"
POLICE = "police"

ALL_ROLES = (ISSUER, ORG_HEAD, MUNICIPALITY_OFFICER, MINISTRY_OFFICER, REGIONAL_ADMIN, POLICE)
ISSUING_ROLES = frozenset(
    {ISSUER, ORG_HEAD, MUNICIPALITY_OFFICER, MINISTRY_OFFICER, REGIONAL_ADMIN}
)
CHECKING_ROLES = frozenset({POLICE, REGIONAL_ADMIN})

# Who manages an organisation's users and API tokens (for their own organisation).
USER_MANAGING_ROLES = frozenset({ORG_HEAD, REGIONAL_ADMIN})

# The roles an organisation head may give to the users of an organisation of each kind.
ASSIGNABLE_BY_KIND: dict[str, tuple[str, ...]] = {
    "clinic": (ISSUER, ORG_HEAD),
    "village_doctor": (ISSUER, ORG_HEAD),
    "municipality": (MUNICIPALITY_OFFICER, ISSUER, ORG_HEAD),
    "ministry": (MINISTRY_OFFICER, ISSUER, ORG_HEAD),
    "regional_administration": (REGIONAL_ADMIN, ISSUER, POLICE, ORG_HEAD),
}


def assignable_roles(organisation_kind: str) -> tuple[str, ...]:
    """Return the roles users of an organisation of `organisation_kind` may hold."""
    return ASSIGNABLE_BY_KIND.get(organisation_kind, (ISSUER,))
