"""Online verification: police check a QR or a typed control code; each check is recorded."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from permits.accounts.models import ApiToken
from permits.accounts.tokens import caller_for_token, callers_for_tokens, revoke_token
from permits.checks.models import Check
from permits.errors import NotAuthenticated
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import issue


def test_online_verification_records_the_check(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    body = {"qr_text": permit["qr_text"], "checkpoint": "Marneuli north"}
    response = client.post("/api/v1/verify", json=body, headers=world.auth("police"))
    assert response.status_code == 200, response.text
    verdict = response.json()
    assert verdict["status"] == "valid" and verdict["valid"] is True
    assert verdict["persons"][0]["document"] == "01024054321" and verdict["plate"] == "AA-123-BB"
    check = session.exec(select(Check)).one()
    assert check.checkpoint == "Marneuli north" and check.result == "valid"
    assert (
        check.officer_user_id == world.users["police"].id and str(check.permit_id) == permit["id"]
    )


def test_revocation_shows_online_at_once(client: TestClient, world: World, clock: Clock) -> None:
    permit = issue(client, world, medical_staff(clock()))
    body = {"qr_text": permit["qr_text"], "checkpoint": "Rustavi bridge"}
    assert (
        client.post("/api/v1/verify", json=body, headers=world.auth("police")).json()["status"]
        == "valid"
    )
    client.post(
        f"/api/v1/permits/{permit['id']}/revoke",
        json={"reason": "fraud"},
        headers=world.auth("doctor"),
    )
    assert (
        client.post("/api/v1/verify", json=body, headers=world.auth("police")).json()["status"]
        == "revoked"
    )


def test_control_code_lookup(client: TestClient, world: World, clock: Clock) -> None:
    permit = issue(client, world, medical_staff(clock()))
    typed = permit["control_code"].replace("-", " ").lower()
    response = client.post(
        "/api/v1/verify",
        json={"control_code": typed, "checkpoint": "Bolnisi"},
        headers=world.auth("police"),
    )
    assert (
        response.json()["status"] == "valid"
        and response.json()["control_code"] == permit["control_code"]
    )
    broken = permit["control_code"][:-1] + ("0" if permit["control_code"][-1] != "0" else "1")
    response = client.post(
        "/api/v1/verify",
        json={"control_code": broken, "checkpoint": "Bolnisi"},
        headers=world.auth("police"),
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "control_code"


def test_garbage_is_malformed_not_an_error(
    client: TestClient, world: World, session: Session
) -> None:
    for garbage in ["", "hello", "MP1:", "MP1:%%%%", "MP1:" + "A" * 4000, "HC1:6BFOXN"]:
        body = {"qr_text": garbage or " ", "checkpoint": "Tsalka"}
        response = client.post("/api/v1/verify", json=body, headers=world.auth("police"))
        assert response.status_code == 200, (garbage, response.text)
        assert response.json()["status"] == "malformed"
    assert len(session.exec(select(Check)).all()) == 6


def test_only_police_and_the_region_verify_online(
    client: TestClient, world: World, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    body = {"qr_text": permit["qr_text"], "checkpoint": "x"}
    assert client.post("/api/v1/verify", json=body).status_code == 401
    assert client.post("/api/v1/verify", json=body, headers=world.auth("doctor")).status_code == 403


# -- scans checked in groups: one query for the callers, one for the permits, one insert -------


def test_callers_for_tokens_answer_as_caller_for_token_does(
    session: Session, world: World, clock: Clock
) -> None:
    """The grouped look-up gives each token the caller, or the error, that the one-token
    look-up gives it: valid, revoked, of a deactivated user, unknown, malformed."""
    revoked_row = session.exec(
        select(ApiToken).where(ApiToken.user_id == world.users["head"].id)
    ).one()
    revoke_token(session, token_id=revoked_row.id or 0, now=clock())
    world.users["village"].active = False
    session.add(world.users["village"])
    session.commit()
    tokens = [
        world.tokens["police"],
        world.tokens["admin"],
        world.tokens["head"],  # revoked
        world.tokens["village"],  # user deactivated
        "pmt_" + "x" * 43,  # unknown
        "not-a-token",
        "pmt_" + "y" * 200,  # too long to be one
    ]
    grouped = callers_for_tokens(session, tokens)
    assert set(grouped) == set(tokens)
    for token in tokens:
        try:
            expected: object = caller_for_token(session, token)
        except NotAuthenticated as exc:
            expected = ("error", exc.message)
        got = grouped[token]
        assert (("error", got.message) if isinstance(got, NotAuthenticated) else got) == expected
    assert grouped[world.tokens["police"]] == world.callers["police"]
    assert isinstance(grouped[world.tokens["head"]], NotAuthenticated)


def test_a_revoked_officer_token_is_refused_at_the_next_scan(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    body = {"qr_text": permit["qr_text"], "checkpoint": "Tsalka"}
    assert client.post("/api/v1/verify", json=body, headers=world.auth("police")).status_code == 200
    row = session.exec(select(ApiToken).where(ApiToken.user_id == world.users["police"].id)).one()
    revoke_token(session, token_id=row.id or 0, now=clock())
    session.commit()
    response = client.post("/api/v1/verify", json=body, headers=world.auth("police"))
    assert response.status_code == 401 and "revoked" in response.text
    assert len(session.exec(select(Check)).all()) == 1  # the refused scan stored nothing
