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
