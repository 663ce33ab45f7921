"""The spine end to end through the API: issue, verify with the library, revoke, replace,
receipts, search, and every kind of bad input leaving nothing behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func
from sqlmodel import Session, select

from permits.audit.models import AuditEvent
from permits.issuance.models import Permit, PermitPerson
from permits.issuance.plates import format_plate
from permits.organisations.models import Organisation
from permits.trust.keystore import KeyStore
from tests.conftest import Clock, local
from tests.factories import (
    SAMPLES,
    World,
    doctor_visit,
    farm_work,
    funeral,
    medical_staff,
    patient_delivery,
)
from tests.helpers import device_verifier, issue, issue_sample, verify_now
from verifier.model import Role, Status


@pytest.mark.parametrize("category", sorted(SAMPLES))
def test_an_issued_permit_of_each_core_category_verifies(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock, category: str
) -> None:
    permit = issue_sample(client, world, category, clock())
    assert permit["status"] == "active"
    assert permit["qr_text"].startswith("MP1:")
    assert permit["serial"].startswith(permit["issuer"]["code"] + "-")
    valid_from = clock() if category != "doctor_visit" else clock() + timedelta(days=1)
    at = valid_from.replace(hour=7, minute=0) if category == "farm_work" else valid_from
    if category in ("doctor_visit", "patient_delivery"):
        at = local(at.year, at.month, at.day, 16 if category == "patient_delivery" else 10)
    result = verify_now(client, keystore, permit["qr_text"], at)
    assert result.status is Status.VALID, result.reason
    assert result.issuer is not None and result.issuer.code == permit["issuer"]["code"]
    assert result.control_code == permit["control_code"]
    claims = result.claims
    assert claims is not None
    assert [p.document for p in claims.persons] == [
        p["personal_number"] or p["foreign_document_number"] for p in permit["persons"]
    ]
    assert (
        claims.persons[0].name
        == f"{permit['persons'][0]['first_name']} {permit['persons'][0]['last_name']}"
    )
    assert permit["vehicle"]["plate"] == format_plate(claims.plate or "")  # shown AB-123-CD
    assert permit["vehicle"]["plate"].count("-") == 2


def test_medical_detail_and_addresses_never_reach_the_qr(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, patient_delivery(clock()))
    claims = verify_now(client, keystore, permit["qr_text"], clock()).claims
    assert claims is not None
    carried = repr(claims)
    for private in ("food and clothes", "ნანა ბერიძე", "Aghmashenebeli", "26 May Street"):
        assert private not in carried
    assert permit["purpose_detail"] == "food and clothes"  # kept for the issuer's register


def test_one_changed_character_breaks_the_permit(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    qr = issue(client, world, medical_staff(clock()))["qr_text"]
    verifier = device_verifier(client, keystore)
    assert verifier.verify(qr, at=clock()).status is Status.VALID
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    failures = 0
    for position in range(4, len(qr), 7):
        changed = alphabet[(alphabet.index(qr[position]) + 1) % len(alphabet)]
        tampered = qr[:position] + changed + qr[position + 1 :]
        result = verifier.verify(tampered, at=clock())
        assert result.status is not Status.VALID
        failures += 1
    assert failures > 20


def test_revoked_permit_fails_after_the_lists_are_fetched(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    response = client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "lost phone"},
        headers=world.auth("doctor"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    result = verify_now(client, keystore, permit["qr_text"], clock())
    assert result.status is Status.REVOKED
    again = client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "twice"},
        headers=world.auth("doctor"),
    )
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_revoked"


def test_replaced_permit_fails_and_points_to_its_successor(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    old = issue(client, world, medical_staff(clock()))
    body = medical_staff(clock())
    body["vehicle"]["plate"] = "ZZ-999-ZZ"
    response = client.post(
        f"/api/v1/permits/{old['id']}/replace", json=body, headers=world.auth("doctor")
    )
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] != old["id"] and new["control_code"] != old["control_code"]
    assert new["replaces"] == old["id"]
    old_now = client.get(f"/api/v1/permits/{old['id']}", headers=world.auth("doctor")).json()
    assert old_now["status"] == "replaced" and old_now["replaced_by"] == new["id"]
    verifier = device_verifier(client, keystore)
    assert verifier.verify(old["qr_text"], at=clock()).status is Status.REPLACED
    assert verifier.verify(new["qr_text"], at=clock()).status is Status.VALID
    twice = client.post(
        f"/api/v1/permits/{old['id']}/replace", json=body, headers=world.auth("doctor")
    )
    assert twice.status_code == 409


def test_farm_permit_is_valid_in_its_windows_only(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    permit = issue(client, world, farm_work(clock()), user="bolnisi")
    assert permit["schedule"]["windows"] == [
        {"start": "06:00", "end": "08:00"},
        {"start": "18:00", "end": "19:00"},
    ]
    verifier = device_verifier(client, keystore)
    tomorrow = clock() + timedelta(days=1)
    for hour, minute, expected in [
        (6, 30, Status.VALID),
        (18, 30, Status.VALID),
        (12, 0, Status.OUTSIDE_WINDOW),
        (8, 0, Status.OUTSIDE_WINDOW),
    ]:
        at = local(tomorrow.year, tomorrow.month, tomorrow.day, hour, minute)
        assert verifier.verify(permit["qr_text"], at=at).status is expected, (hour, minute)


def test_a_farm_permit_at_ten_is_refused(client: TestClient, world: World, clock: Clock) -> None:
    body = farm_work(clock())
    body["schedule"]["windows"] = [{"start": "10:00", "end": "11:00"}]
    response = client.post("/api/v1/permits", json=body, headers=world.auth("bolnisi"))
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "schedule.windows[0]" and error["code"] == "outside_policy_windows"


def _count(session: Session) -> tuple[int, int, int, int]:
    session.expire_all()
    serials = session.exec(select(func.sum(Organisation.next_serial))).one() or 0
    return (
        session.exec(select(func.count()).select_from(Permit)).one(),
        session.exec(select(func.count()).select_from(PermitPerson)).one(),
        session.exec(select(func.count()).select_from(AuditEvent)).one(),
        int(serials),
    )


def _mutations() -> list[tuple[str, str, str, Any]]:
    def set_path(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
        target: Any = body
        parts = path.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if part.isdigit() else target[part]
        last = parts[-1]
        if last.isdigit():
            target[int(last)] = value
        else:
            target[last] = value
        return body

    return [
        (
            "persons.0.personal_number",
            "1234",
            "persons[0].personal_number",
            "personal_number_invalid",
        ),
        ("persons.0.first_name", "123", "persons[0].first_name", "name_invalid"),
        ("persons.0.role", "pilot", "persons[0].role", "role_not_allowed"),
        ("vehicle.plate", "@@@", "vehicle.plate", "plate_invalid"),
        ("vehicle.kind", "tank", "vehicle.kind", "vehicle_kind_not_allowed"),
        ("route.to_municipality", 99, "route.to_municipality", "unknown_municipality"),
        (
            "schedule.valid_until",
            "2026-11-30T10:00:00+04:00",
            "schedule.valid_until",
            "ends_before_start",
        ),
        ("schedule.valid_from", "2026-11-20T10:00:00+04:00", "schedule.valid_from", "in_past"),
        ("schedule.valid_until", "2027-03-01T10:00:00+04:00", "schedule.valid_until", "too_long"),
        ("schedule.weekdays", ["someday"], "schedule.weekdays", "weekday_invalid"),
        ("category", "space_travel", "category", "unknown_category"),
        ("persons", [], "persons", "required"),
    ], set_path


@pytest.mark.parametrize("case", range(12))
def test_bad_input_names_its_field_and_stores_nothing(
    client: TestClient, world: World, session: Session, clock: Clock, case: int
) -> None:
    mutations, set_path = _mutations()
    path, value, field, code = mutations[case]
    before = _count(session)
    body = set_path(medical_staff(clock()), path, value)
    response = client.post("/api/v1/permits", json=body, headers=world.auth("doctor"))
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert any(e["field"] == field and e["code"] == code for e in errors), errors
    assert all(e["message"] for e in errors)
    assert _count(session) == before


def test_too_many_persons_and_missing_role_are_clear_errors(
    client: TestClient, world: World, clock: Clock
) -> None:
    body = doctor_visit(clock())
    body["persons"].append(dict(body["persons"][1], personal_number="01001099999"))
    response = client.post("/api/v1/permits", json=body, headers=world.auth("doctor"))
    codes = {e["code"] for e in response.json()["errors"]}
    assert response.status_code == 422 and {"too_many_persons", "role_too_many"} <= codes
    body = doctor_visit(clock())
    body["persons"] = body["persons"][1:]
    response = client.post("/api/v1/permits", json=body, headers=world.auth("doctor"))
    assert response.status_code == 422
    assert "role_missing" in {e["code"] for e in response.json()["errors"]}


def test_a_farm_permit_past_the_regulation_end_is_refused(
    client: TestClient, world: World, clock: Clock
) -> None:
    clock.set(local(2027, 4, 20, 9))
    body = farm_work(clock())
    body["schedule"]["valid_until"] = "2027-04-30T19:00:00+04:00"
    response = client.post("/api/v1/permits", json=body, headers=world.auth("bolnisi"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "after_regulation_end"


def test_a_category_the_organisation_may_not_issue_is_refused(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    before = _count(session)
    response = client.post("/api/v1/permits", json=farm_work(clock()), headers=world.auth("doctor"))
    assert response.status_code == 403
    assert response.json()["errors"][0] == {
        "field": "category",
        "code": "category_not_allowed",
        "message": "MRN-CLINIC may not issue farm_work permits",
    }
    assert _count(session) == before


def test_wrong_types_are_422_with_the_field(client: TestClient, world: World, clock: Clock) -> None:
    body = medical_staff(clock())
    body["route"]["from_municipality"] = "Marneuli"
    body["schedule"]["valid_from"] = "tomorrow"
    response = client.post("/api/v1/permits", json=body, headers=world.auth("doctor"))
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"route.from_municipality", "schedule.valid_from"} <= fields


def test_free_form_plate_is_accepted_and_flagged(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    body = medical_staff(clock())
    body["vehicle"]["plate"] = "TBS 1234"
    permit = issue(client, world, body)
    assert permit["vehicle"]["plate_freeform"] is True and "plate_freeform" in permit["warnings"]
    assert permit["vehicle"]["plate"] == "TBS1234"
    claims = verify_now(client, keystore, permit["qr_text"], clock()).claims
    assert claims is not None and claims.plate == "TBS1234" and claims.plate_freeform


def test_foreign_document_is_flagged_in_the_qr(
    client: TestClient, world: World, keystore: KeyStore, clock: Clock
) -> None:
    body = funeral(clock())
    body["persons"][2] = {
        "role": "driver",
        "first_name": "Rəşad",
        "last_name": "Məmmədov",
        "foreign_document_number": "C01234567",
    }
    permit = issue(client, world, body)
    claims = verify_now(client, keystore, permit["qr_text"], clock()).claims
    assert claims is not None
    driver = claims.persons[2]
    assert driver.role is Role.DRIVER and driver.foreign_document and driver.document == "C01234567"
    assert driver.name == "Rəşad Məmmədov"


def test_delivery_receipt_is_recorded_once_and_only_for_deliveries(
    client: TestClient, world: World, clock: Clock
) -> None:
    delivery = issue(client, world, patient_delivery(clock()))
    url = f"/api/v1/permits/{delivery['id']}/receipt"
    response = client.post(url, json={"received_by": "ward nurse Eka"}, headers=world.auth("head"))
    assert response.status_code == 200, response.text
    assert response.json()["receipt"]["received_by"] == "ward nurse Eka"
    assert (
        client.post(url, json={"received_by": "again"}, headers=world.auth("doctor")).status_code
        == 409
    )
    staff = issue(client, world, medical_staff(clock()))
    other = client.post(
        f"/api/v1/permits/{staff['id']}/receipt",
        json={"received_by": "x y"},
        headers=world.auth("doctor"),
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "receipt_not_applicable"


def test_nothing_is_writable_anonymously_or_across_organisations(
    client: TestClient, world: World, clock: Clock
) -> None:
    assert client.post("/api/v1/permits", json=medical_staff(clock())).status_code == 401
    assert (
        client.post(
            "/api/v1/permits",
            json=medical_staff(clock()),
            headers={"Authorization": "Bearer pmt_nope"},
        ).status_code
        == 401
    )
    permit = issue(client, world, medical_staff(clock()))
    for user in ("village", "other_doctor", "bolnisi"):
        assert (
            client.get(f"/api/v1/permits/{permit['id']}", headers=world.auth(user)).status_code
            == 404
        )
        revoke = client.post(
            f"/api/v1/permits/{permit['id']}/revoke",
            json={"reason": "not yours"},
            headers=world.auth(user),
        )
        assert revoke.status_code == 404
    assert (
        client.post(
            "/api/v1/permits", json=medical_staff(clock()), headers=world.auth("police")
        ).status_code
        == 403
    )
    # the regional administration acts on any organisation's permits
    assert (
        client.get(f"/api/v1/permits/{permit['id']}", headers=world.auth("admin")).status_code
        == 200
    )
    revoke = client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "regional order"},
        headers=world.auth("admin"),
    )
    assert revoke.status_code == 200 and revoke.json()["status"] == "revoked"


def test_idempotency_key_issues_nothing_twice(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    headers = {**world.auth("doctor"), "Idempotency-Key": "roster-7-row-12"}
    first = client.post("/api/v1/permits", json=medical_staff(clock()), headers=headers)
    second = client.post("/api/v1/permits", json=medical_staff(clock()), headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert session.exec(select(func.count()).select_from(Permit)).one() == 1


def test_search_filters_and_pages(client: TestClient, world: World, clock: Clock) -> None:
    staff = issue(client, world, medical_staff(clock()))
    visit = issue(client, world, doctor_visit(clock()))
    issue(client, world, funeral(clock()))
    client.post(
        f"/api/v1/permits/{visit['id']}/revoke",
        json={"reason": "cancelled"},
        headers=world.auth("doctor"),
    )

    def ids(**params: Any) -> list[str]:
        response = client.get("/api/v1/permits", params=params, headers=world.auth("doctor"))
        assert response.status_code == 200, response.text
        return [p["id"] for p in response.json()["items"]]

    assert ids(personal_number="01024054321") == [staff["id"]]
    assert ids(personal_number="0102405432") == []  # exact, not partial
    assert ids(name="ბერი") == [staff["id"]]
    assert ids(name="გელაშ მაისურ") == [visit["id"]]  # every word matches someone on the permit
    assert ids(name="გელაშ ბერიძე") == []
    assert ids(name="გელაშ") == [visit["id"]]
    assert ids(plate="555") == [visit["id"]]
    assert ids(plate="aa 123") == [staff["id"]]
    assert set(ids(status="active")) == {staff["id"], ids(category="funeral")[0]}
    assert ids(status="revoked") == [visit["id"]]
    assert ids(control_code=staff["control_code"].lower()) == [staff["id"]]
    page = client.get(
        "/api/v1/permits", params={"per_page": 2, "page": 2}, headers=world.auth("doctor")
    ).json()
    assert page["total"] == 3 and len(page["items"]) == 1
    # another organisation sees none of them; the region sees all
    assert client.get("/api/v1/permits", headers=world.auth("village")).json()["total"] == 0
    assert (
        client.get(
            "/api/v1/permits", params={"issuer": "MRN-CLINIC"}, headers=world.auth("admin")
        ).json()["total"]
        == 3
    )
    clock.advance(days=20)
    assert set(ids(status="expired")) == {staff["id"], ids(category="funeral")[0]}


def test_qr_images_decode_back_to_the_qr_text(
    client: TestClient, world: World, clock: Clock
) -> None:
    import io

    permit = issue(client, world, doctor_visit(clock()))
    png = client.get(f"/api/v1/permits/{permit['id']}/qr.png", headers=world.auth("doctor"))
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [permit["qr_text"]]
    svg = client.get(f"/api/v1/permits/{permit['id']}/qr.svg", headers=world.auth("doctor"))
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    assert (
        client.get(
            f"/api/v1/permits/{permit['id']}/qr.png", headers=world.auth("village")
        ).status_code
        == 404
    )


def test_every_permit_records_its_policy_version(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    assert permit["policy_version"] == 1
    assert session.exec(select(Permit.policy_version)).one() == 1


def test_no_policy_in_force_refuses_to_issue_and_stores_nothing(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    """Before the first policy version takes effect there is nothing to issue under: 503
    with its own code, no permit, no signature."""
    body = medical_staff(clock())
    clock.advance(days=-40)  # the world's policy took effect 30 days before the test's now
    response = client.post("/api/v1/permits", json=body, headers=world.auth("doctor"))
    assert response.status_code == 503 and response.json()["errors"][0]["code"] == "no_policy"
    assert session.exec(select(func.count()).select_from(Permit)).one() == 0
