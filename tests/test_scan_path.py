"""The scan path (`permits.checks.scan_path`): scanned codes are answered without FastAPI's
own steps, exactly as the route answers them, and everything else still reaches the route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from permits.app import create_app
from permits.checks.models import Check
from permits.checks.scan_path import ScanPathMiddleware
from permits.settings import Settings
from permits.trust.keystore import KeyStore
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import issue

SECURITY_HEADERS = (
    "content-type",
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "www-authenticate",
    "retry-after",
)


class _ReachedTheRouter:
    """Counts the verify requests that got past every middleware to FastAPI's router."""

    def __init__(self, app: ASGIApp, *, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/api/v1/verify":
            self.seen.append(scope["path"])
        await self.app(scope, receive, send)


def _app(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Clock, *, scan_path: bool
) -> tuple[FastAPI, list[str]]:
    app = create_app(settings, engine=engine, keystore=keystore, clock=clock)
    if not scan_path:
        app.user_middleware = [m for m in app.user_middleware if m.cls is not ScanPathMiddleware]
    seen: list[str] = []
    app.user_middleware.append(Middleware(_ReachedTheRouter, seen=seen))  # innermost
    app.middleware_stack = None  # built again, with the list above
    return app, seen


@pytest.fixture
def both(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Clock, world: World
) -> Iterator[tuple[TestClient, list[str], TestClient, list[str]]]:
    fast, fast_seen = _app(settings, engine, keystore, clock, scan_path=True)
    route, route_seen = _app(settings, engine, keystore, clock, scan_path=False)
    with TestClient(fast) as fast_client, TestClient(route) as route_client:
        yield fast_client, fast_seen, route_client, route_seen


def _checks(session: Session) -> int:
    session.rollback()  # a fresh snapshot: the app stored its checks in sessions of its own
    return int(session.exec(select(func.count()).select_from(Check)).one())


def test_every_kind_of_request_gets_the_routes_answer_and_only_plain_scans_skip_it(
    both: tuple[TestClient, list[str], TestClient, list[str]],
    world: World,
    session: Session,
    clock: Clock,
) -> None:
    fast, fast_seen, route, route_seen = both
    valid = issue(fast, world, medical_staff(clock()))
    revoked = issue(fast, world, medical_staff(clock()))
    assert (
        fast.post(
            f"/api/v1/permits/{revoked['id']}/revoke",
            json={"reason": "fraud"},
            headers=world.auth("doctor"),
        ).status_code
        == 200
    )
    police, doctor = world.auth("police"), world.auth("doctor")
    unknown = {"Authorization": "Bearer pt_" + "x" * 40}
    scan = {"qr_text": valid["qr_text"], "checkpoint": "Marneuli north"}
    # (name, body or raw bytes, headers, status, answered by the scan path?)
    cases: list[tuple[str, Any, dict[str, str], int, bool]] = [
        ("valid", scan, police, 200, True),
        ("Georgian checkpoint", {**scan, "checkpoint": "მარნეული ჩრდილოეთი"}, police, 200, True),
        ("explicit null code", {**scan, "control_code": None}, police, 200, True),
        ("revoked", {**scan, "qr_text": revoked["qr_text"]}, police, 200, True),
        ("garbage", {**scan, "qr_text": "PM1:NOT-A-PERMIT"}, police, 200, True),
        ("doctor may not check", scan, doctor, 403, True),
        ("unknown token", scan, unknown, 401, True),
        ("no token", scan, {}, 401, False),
        (
            "typed code",
            {"control_code": valid["control_code"], "checkpoint": "X"},
            police,
            200,
            False,
        ),
        ("extra field", {**scan, "note": "x"}, police, 422, False),
        ("empty checkpoint", {**scan, "checkpoint": ""}, police, 422, False),
        ("no checkpoint", {"qr_text": valid["qr_text"]}, police, 422, False),
        ("code too long", {**scan, "qr_text": "A" * 4097}, police, 422, False),
        ("number for text", {**scan, "qr_text": 42}, police, 422, False),
        ("not ASCII", {**scan, "qr_text": "PM1:ქართული"}, police, 200, False),
        ("NUL", {**scan, "checkpoint": "a\x00b"}, police, 422, False),
        ("not JSON", b"qr_text=1", police, 422, False),
        ("a list", [scan], police, 422, False),
    ]
    for name, body, headers, status, skips in cases:
        answers = []
        for client, seen in ((fast, fast_seen), (route, route_seen)):
            before, seen_before = _checks(session), len(seen)
            if isinstance(body, bytes):
                response = client.post(
                    "/api/v1/verify",
                    content=body,
                    headers={**headers, "Content-Type": "application/json"},
                )
            else:
                response = client.post("/api/v1/verify", json=body, headers=headers)
            stored = _checks(session) - before
            reached = len(seen) - seen_before
            payload = response.json()
            check_id = payload.pop("check_id", None)
            if status == 200:
                assert stored == 1 and check_id is not None, name
                stored_check = session.get(Check, check_id)
                assert stored_check is not None and stored_check.checkpoint == body["checkpoint"]
            else:
                assert stored == 0, name
            kept = {h: response.headers.get(h) for h in SECURITY_HEADERS}
            answers.append((response.status_code, payload, kept, reached))
        (fast_status, fast_body, fast_headers, fast_reached), route_answer = answers
        assert fast_status == status, (name, fast_body)
        assert (fast_status, fast_body, fast_headers) == route_answer[:3], name
        guarded = name == "NUL"  # the NUL guard, outside both, answers it
        assert route_answer[3] == (0 if guarded else 1), name  # else the route answers
        assert fast_reached == (0 if skips or guarded else 1), name
    verdicts = {
        "valid": "valid",
        "revoked": "revoked",
        "garbage": "malformed",
    }
    for name, status_word in verdicts.items():
        body = next(c[1] for c in cases if c[0] == name)
        answer = fast.post("/api/v1/verify", json=body, headers=police).json()
        assert answer["status"] == status_word, name


def test_a_scan_answers_the_same_bytes_as_the_route(
    both: tuple[TestClient, list[str], TestClient, list[str]], world: World, clock: Clock
) -> None:
    fast, _, route, _ = both
    permit = issue(fast, world, medical_staff(clock()))
    body = {"qr_text": permit["qr_text"], "checkpoint": "Rustavi bridge"}
    first = fast.post("/api/v1/verify", json=body, headers=world.auth("police"))
    second = route.post("/api/v1/verify", json=body, headers=world.auth("police"))
    one, two = json.loads(first.content), json.loads(second.content)
    assert one.pop("check_id") != two.pop("check_id")
    assert one == two and one["persons"][0]["document"] == "01024054321"
    assert first.headers["content-length"] == str(len(first.content))
