"""The NUL character, which PostgreSQL cannot store in text, is refused by field name with a
422 wherever a request can carry it (JSON bodies, query strings, paths, forms), and nothing
is stored. Runs on SQLite and on PostgreSQL (where it once was a 500)."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from permits.api.nul_guard import nul_fields
from permits.checks.models import Check
from permits.issuance.models import Permit
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.workspace.test_issue_pages import fill as fill_form
from tests.workspace.test_issue_pages import form_fields
from tests.workspace.web import csrf_of, logged_in


def _fields(response: object) -> list[str]:
    assert response.status_code == 422, response.text  # type: ignore[attr-defined]
    errors = response.json()["errors"]  # type: ignore[attr-defined]
    assert {e["code"] for e in errors} == {"nul_character"}
    return [e["field"] for e in errors]


def test_json_bodies_name_the_field(client: TestClient, world: World, clock: Clock) -> None:
    police, doctor = world.auth("police"), world.auth("doctor")
    verify = {"control_code": "XXX-XXX-XXX", "checkpoint": "a\x00b"}
    assert _fields(client.post("/api/v1/verify", json=verify, headers=police)) == ["checkpoint"]
    record = {
        "device_check_id": "abc",
        "checked_at": clock().isoformat(),
        "checkpoint": "RUS-N",
        "result": "valid",
        "reason": "r\x00",
    }
    device = client.post("/api/v1/checks/device", json={"checks": [record]}, headers=police)
    assert _fields(device) == ["checks[0].reason"]
    permit = medical_staff(clock())
    permit["persons"][0]["first_name"] = "ნი\x00ნო"
    permit["vehicle"]["make_model"] = "Toyota\x00"
    assert sorted(_fields(client.post("/api/v1/permits", json=permit, headers=doctor))) == [
        "persons[0].first_name",
        "vehicle.make_model",
    ]
    batch = {"items": [{"idempotency_key": "\x00", "permit": medical_staff(clock())}]}
    assert _fields(client.post("/api/v1/permits/batch", json=batch, headers=doctor)) == [
        "items[0].idempotency_key"
    ]


def test_queries_name_the_parameter_and_paths_are_not_found(
    client: TestClient, world: World
) -> None:
    doctor = world.auth("doctor")
    assert _fields(client.get("/api/v1/permits?name=a%00b&plate=AB", headers=doctor)) == ["name"]
    by_path = client.get("/api/v1/permits/a%00b", headers=doctor)
    assert by_path.status_code == 404  # names nothing that exists
    assert by_path.json()["errors"][0]["field"] == "path"


def test_nothing_is_stored(client: TestClient, world: World, clock: Clock, engine: object) -> None:
    permit = medical_staff(clock())
    permit["route"]["to_address"] = "Rustavi\x00"
    client.post("/api/v1/permits", json=permit, headers=world.auth("doctor"))
    client.post(
        "/api/v1/verify",
        json={"control_code": "XXX-XXX-XXX", "checkpoint": "\x00"},
        headers=world.auth("police"),
    )
    with Session(engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(func.count()).select_from(Permit)).one() == 0
        assert session.exec(select(func.count()).select_from(Check)).one() == 0


def test_a_literal_backslash_u_is_text_not_nul(client: TestClient, world: World) -> None:
    # "\\u0000" in JSON is the six characters \u0000, which PostgreSQL stores fine.
    body = b'{"control_code": "XXX-XXX-XXX", "checkpoint": "a\\\\u0000"}'
    response = client.post(
        "/api/v1/verify",
        content=body,
        headers={**world.auth("police"), "Content-Type": "application/json"},
    )
    # Refused for its made-up control code, not for a NUL it does not hold.
    assert [e["field"] for e in response.json()["errors"]] == ["control_code"]


def test_forms_name_the_field(client: TestClient, engine: object, world: World) -> None:
    logged_in(client, engine, world, "doctor")
    page = client.get("/workspace/issue/medical_staff")
    data = {**form_fields(page.text), **fill_form("medical_staff"), "action": "issue"}
    data["csrf_token"] = csrf_of(page.text)
    data["vehicle-make_model"] = "Toyota\x00Prius"
    response = client.post("/workspace/issue/medical_staff", data=data)
    assert response.status_code == 422
    with Session(engine) as session:  # type: ignore[arg-type]
        assert session.exec(select(func.count()).select_from(Permit)).one() == 0


def test_nul_fields_walks_keys_lists_and_nesting() -> None:
    value = {"a": ["ok", "x\x00"], "b": {"c\x00": 1, "d": {"e": "\x00"}}, "f": 3}
    assert nul_fields(value) == ["a[1]", "b.c?", "b.d.e"]
