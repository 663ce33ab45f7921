"""The administration in a real browser (Debian's chromium through Playwright): the dashboard
draws its charts from our own files, review and revoke, bulk revoke with the typed count, key
revocation, and a policy change. Screenshots go to docs/admin/ when PERMITS_ADMIN_SCREENSHOTS
is set (otherwise to the test's temporary folder)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from permits.issuance.models import Permit
from permits.policy.models import PolicyVersion
from permits.trust.models import IssuerKey
from tests.admin.conftest import CheckMaker
from tests.conftest import Clock
from tests.factories import World, doctor_visit, farm_work, funeral, medical_staff
from tests.helpers import issue
from tests.workspace.web import PASSWORD, set_password

pytestmark = pytest.mark.browser
DOCS = Path(__file__).resolve().parents[2] / "docs" / "admin"


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = DOCS if os.environ.get("PERMITS_ADMIN_SCREENSHOTS") else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    """A desktop-sized page in English."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


def _log_in(page: Any, base: str, engine: Engine, world: World, language: str = "en") -> None:
    set_password(engine, world, "admin")
    page.goto(f"{base}/language/{language}?next=/login")
    page.goto(f"{base}/login?next=/admin")
    page.fill("#f-username", "admin")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/admin")


def _activity(client: TestClient, world: World, clock: Clock, add_check: CheckMaker) -> list[dict]:
    """A week of permits and checks, so that the charts have something to draw."""
    issued = []
    start = clock()
    for day in range(6, -1, -1):
        clock.set(start - timedelta(days=day))
        for _ in range(day % 3 + 1):
            issued.append(issue(client, world, medical_staff(clock())))
        issued.append(issue(client, world, farm_work(clock()), user="bolnisi"))
        if day % 2 == 0:
            issued.append(issue(client, world, doctor_visit(clock())))
            issued.append(issue(client, world, funeral(clock())))
    clock.set(start)
    points = ["MRN-N", "RUS-N", "BOL-E", "MRN-S", "GRD-C"]
    for index, permit in enumerate(issued):
        for hop in range(3):
            at = clock() - timedelta(hours=(index * 7 + hop * 5) % 150)
            result = "valid" if (index + hop) % 6 else ("outside_window", "expired")[hop % 2]
            add_check(permit, points[(index + hop) % len(points)], at, result=result)
    return issued


def test_dashboard_draws_its_charts_from_our_own_files(
    live_server: str,
    desk: Any,
    engine: Engine,
    world: World,
    client: TestClient,
    clock: Clock,
    checkpoints: list[str],
    add_check: CheckMaker,
    shots: Path,
) -> None:
    _activity(client, world, clock, add_check)
    foreign: list[str] = []
    desk.on("request", lambda r: None if r.url.startswith(live_server) else foreign.append(r.url))
    _log_in(desk, live_server, engine, world)
    desk.wait_for_selector("body[data-charts-ready='1']")
    drawn = desk.locator("canvas[data-drawn='1']").count()
    assert drawn == 4
    issued = int(desk.get_by_test_id("issued").inner_text())
    assert issued == len(world.organisations) * 0 + issued and issued > 20
    assert desk.locator("[data-testid=by-checkpoint] tr[data-key='MRN-N']").count() == 1
    assert foreign == []
    desk.set_viewport_size({"width": 1280, "height": 1500})
    desk.screenshot(path=str(shots / "dashboard.png"), full_page=False)
    desk.set_viewport_size({"width": 1280, "height": 900})
    heat = desk.get_by_test_id("checkpoint-hours")
    assert heat.locator("tr[data-key='MRN-N'] td").count() == 24
    heat.screenshot(path=str(shots / "checkpoint-hours.png"))
    desk.select_option("#checkpoint", "MRN-N")
    desk.click("form[data-testid=period] button")
    desk.wait_for_selector("body[data-charts-ready='1']")
    assert "MRN-N" in desk.locator("h2").nth(1).inner_text()
    # Georgian and Azerbaijani render the same page
    for language in ("ka", "az"):
        desk.goto(f"{live_server}/language/{language}?next=/admin")
        assert desk.locator("html").get_attribute("lang") == language
        desk.wait_for_selector("body[data-charts-ready='1']")
    desk.screenshot(path=str(shots / "dashboard-az.png"), full_page=False)


def test_review_search_history_and_revoke(
    live_server: str,
    desk: Any,
    engine: Engine,
    world: World,
    client: TestClient,
    clock: Clock,
    checkpoints: list[str],
    add_check: CheckMaker,
    shots: Path,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    issue(client, world, farm_work(clock()), user="bolnisi")
    add_check(permit, "MRN-N", clock() + timedelta(minutes=3))
    add_check(permit, "RUS-N", clock() + timedelta(minutes=50), result="outside_window")
    _log_in(desk, live_server, engine, world)
    desk.goto(f"{live_server}/admin/permits")
    desk.fill("#f-personal_number", "01024054321")
    desk.click("form[data-testid=filters] button")
    assert "1 permits found" in desk.get_by_test_id("total").inner_text()
    desk.click(f"text={permit['serial']}")
    assert desk.locator("[data-testid=history] li[data-kind='check']").count() == 2
    assert "v1" in desk.get_by_test_id("policy-version").inner_text()
    desk.screenshot(path=str(shots / "permit-history.png"), full_page=True)
    desk.fill("#f-reason", "reported stolen")
    desk.click("form[data-testid=revoke-form] button")
    assert "revoked" in desk.get_by_test_id("flash").inner_text()
    with Session(engine) as session:
        stored = session.get(Permit, uuid.UUID(permit["id"]))
        assert stored is not None and stored.status == "revoked"
    with desk.expect_download() as download:
        desk.goto(f"{live_server}/admin/permits")
        desk.get_by_test_id("export-issuer").click()
    assert download.value.suggested_filename.startswith("permits-issuer-")


def test_bulk_revoke_with_the_typed_count(
    live_server: str,
    desk: Any,
    engine: Engine,
    world: World,
    client: TestClient,
    clock: Clock,
    shots: Path,
) -> None:
    for _ in range(4):
        issue(client, world, farm_work(clock()), user="bolnisi")
    issue(client, world, medical_staff(clock()))
    _log_in(desk, live_server, engine, world)
    desk.goto(f"{live_server}/admin/revoke-bulk")
    desk.select_option("#f-category", "farm_work")
    desk.click("form[data-testid=bulk-scope] button")
    assert "4 active permits would be revoked" in desk.get_by_test_id("bulk-count").inner_text()
    submit = desk.get_by_test_id("bulk-submit")
    desk.fill("#f-reason", "the farm-work regulation ended")
    assert submit.is_disabled()
    desk.fill("#f-typed_count", "3")
    assert submit.is_disabled()
    desk.fill("#f-typed_count", "4")
    assert submit.is_enabled()
    desk.screenshot(path=str(shots / "bulk-revoke.png"), full_page=True)
    submit.click()
    assert "4 permits revoked" in desk.get_by_test_id("flash").inner_text()
    with Session(engine) as session:
        statuses = {(p.category, p.status) for p in session.exec(select(Permit)).all()}
    assert statuses == {("farm_work", "revoked"), ("medical_staff", "active")}


def test_key_revocation_says_how_many_permits_and_publishes(
    live_server: str,
    desk: Any,
    engine: Engine,
    world: World,
    client: TestClient,
    clock: Clock,
    shots: Path,
) -> None:
    for _ in range(3):
        issue(client, world, medical_staff(clock()))
    with Session(engine) as session:
        kid = session.exec(select(Permit.kid)).first()
    _log_in(desk, live_server, engine, world)
    desk.goto(f"{live_server}/admin/organisations")
    desk.screenshot(path=str(shots / "organisations.png"), full_page=False)
    desk.click(f"tr[data-kid='{kid}'] a.danger")
    assert (
        "3 live permits were signed with this key"
        in desk.get_by_test_id("key-touched").inner_text()
    )
    desk.fill("#f-reason", "the clinic's laptop was stolen")
    desk.fill("#f-typed_count", "3")
    desk.screenshot(path=str(shots / "key-revoke.png"), full_page=True)
    desk.get_by_test_id("key-revoke-submit").click()
    assert "3 permits stop verifying" in desk.get_by_test_id("flash").inner_text()
    desk.click("form[action='/admin/lists'] button")
    assert "trust-list.cose" in desk.get_by_test_id("flash").inner_text()
    with Session(engine) as session:
        assert session.exec(select(IssuerKey.status).where(IssuerKey.kid == kid)).one() == "revoked"


def test_policy_change_previews_the_permits_it_shortens(
    live_server: str,
    desk: Any,
    engine: Engine,
    world: World,
    client: TestClient,
    clock: Clock,
    shots: Path,
) -> None:
    issue(client, world, farm_work(clock()), user="bolnisi")
    issue(client, world, farm_work(clock()), user="ministry")
    _log_in(desk, live_server, engine, world)
    desk.goto(f"{live_server}/admin/policy")
    desk.get_by_test_id("edit-farm_work").click()
    desk.fill("#f-regulation_end", (clock() + timedelta(days=4)).strftime("%Y-%m-%d"))
    desk.fill("#f-note", "the regulation ends on Saturday")
    desk.get_by_test_id("policy-preview-button").click()
    assert (
        "2 permits already issued would be shortened"
        in desk.get_by_test_id("policy-touched").inner_text()
    )
    desk.fill("#f-typed_count", "2")
    desk.screenshot(path=str(shots / "policy-change.png"), full_page=True)
    desk.get_by_test_id("policy-save").click()
    assert "Policy version 2 saved" in desk.get_by_test_id("flash").inner_text()
    assert desk.locator("[data-testid=versions] tr[data-version='2']").count() == 1
    with Session(engine) as session:
        assert len(session.exec(select(PolicyVersion)).all()) == 2
        assert {p.policy_version for p in session.exec(select(Permit)).all()} == {1}
