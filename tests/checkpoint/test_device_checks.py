"""Uploading the check records of a checkpoint device: the officer's token, idempotent per
device check id, validated whole before anything is stored."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from permits.checks.models import Check
from permits.oversight.checkpoints import register_checkpoint
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import issue
from verifier import codec, cose, text

URL = "/api/v1/checks/device"


def permit_cti(qr_text: str) -> str:
    """The permit id (hex) inside a QR text, as the app reads it."""
    message = cose.parse_sign1(text.decode_qr_text(qr_text))
    return codec.decode_claims(message.payload).permit_id.hex()


def record(clock: Clock, **changes: Any) -> dict[str, Any]:
    """A device check record as the app uploads it."""
    return {
        "device_check_id": str(uuid.uuid4()),
        "checked_at": (clock() - timedelta(minutes=5)).isoformat(),
        "checkpoint": "RUS-N",
        "result": "valid",
        "reason": "valid until 2026-12-15 00:00",
        "cti": None,
        **changes,
    }


def test_upload_stores_each_record_once(
    client: TestClient, world: World, clock: Clock, session: Session
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    cti = permit_cti(permit["qr_text"])
    first = record(clock, cti=cti)
    second = record(clock, result="revoked", reason="the issuer revoked this permit")
    response = client.post(URL, json={"checks": [first, second]}, headers=world.auth("police"))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "stored": [first["device_check_id"], second["device_check_id"]],
        "duplicates": [],
    }
    # the device did not hear the answer and sends both again, with one new record
    third = record(clock, result="expired")
    again = client.post(
        URL, json={"checks": [first, second, third, third]}, headers=world.auth("police")
    )
    assert again.status_code == 200, again.text
    assert again.json() == {
        "stored": [third["device_check_id"]],
        "duplicates": [first["device_check_id"], second["device_check_id"]],
    }
    rows = session.exec(select(Check).order_by(Check.id)).all()  # type: ignore[arg-type]
    assert [r.result for r in rows] == ["valid", "revoked", "expired"]
    assert all(r.source == "device" and r.officer_user_id == world.users["police"].id for r in rows)
    assert all(r.checkpoint == "RUS-N" for r in rows)
    assert str(rows[0].permit_id) == permit["id"] and rows[0].cti == cti
    assert rows[1].permit_id is None  # no permit id sent: nothing to link


def test_a_bad_record_stores_nothing(client: TestClient, world: World, clock: Clock) -> None:
    good = record(clock)
    for bad, field in [
        (record(clock, result="fine"), "checks[1].result"),
        (record(clock, checked_at="2026-12-01T10:00:00"), "checks[1].checked_at"),
        (
            record(clock, checked_at=(clock() + timedelta(hours=2)).isoformat()),
            "checks[1].checked_at",
        ),
        (record(clock, cti="not-hex"), "checks[1].cti"),
        (record(clock, checkpoint=""), "checks[1].checkpoint"),
        ({**record(clock), "name": "ნინო ბერიძე"}, "checks[1].name"),
    ]:
        response = client.post(URL, json={"checks": [good, bad]}, headers=world.auth("police"))
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
    response = client.post(URL, json={"checks": [good]}, headers=world.auth("police"))
    assert response.json()["stored"] == [good["device_check_id"]]  # nothing was kept before


def test_only_officers_upload(client: TestClient, world: World, clock: Clock) -> None:
    body = {"checks": [record(clock)]}
    assert client.post(URL, json=body).status_code == 401
    assert client.post(URL, json=body, headers=world.auth("doctor")).status_code == 403
    assert client.post(URL, json={"checks": []}, headers=world.auth("police")).status_code == 422


def test_devices_get_the_active_checkpoints_of_the_registry(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    for code, active in (("MRN-SOUTH", True), ("BLN-OLD", False)):
        checkpoint = register_checkpoint(
            session,
            data={
                "code": code,
                "names": {"ka": f"{code} ka", "az": f"{code} az", "en": f"{code} en"},
                "municipality": 5,
                "latitude": 41.47,
                "longitude": 44.81,
            },
            now=clock(),
            actor=None,
        )
        checkpoint.active = active
        session.add(checkpoint)
        session.commit()
    response = client.get("/api/v1/checkpoints", headers=world.auth("police"))
    assert response.status_code == 200
    listed = {c["code"]: c for c in response.json()["checkpoints"]}
    assert "MRN-SOUTH" in listed and "BLN-OLD" not in listed
    assert listed["MRN-SOUTH"]["names"] == {
        "ka": "MRN-SOUTH ka",
        "az": "MRN-SOUTH az",
        "en": "MRN-SOUTH en",
    }
    assert client.get("/api/v1/checkpoints", headers=world.auth("doctor")).status_code == 403
    assert client.get("/api/v1/checkpoints").status_code == 401
