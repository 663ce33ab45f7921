"""Every route, as every role and as a user of another organisation.

`ROUTES` is the table: one row per route (method and path as the application declares it),
whether it is a page (browser session) or the API (bearer token), what to send, and which
of the world's users may use it. Each user is tried; the allowed ones must get through (any
answer but 401, 403, 404, a redirect to log in, or a 5xx), the others must be refused.
`test_every_route_is_in_the_matrix` fails for a route that has no row: add yours here.

The users (tests/factories.py): doctor (issuer, clinic MRN-CLINIC), head (issuer and head of
MRN-CLINIC), village (issuer and head of the village practice SHM-DOCTOR), other_doctor
(issuer, SHM-DOCTOR: the "other organisation" for MRN-CLINIC's records), bolnisi
(municipality officer), ministry (ministry officer), admin (regional administrator and
issuer, KK-ADMIN), police (KK-ADMIN). API tokens carry the user's first role only.
Records named in paths ({permit_id}, {job_id}, {user_id}, {token_id}) belong to MRN-CLINIC.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from permits.accounts.models import ApiToken, User, WebSession
from permits.accounts.service import create_user
from permits.accounts.sessions import ABSOLUTE_TIMEOUT, token_digest
from permits.accounts.tokens import create_token
from permits.db import write_session
from permits.issuance.schemas import PermitCreate
from permits.issuance.service import issue_permit, permit_control_code
from permits.trust.models import IssuerKey
from permits.web.routing import app_routes
from permits.web.security import SESSION_COOKIE
from permits.workspace.bulk import RosterDefaults, create_job, issue_job, start_issuing
from permits.workspace.roster import read_roster
from tests.factories import medical_staff
from tests.workspace.rosters import STAFF, csv_roster
from tests.workspace.web import csrf_of

EVERYONE = frozenset(
    {"doctor", "head", "village", "other_doctor", "bolnisi", "ministry", "admin", "police"}
)
ISSUERS = EVERYONE - {"police"}
MRN_ISSUERS = frozenset({"doctor", "head"})
MEDICAL_STAFF_ISSUERS = frozenset({"doctor", "head", "village", "other_doctor"})
HEADS = frozenset({"head", "village", "admin"})
MRN_HEAD = frozenset({"head"})
REGIONAL = frozenset({"admin"})
# API tokens act in the user's first role: admin's token is a regional administrator's
API_MRN_OR_REGION = frozenset({"doctor", "head", "admin"})
API_ISSUING = frozenset(
    {"doctor", "head", "village", "other_doctor", "bolnisi", "ministry", "admin"}
)
API_CHECKING = frozenset({"police", "admin"})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Case:
    """One route: how to call it and who may."""

    method: str
    path: str
    allowed: frozenset[str]
    api: bool = False
    data: Callable[[dict[str, Any]], Any] | None = None  # form fields or JSON, from fixtures
    files: Callable[[dict[str, Any]], Any] | None = None
    note: str = ""


def _permit_json(fx: dict[str, Any]) -> dict[str, Any]:
    return medical_staff(fx["now"])


ROUTES: list[Case] = [
    # --- the workspace and the web layer (pages: browser session) ---
    Case("GET", "/", EVERYONE),
    Case("GET", "/account/password", EVERYONE),
    Case("GET", "/workspace/issue", ISSUERS),
    Case("GET", "/workspace/issue/{category}", MEDICAL_STAFF_ISSUERS),
    Case(
        "POST",
        "/workspace/issue/{category}",
        MEDICAL_STAFF_ISSUERS,
        data=lambda fx: {"action": "add_person"},
    ),
    Case("GET", "/workspace/permits/{permit_id}", MRN_ISSUERS),
    Case("GET", "/workspace/permits/{permit_id}/qr.png", MRN_ISSUERS),
    Case("GET", "/workspace/permits/{permit_id}/qr.svg", MRN_ISSUERS),
    Case("GET", "/workspace/permits/{permit_id}/replace", MRN_ISSUERS),
    Case(
        "POST",
        "/workspace/permits/{permit_id}/replace",
        MRN_ISSUERS,
        data=lambda fx: {"action": "add_person"},
    ),
    Case(
        "POST",
        "/workspace/permits/{permit_id}/revoke",
        MRN_ISSUERS,
        data=lambda fx: {"reason": "x"},
    ),
    Case(
        "POST",
        "/workspace/permits/{permit_id}/receipt",
        MRN_ISSUERS,
        data=lambda fx: {"received_by": ""},
    ),
    Case("GET", "/workspace/register", ISSUERS),
    Case("GET", "/workspace/register/export", ISSUERS),
    Case("GET", "/workspace/bulk", ISSUERS),
    Case("POST", "/workspace/bulk", ISSUERS, data=lambda fx: {"category": "medical_staff"}),
    Case("GET", "/workspace/bulk/sample/roster.csv", ISSUERS),
    Case("GET", "/workspace/bulk/{job_id}", MRN_ISSUERS),
    Case("GET", "/workspace/bulk/{job_id}/progress", MRN_ISSUERS),
    Case("POST", "/workspace/bulk/{job_id}/confirm", MRN_ISSUERS),
    Case("GET", "/workspace/bulk/{job_id}/images.zip", MRN_ISSUERS),
    Case("GET", "/workspace/bulk/{job_id}/certificates.pdf", MRN_ISSUERS),
    Case("GET", "/workspace/users", HEADS),
    Case("POST", "/workspace/users", HEADS, data=lambda fx: {"username": ""}),
    Case("POST", "/workspace/users/{user_id}/reset", MRN_HEAD),
    Case("POST", "/workspace/users/{user_id}/active", MRN_HEAD, data=lambda fx: {"active": "1"}),
    Case("GET", "/workspace/tokens", HEADS),
    Case("POST", "/workspace/tokens", HEADS, data=lambda fx: {"name": ""}),
    Case("POST", "/workspace/tokens/{token_id}/revoke", MRN_HEAD),
    # --- the API (bearer tokens) ---
    Case(
        "POST",
        "/api/v1/permits",
        MEDICAL_STAFF_ISSUERS - {"head"} | {"head"},
        api=True,
        data=_permit_json,
    ),
    Case(
        "POST",
        "/api/v1/permits/batch",
        API_ISSUING,
        api=True,
        data=lambda fx: {"items": [{"permit": _permit_json(fx)}]},
        note="any issuer may send a batch; each item is judged on its own",
    ),
    Case("GET", "/api/v1/permits", EVERYONE, api=True, note="each sees its own organisation's"),
    Case("GET", "/api/v1/permits/{permit_id}", API_MRN_OR_REGION, api=True),
    Case("GET", "/api/v1/permits/{permit_id}/qr.png", API_MRN_OR_REGION, api=True),
    Case("GET", "/api/v1/permits/{permit_id}/qr.svg", API_MRN_OR_REGION, api=True),
    Case(
        "POST",
        "/api/v1/permits/{permit_id}/revoke",
        API_MRN_OR_REGION,
        api=True,
        data=lambda fx: {"reason": "lost phone"},
    ),
    Case("POST", "/api/v1/permits/{permit_id}/replace", MRN_ISSUERS, api=True, data=_permit_json),
    Case(
        "POST",
        "/api/v1/permits/{permit_id}/receipt",
        API_MRN_OR_REGION,
        api=True,
        data=lambda fx: {"received_by": "reception"},
    ),
    Case(
        "POST",
        "/api/v1/verify",
        API_CHECKING,
        api=True,
        data=lambda fx: {"control_code": fx["control_code"], "checkpoint": "matrix"},
    ),
    Case(
        "POST",
        "/api/v1/checks/device",
        API_CHECKING,
        api=True,
        data=lambda fx: {
            "checks": [
                {
                    "device_check_id": secrets.token_hex(8),
                    "checked_at": fx["now"].isoformat(),
                    "checkpoint": "matrix",
                    "result": "valid",
                    "cti": fx["cti"],
                }
            ]
        },
    ),
    Case("GET", "/api/v1/checkpoints", API_CHECKING, api=True),
    Case("GET", "/api/v1/permits/{permit_id}/certificate.pdf", API_MRN_OR_REGION, api=True),
    Case("GET", "/api/v1/permits/{permit_id}/phone.png", API_MRN_OR_REGION, api=True),
    Case("GET", "/api/v1/permits/{permit_id}/holder-link", API_MRN_OR_REGION, api=True),
    Case(
        "POST",
        "/api/v1/certificates/batch.pdf",
        API_MRN_OR_REGION,
        api=True,
        data=lambda fx: {"permits": [fx["permit_id"]]},
    ),
    Case(
        "POST",
        "/api/v1/certificates/batch.zip",
        API_MRN_OR_REGION,
        api=True,
        data=lambda fx: {"permits": [fx["permit_id"]]},
    ),
    # --- the regional administration's pages (permits/review, permits/oversight) ---
    *[
        Case("GET", path, REGIONAL)
        for path in (
            "/admin",
            "/admin/dashboard",
            "/admin/permits",
            "/admin/permits/export.xlsx",
            "/admin/permits/{permit_id}",
            "/admin/revoke-bulk",
            "/admin/anomalies",
            "/admin/organisations",
            "/admin/keys/{kid}/revoke",
            "/admin/lists",
            "/admin/policy",
            "/admin/policy/versions/{version}",
            "/admin/policy/{category}",
            "/admin/checkpoints",
            "/admin/audit",
            "/admin/assets/chart.umd.min.js",
            "/admin/assets/admin.js",
        )
    ],
    *[
        Case("POST", path, REGIONAL, data=lambda fx: {})
        for path in (
            "/admin/permits/{permit_id}/revoke",
            "/admin/revoke-bulk",
            "/admin/organisations",
            "/admin/organisations/{code}/categories",
            "/admin/organisations/{code}/keys",
            "/admin/organisations/{code}/rotate",
            "/admin/keys/{kid}/approve",
            "/admin/keys/{kid}/revoke",
            "/admin/lists",
            "/admin/policy/{category}",
            "/admin/policy-limits",
            "/admin/checkpoints",
        )
    ],
]

# Open to anyone (no login): the login page, public lists, the checkpoint and holder pages.
PUBLIC = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/assets/{name}"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/login"),
    ("POST", "/login"),
    ("POST", "/logout"),
    (
        "POST",
        "/account/password",
    ),  # needs the user's current password (tests/workspace/test_login.py)
    ("GET", "/language/{code}"),
    ("GET", "/api/v1/lists/trust-list.cose"),
    ("GET", "/api/v1/lists/revocation-list.cose"),
    ("GET", "/api/v1/lists/root-public-key.pem"),
    ("GET", "/verify"),
    ("GET", "/verify/{path:path}"),
    ("GET", "/h/sw.js"),
    ("GET", "/h/{token}"),
    ("GET", "/h/{token}/certificate.png"),
}


@dataclass
class Fixtures:
    """The records the paths name, and a way to act as each user."""

    values: dict[str, Any] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def fixtures(engine, world, keystore, clock) -> Fixtures:
    now = clock()
    fx = Fixtures()
    with write_session(engine) as session:
        issued = issue_permit(
            session,
            caller=world.callers["doctor"],
            request=PermitCreate.model_validate(medical_staff(now)),
            keystore=keystore,
            now=now,
        )
        victim = create_user(
            session,
            username="victim",
            full_name="Victim User",
            organisation=world.organisations["MRN-CLINIC"],
            roles=["issuer"],
            now=now,
            actor=None,
        )
        token_rows = []
        for _ in range(len(EVERYONE)):
            create_token(session, user=victim, role="issuer", name="matrix", now=now)
        session.commit()
        token_rows = session.exec(select(ApiToken).where(ApiToken.user_id == victim.id)).all()
        roster = read_roster(csv_roster(STAFF), "staff.csv")
        job = create_job(
            session,
            caller=world.callers["doctor"],
            roster=roster,
            filename="staff.csv",
            file_sha256="0" * 64,
            category="medical_staff",
            defaults=RosterDefaults(
                valid_from=now.date(),
                valid_until=now.date() + timedelta(days=5),
                from_municipality=5,
                to_municipality=5,
                to_address="Marneuli",
            ),
            now=now,
        )
        start_issuing(session, caller=world.callers["doctor"], job_id=job.id, now=now)
        issue_job(
            engine,
            caller=world.callers["doctor"],
            job_id=job.id,
            keystore=keystore,
            clock=clock,
        )
        for username, user in world.users.items():
            row = session.get(User, user.id)
            assert row is not None
            row.must_change_password = False  # as after their first login
            session.add(row)
            token = secrets.token_urlsafe(32)
            session.add(
                WebSession(
                    token_hash=token_digest(token),
                    user_id=user.id,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=now + ABSOLUTE_TIMEOUT,
                )
            )
            fx.sessions[username] = token
        session.commit()
        kid = session.exec(select(IssuerKey.kid)).first()
    fx.values = {
        "now": now,
        "permit_id": str(issued.permit.id),
        "control_code": permit_control_code(issued.permit),
        "cti": issued.permit.cti,
        "job_id": str(job.id),
        "user_id": str(victim.id),
        "token_ids": [str(t.id) for t in token_rows],
        "category": "medical_staff",
        "kid": kid,
        "code": "MRN-CLINIC",
        "version": "1",
    }
    return fx


def _path(case: Case, fx: Fixtures, attempt: int) -> str:
    values = {k: v for k, v in fx.values.items() if isinstance(v, str)}
    values["token_id"] = fx.values["token_ids"][attempt]
    return case.path.format(**values)


def _refused(case: Case, status: int, location: str) -> bool:
    if status in (401, 403, 404):
        return True
    return (
        not case.api
        and status in (302, 303)
        and location.startswith(("/login", "/account/password"))
    )


@pytest.mark.parametrize("case", ROUTES, ids=lambda c: f"{c.method} {c.path}")
def test_route_as_every_role_and_organisation(case, client, fixtures, world):
    outcomes = {}
    for attempt, username in enumerate(sorted(EVERYONE)):
        path = _path(case, fixtures, attempt)
        client.cookies.clear()
        headers: dict[str, str] = {}
        data = case.data(fixtures.values) if case.data else None
        kwargs: dict[str, Any] = {"follow_redirects": False}
        if case.api:
            headers.update(world.auth(username))
            if data is not None:
                kwargs["json"] = data
        else:
            client.cookies.set(SESSION_COOKIE, fixtures.sessions[username])
            if case.method != "GET":
                home = client.get("/")
                form = dict(data or {})
                form["csrf_token"] = csrf_of(home.text)
                kwargs["data"] = form
        response = client.request(case.method, path, headers=headers, **kwargs)
        assert response.status_code < 500, (username, response.status_code, response.text[:300])
        refused = _refused(case, response.status_code, response.headers.get("location", ""))
        outcomes[username] = "refused" if refused else f"allowed {response.status_code}"
    expected = {u: ("allowed" if u in case.allowed else "refused") for u in EVERYONE}
    actual = {u: o.split()[0] for u, o in outcomes.items()}
    assert actual == expected, outcomes


def test_pages_refuse_without_a_session(client, fixtures):
    for case in ROUTES:
        if case.api:
            continue
        path = _path(case, fixtures, 0)
        response = client.request(case.method, path, follow_redirects=False)
        if case.method == "GET":
            assert response.status_code == 303, path
            assert response.headers["location"].startswith("/login"), path
        else:  # no CSRF token either: refused before anything
            assert response.status_code in (303, 403), path


def test_api_refuses_without_a_token(client, fixtures):
    for case in ROUTES:
        if not case.api:
            continue
        response = client.request(case.method, _path(case, fixtures, 0))
        assert response.status_code == 401, case.path


def test_every_route_is_in_the_matrix(client):
    declared = {(m, p) for m, p in ((c.method, c.path) for c in ROUTES)}
    served = set()
    for methods, path in app_routes(client.app):
        for method in methods - {"HEAD", "OPTIONS"}:
            served.add((method, path))
    missing = sorted(served - declared - PUBLIC)
    assert not missing, f"routes with no row in tests/workspace/test_role_matrix.py: {missing}"
    stale = sorted(declared - served)
    assert not stale, f"rows for routes that no longer exist: {stale}"
