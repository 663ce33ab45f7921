"""Issuing many permits in one request: each item judged on its own, one transaction for the
valid ones, idempotent per item, and everything issued verifies."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from permits.audit.service import verify_chain
from permits.issuance.models import Permit
from tests.conftest import Clock
from tests.factories import World, farm_work, medical_staff
from tests.helpers import verify_now
from verifier.model import Status


def _staff(clock: Clock, pn: str) -> dict[str, Any]:
    body = medical_staff(clock())
    body["persons"][0]["personal_number"] = pn
    return body


def _count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Permit)).one()


def test_a_batch_issues_the_valid_items_and_reports_the_others(
    client: TestClient, world: World, session: Session, clock: Clock, keystore: Any
) -> None:
    bad = _staff(clock, "123")
    items = [
        {"idempotency_key": "row-1", "permit": _staff(clock, "01024054321")},
        {"idempotency_key": "row-2", "permit": bad},
        {"idempotency_key": "row-3", "permit": farm_work(clock())},  # not a clinic's category
        {"idempotency_key": "row-4", "permit": _staff(clock, "01024054322")},
    ]
    response = client.post(
        "/api/v1/permits/batch", json={"items": items}, headers=world.auth("doctor")
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    statuses = [result["status"] for result in answer["results"]]
    assert statuses[0] == 201 and statuses[3] == 201
    assert statuses[1] == 422 and statuses[2] in (403, 422)
    assert answer["issued"] == 2 and answer["refused"] == 2
    assert any(e["field"].endswith("personal_number") for e in answer["results"][1]["errors"])
    assert _count(session) == 2  # refused items stored nothing
    serials = [answer["results"][i]["permit"]["serial"] for i in (0, 3)]
    assert len(set(serials)) == 2
    for i in (0, 3):
        qr = answer["results"][i]["permit"]["qr_text"]
        assert verify_now(client, keystore, qr, clock()).status is Status.VALID
    assert verify_chain(session).intact


def test_a_retried_batch_issues_nothing_twice(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    items = [
        {"idempotency_key": f"row-{n}", "permit": _staff(clock, f"0102405432{n}")} for n in range(5)
    ]
    first = client.post(
        "/api/v1/permits/batch", json={"items": items}, headers=world.auth("doctor")
    )
    again = client.post(
        "/api/v1/permits/batch", json={"items": items}, headers=world.auth("doctor")
    )
    assert [r["status"] for r in first.json()["results"]] == [201] * 5
    assert [r["status"] for r in again.json()["results"]] == [200] * 5
    ids = [r["permit"]["id"] for r in first.json()["results"]]
    assert [r["permit"]["id"] for r in again.json()["results"]] == ids
    assert _count(session) == 5


def test_batch_limits_and_roles(client: TestClient, world: World, clock: Clock) -> None:
    empty = client.post("/api/v1/permits/batch", json={"items": []}, headers=world.auth("doctor"))
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "items"
    many = {"items": [{"permit": _staff(clock, "01024054321")}] * 501}
    assert (
        client.post("/api/v1/permits/batch", json=many, headers=world.auth("doctor")).status_code
        == 422
    )
    one = {"items": [{"permit": _staff(clock, "01024054321")}]}
    assert (
        client.post("/api/v1/permits/batch", json=one, headers=world.auth("police")).status_code
        == 403
    )
    assert client.post("/api/v1/permits/batch", json=one).status_code == 401


def test_an_idempotency_key_with_a_control_character_is_refused_by_name(
    client: TestClient, world: World, clock: Clock, session: Session
) -> None:
    before = _count(session)
    for key in ("\x00", "row\n1"):
        body = {"items": [{"idempotency_key": key, "permit": _staff(clock, "01024054321")}]}
        response = client.post("/api/v1/permits/batch", json=body, headers=world.auth("doctor"))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "items[0].idempotency_key"
    assert _count(session) == before
