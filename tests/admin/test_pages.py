"""The administration's pages through HTTP: only regional administrators reach them, each
renders in ka/az/en, forms need CSRF and confirmations that name the count."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from permits.audit.models import AuditEvent
from permits.issuance.models import Permit
from permits.policy.models import PolicyVersion
from permits.trust.keystore import KeyStore
from permits.trust.models import IssuerKey
from tests.conftest import Clock
from tests.factories import World, farm_work, medical_staff, patient_delivery
from tests.helpers import issue
from tests.workspace.web import csrf_of, logged_in, login, set_password

GET_PAGES = [
    "/admin",
    "/admin/permits",
    "/admin/revoke-bulk",
    "/admin/anomalies",
    "/admin/organisations",
    "/admin/lists",
    "/admin/policy",
    "/admin/policy/farm_work",
    "/admin/policy/versions/1",
    "/admin/checkpoints",
    "/admin/audit",
    "/admin/audit?verify=1",
    "/admin/assets/chart.umd.min.js",
    "/admin/assets/admin.js",
]


@pytest.mark.parametrize("username", ["doctor", "head", "village", "bolnisi", "ministry", "police"])
def test_only_regional_administrators_reach_the_admin_pages(
    client: TestClient, engine: Engine, world: World, username: str
) -> None:
    logged_in(client, engine, world, username)
    for path in GET_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 403, (username, path, response.status_code)


def test_without_a_session_admin_pages_go_to_the_login(client: TestClient) -> None:
    for path in GET_PAGES:
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


@pytest.mark.parametrize("language", ["ka", "az", "en"])
def test_every_admin_page_renders_for_the_administrator(
    client: TestClient, engine: Engine, world: World, clock: Clock, language: str
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    logged_in(client, engine, world, "admin")
    client.get(f"/language/{language}")
    for path in [*GET_PAGES, f"/admin/permits/{permit['id']}"]:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
    page = client.get("/admin")
    assert f'<html lang="{language}">' in page.text
    assert 'data-chart="chart-days"' in page.text and "chart.umd.min.js" in page.text
    heading = {
        "ka": "დღეში გაცემული ნებართვები",
        "az": "Gündə verilən icazələr",
        "en": "Permits issued per day",
    }[language]
    assert heading in page.text


def test_search_history_and_revoke_one_through_the_pages(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    issue(client, world, farm_work(clock()), user="bolnisi")
    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    page = client.get("/admin/permits", params={"personal_number": "01024054321"})
    assert "1 permits found" in page.text and permit["serial"] in page.text
    assert client.get("/admin/permits", params={"page": "x"}).status_code == 200
    bad_day = client.get("/admin/permits", params={"issued_from": "yesterday"})
    assert bad_day.status_code == 200 and "Enter a date as YYYY-MM-DD." in bad_day.text
    assert client.get("/admin", params={"since": "nope"}).status_code == 422
    page = client.get("/admin/permits", params={"issuer": "BOL-MUNI"})
    assert "1 permits found" in page.text and permit["serial"] not in page.text
    history = client.get(f"/admin/permits/{permit['id']}")
    assert 'data-testid="policy-version"' in history.text and "v1" in history.text
    refused = client.post(
        f"/admin/permits/{permit['id']}/revoke",
        data={"reason": "", "csrf_token": csrf_of(history.text)},
    )
    assert refused.status_code == 422 and "Give the reason." in refused.text
    no_csrf = client.post(f"/admin/permits/{permit['id']}/revoke", data={"reason": "lost"})
    assert no_csrf.status_code == 403
    done = client.post(
        f"/admin/permits/{permit['id']}/revoke",
        data={"reason": "phone lost", "csrf_token": csrf_of(history.text)},
    )
    assert done.status_code == 200 and "revoked" in done.text
    with Session(engine) as session:
        stored = session.get(Permit, uuid.UUID(permit["id"]))
        assert stored is not None and stored.status == "revoked"
        assert stored.revoke_reason == "phone lost"

    export = client.get("/admin/permits/export.xlsx", params={"group": "issuer"})
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True))
    assert rows[-1][:2] == ("Total", 2)


def test_bulk_revoke_page_needs_the_typed_count(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    for _ in range(3):
        issue(client, world, farm_work(clock()), user="bolnisi")
    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    preview = client.get("/admin/revoke-bulk", params={"category": "farm_work"})
    assert "3 active permits would be revoked" in preview.text
    token = csrf_of(preview.text)
    form = {
        "category": "farm_work",
        "issuer": "",
        "confirm_count": "3",
        "reason": "ended",
        "csrf_token": token,
    }
    wrong = client.post("/admin/revoke-bulk", data={**form, "typed_count": "2"})
    assert wrong.status_code == 422 and "Type the number of permits to confirm." in wrong.text
    stale = client.post(
        "/admin/revoke-bulk", data={**form, "confirm_count": "2", "typed_count": "2"}
    )
    assert stale.status_code == 409 and "3 permits are in scope now" in stale.text
    with Session(engine) as session:
        assert all(p.status == "active" for p in session.exec(select(Permit)).all())
    done = client.post("/admin/revoke-bulk", data={**form, "typed_count": "3"})
    assert done.status_code == 200 and "3 permits revoked" in done.text
    with Session(engine) as session:
        assert {p.status for p in session.exec(select(Permit)).all()} == {"revoked"}


def test_policy_page_previews_then_saves_a_version(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    issue(client, world, farm_work(clock()), user="bolnisi")
    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    page = client.get("/admin/policy/farm_work")
    effective = (clock() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:00")
    form = {
        "csrf_token": csrf_of(page.text),
        "window_start": ["06:00", "18:00", ""],
        "window_end": ["08:00", "19:00", ""],
        "regulation_end": (clock() + timedelta(days=3)).strftime("%Y-%m-%d"),
        "max_persons": "5",
        "max_validity_days": "31",
        "effective_from": effective,
        "note": "ends sooner",
    }
    preview = client.post("/admin/policy/farm_work", data={**form, "action": "preview"})
    assert preview.status_code == 200
    assert "1 permit already issued would be shortened" in preview.text
    unconfirmed = client.post("/admin/policy/farm_work", data={**form, "action": "save"})
    assert unconfirmed.status_code == 422
    with Session(engine) as session:
        assert len(session.exec(select(PolicyVersion)).all()) == 1
    saved = client.post(
        "/admin/policy/farm_work", data={**form, "action": "save", "typed_count": "1"}
    )
    assert saved.status_code == 200 and "Policy version 2 saved" in saved.text
    past = client.post(
        "/admin/policy/farm_work",
        data={**form, "action": "preview", "effective_from": "2020-01-01T00:00"},
    )
    assert past.status_code == 422 and "never before" in past.text


def test_key_revoke_page_says_how_many_permits_it_touches(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    issue(client, world, medical_staff(clock()))
    issue(client, world, medical_staff(clock()))
    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    with Session(engine) as session:
        kid = session.exec(select(Permit.kid)).first()
    page = client.get(f"/admin/keys/{kid}/revoke")
    assert "2 live permits were signed with this key" in page.text
    done = client.post(
        f"/admin/keys/{kid}/revoke",
        data={
            "csrf_token": csrf_of(page.text),
            "confirm_count": "2",
            "typed_count": "2",
            "reason": "stolen laptop",
        },
    )
    assert done.status_code == 200 and "2 permits stop verifying" in done.text
    published = client.post("/admin/lists", data={"csrf_token": csrf_of(done.text)})
    assert published.status_code == 200 and "trust-list.cose" in published.text
    assert re.search(r"Lists published: .*trust-list.cose v\d", published.text)


def test_audit_page_points_at_the_first_broken_link(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    issue(client, world, medical_staff(clock()))
    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    assert "The chain is intact" in client.get("/admin/audit?verify=1").text
    from sqlalchemy import text

    with engine.begin() as connection:
        seq = connection.execute(
            text("SELECT seq FROM audit_event WHERE action = 'permit.issue'")
        ).scalar_one()
        connection.execute(
            text("UPDATE audit_event SET actor = 'someone' WHERE seq = :s"), {"s": seq}
        )
    page = client.get("/admin/audit?verify=1")
    assert f"The chain is broken at event {seq}" in page.text
    assert 'data-testid="broken-event"' in page.text
    set_password(engine, world, "doctor")
    assert login(client, "doctor").status_code == 200


POST_PAGES = [
    "/admin/permits/00000000-0000-0000-0000-000000000000/revoke",
    "/admin/revoke-bulk",
    "/admin/organisations",
    "/admin/organisations/MRN-CLINIC/categories",
    "/admin/organisations/MRN-CLINIC/keys",
    "/admin/organisations/MRN-CLINIC/rotate",
    "/admin/keys/0000000000000000/approve",
    "/admin/keys/0000000000000000/revoke",
    "/admin/lists",
    "/admin/policy/farm_work",
    "/admin/policy-limits",
    "/admin/checkpoints",
]


@pytest.mark.parametrize("username", ["doctor", "head", "bolnisi", "ministry", "police"])
def test_admin_forms_refuse_everyone_else_and_change_nothing(
    client: TestClient, engine: Engine, world: World, username: str
) -> None:
    logged_in(client, engine, world, username)
    token = csrf_of(client.get("/account/password").text)
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(AuditEvent)).one()
    for path in POST_PAGES:
        response = client.post(
            path,
            data={
                "csrf_token": token,
                "reason": "x y z",
                "category": "farm_work",
                "confirm_count": "0",
                "typed_count": "0",
            },
            follow_redirects=False,
        )
        assert response.status_code == 403, (username, path, response.status_code)
    with Session(engine) as session:
        after = session.exec(select(func.count()).select_from(AuditEvent)).one()
    assert after == before  # nothing recorded: nothing changed


def test_every_state_change_is_in_the_audit_trail_with_who_when_what(
    client: TestClient, engine: Engine, world: World, clock: Clock, keystore: KeyStore
) -> None:
    delivery = issue(client, world, patient_delivery(clock()))
    client.post(
        f"/api/v1/permits/{delivery['id']}/receipt",
        json={"received_by": "nurse"},
        headers=world.auth("doctor"),
    )
    client.post(
        f"/api/v1/permits/{delivery['id']}/replace",
        json=patient_delivery(clock()),
        headers=world.auth("doctor"),
    )
    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    staff = issue(client, world, medical_staff(clock()))
    history = client.get(f"/admin/permits/{staff['id']}")
    token = csrf_of(history.text)
    client.post(
        f"/admin/permits/{staff['id']}/revoke", data={"reason": "x y z", "csrf_token": token}
    )
    client.post("/admin/organisations/SHM-DOCTOR/keys", data={"csrf_token": token})
    with Session(engine) as session:
        pending = session.exec(select(IssuerKey).where(IssuerKey.status == "pending")).one()
    client.post(f"/admin/keys/{pending.kid}/approve", data={"csrf_token": token})
    client.post("/admin/organisations/MEPA/rotate", data={"csrf_token": token})
    client.post(
        "/admin/organisations/MEPA/categories",
        data={"csrf_token": token, "categories": "veterinary"},
    )
    client.post(
        "/admin/policy/customs",
        data={
            "csrf_token": token,
            "window_start": "",
            "window_end": "",
            "regulation_end": "",
            "max_persons": "2",
            "max_validity_days": "5",
            "effective_from": (clock() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "note": "shorter customs permits",
            "action": "save",
        },
    )
    with Session(engine) as session:
        events = session.exec(select(AuditEvent)).all()
        actions = {e.action for e in events}
        assert {
            "permit.issue",
            "permit.replace",
            "permit.receipt",
            "permit.revoke",
            "key.create",
            "key.approve",
            "policy.add",
            "user.create",
            "user.login",
            "organisation.create",
            "organisation.categories",
        } <= actions
        policy = [e for e in events if e.action == "policy.add"]
        assert len(policy) == 2 and "shorter customs permits" in policy[-1].details
        assert policy[-1].actor == "admin@KK-ADMIN"
        login = next(e for e in events if e.action == "user.login")
        assert login.actor.startswith("admin") and login.at is not None
        revoke = next(e for e in events if e.action == "permit.revoke")
        assert revoke.actor == "admin@KK-ADMIN" and "x y z" in revoke.details
    page = client.get("/admin/audit", params={"action": "key."})
    assert "key.approve" in page.text and "admin@KK-ADMIN" in page.text
    assert "The chain is intact" in client.get("/admin/audit?verify=1").text


def test_limits_change_is_a_new_version_the_anomaly_scan_uses(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    from permits.policy.service import policy_at

    logged_in(client, engine, world, "admin")
    client.get("/language/en")
    page = client.get("/admin/policy")
    assert 'name="plate_active_permits_max" type="number" value="3"' in page.text
    form = {
        "csrf_token": csrf_of(page.text),
        "plate_active_permits_max": "2",
        "person_active_permits_max": "3",
        "issuer_daily_volume_factor": "4.5",
        "checkpoint_max_speed_kmh": "110",
        "trust_list_stale_hours": "24",
        "revocation_list_stale_hours": "12",
        "effective_from": clock().strftime("%Y-%m-%dT%H:%M"),
        "note": "tighter plate limit",
    }
    bad = client.post("/admin/policy-limits", data={**form, "plate_active_permits_max": "0"})
    assert bad.status_code == 422 and "plate_active_permits_max" in bad.text
    saved = client.post("/admin/policy-limits", data=form)
    assert saved.status_code == 200 and "Policy version 2 saved" in saved.text
    with Session(engine) as session:
        limits = policy_at(session, clock() + timedelta(minutes=1)).limits
        assert limits.plate_active_permits_max == 2 and limits.issuer_daily_volume_factor == 4.5
        assert policy_at(session, clock() + timedelta(minutes=1)).categories.keys() == (
            policy_at(session, clock() - timedelta(days=1)).categories.keys()
        )
    for _ in range(3):
        issue(client, world, medical_staff(clock()))
    clock.advance(minutes=5)
    report = client.get("/admin/anomalies")
    assert "Plates on more than 2 active permits (1)" in report.text
