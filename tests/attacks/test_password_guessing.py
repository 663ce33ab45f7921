"""Password guessing is throttled: an attacker working through a dictionary gets a handful of
tries per account, and a handful more per address, before every answer is "locked" - even
for the right password - and the usual tricks do not reset the count.

(The login's own tests check the lock rules one by one; this is the attacker's view.)
"""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from permits.accounts.models import LoginAttempt, WebSession
from permits.accounts.sessions import ACCOUNT_FAILURES, ADDRESS_FAILURES
from tests.conftest import Clock
from tests.factories import World
from tests.workspace.web import PASSWORD, csrf_of, set_password

DICTIONARY = [
    "123456",
    "password",
    "qwerty123",
    "Kvemo-Kartli-2025",
    "Marneuli2026!",
    "nino1990",
    "letmein",
    "admin123",
    "iloveyou",
    "tbilisi2026",
    "monkey",
    "dragon",
    PASSWORD,  # the right one, late in the list
    "sunshine",
]


def _try(client: TestClient, username: str, password: str, **headers: str) -> int:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "next": "/",
            "csrf_token": csrf_of(page.text),
        },
        headers=headers,
        follow_redirects=False,
    )
    return response.status_code


def _sessions(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(WebSession)).one())


def test_a_dictionary_attack_on_one_account_is_stopped(
    client: TestClient, engine: Engine, world: World
) -> None:
    set_password(engine, world, "doctor")
    statuses = [_try(client, "doctor", guess) for guess in DICTIONARY]
    assert statuses[:ACCOUNT_FAILURES] == [401] * ACCOUNT_FAILURES
    assert set(statuses[ACCOUNT_FAILURES:]) == {429}  # the right password included
    assert _sessions(engine) == 0
    # Case, spaces and another address header do not make it another account.
    for variant in ("DOCTOR", " doctor ", "Doctor\t"):
        assert _try(client, variant, PASSWORD) == 429
    assert _try(client, "doctor", PASSWORD, **{"X-Forwarded-For": "203.0.113.9"}) == 429
    assert _sessions(engine) == 0


def test_spraying_one_password_over_many_accounts_is_stopped_per_address(
    client: TestClient, engine: Engine, world: World
) -> None:
    set_password(engine, world, "head")
    names = [f"user{n:03d}" for n in range(ADDRESS_FAILURES)] + ["head"]
    statuses = [_try(client, name, "Kvemo-Kartli-2026") for name in names]
    assert statuses[:ADDRESS_FAILURES] == [401] * ADDRESS_FAILURES
    assert statuses[ADDRESS_FAILURES] == 429
    # The real user, with the real password, from this address: locked too, for now.
    assert _try(client, "head", PASSWORD) == 429
    assert _sessions(engine) == 0


def test_locked_attempts_are_refused_before_the_password_is_checked(
    client: TestClient, engine: Engine, world: World, clock: Clock
) -> None:
    set_password(engine, world, "doctor")
    for guess in DICTIONARY[:ACCOUNT_FAILURES]:
        _try(client, "doctor", guess)
    with Session(engine) as session:
        before = session.exec(select(func.count()).select_from(LoginAttempt)).one()
    for guess in DICTIONARY:
        assert _try(client, "doctor", guess) == 429
    with Session(engine) as session:
        after = session.exec(select(func.count()).select_from(LoginAttempt)).one()
    # Nothing is checked (no argon2 work) or recorded while locked: guessing gains nothing.
    assert after == before
    clock.advance(minutes=16)
    assert _try(client, "doctor", PASSWORD) in (302, 303)
