"""Who is asking: the authenticated user, their organisation and the role they act in."""

from __future__ import annotations

from dataclasses import dataclass

from permits.accounts.roles import REGIONAL_ADMIN
from permits.errors import NotFound, NotPermitted


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller. API tokens carry exactly one role; sessions all of the user's."""

    user_id: int
    username: str
    organisation_id: int
    organisation_code: str
    organisation_kind: str
    roles: frozenset[str]

    @property
    def is_regional_admin(self) -> bool:
        """True when the caller acts for the regional administration."""
        return REGIONAL_ADMIN in self.roles

    def has_any(self, roles: frozenset[str] | set[str]) -> bool:
        """True when the caller holds at least one of `roles`."""
        return bool(self.roles & roles)

    def require_any(self, roles: frozenset[str] | set[str]) -> None:
        """Raise NotPermitted unless the caller holds one of `roles`."""
        if not self.has_any(roles):
            raise NotPermitted(f"this needs one of the roles: {', '.join(sorted(roles))}")

    def require_organisation(self, organisation_id: int) -> None:
        """Raise NotFound unless the caller belongs to `organisation_id` or is a regional admin.

        NotFound rather than NotPermitted, so that ids of other organisations' records are not
        confirmed to exist.
        """
        if organisation_id != self.organisation_id and not self.is_regional_admin:
            raise NotFound("no such permit")

    def label(self) -> str:
        """A short label for audit records."""
        return f"{self.username}@{self.organisation_code}"
