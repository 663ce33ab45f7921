"""The workspace pages: home, issuing forms, the register, bulk upload, users and tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from permits.accounts.roles import ISSUING_ROLES, USER_MANAGING_ROLES
from permits.api.deps import NowDep, SessionDep
from permits.issuance.validation import allowed_categories
from permits.organisations.models import Organisation
from permits.policy.service import policy_at
from permits.web.deps import PageCallerDep
from permits.web.routing import page_router
from permits.web.templating import NavItem, Pages, add_nav
from permits.workspace.bulk_pages import router as bulk_router
from permits.workspace.issuing import router as issuing_router
from permits.workspace.people_pages import router as people_router
from permits.workspace.register_pages import router as register_router

home_router = page_router()
pages = Pages("workspace")

add_nav(NavItem("home", "/", "Home", "workspace", None, 0))
add_nav(NavItem("issue", "/workspace/issue", "Issue a permit", "workspace", ISSUING_ROLES, 10))
add_nav(NavItem("register", "/workspace/register", "Register", "workspace", ISSUING_ROLES, 20))
add_nav(NavItem("bulk", "/workspace/bulk", "Bulk issuance", "workspace", ISSUING_ROLES, 30))
add_nav(NavItem("users", "/workspace/users", "Users", "workspace", USER_MANAGING_ROLES, 40))
add_nav(NavItem("tokens", "/workspace/tokens", "API tokens", "workspace", USER_MANAGING_ROLES, 50))


@home_router.get("/")
def home(request: Request, caller: PageCallerDep, session: SessionDep, now: NowDep) -> Response:
    """The home page: the user's institution, what they may issue, and their links."""
    organisation = session.get(Organisation, caller.organisation_id)
    assert organisation is not None
    categories = []
    if caller.has_any(ISSUING_ROLES):
        categories = allowed_categories(organisation, policy_at(session, now))
    return pages.render(
        request, "workspace/home.html", {"categories": categories, "organisation": organisation}
    )


router = APIRouter()
router.include_router(home_router)
router.include_router(issuing_router)
router.include_router(register_router)
router.include_router(bulk_router)
router.include_router(people_router)
