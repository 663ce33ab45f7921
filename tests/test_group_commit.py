"""Group commit: units of write work from many threads stored in shared transactions, each
acknowledged only once stored, and one unit's error its own (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from permits.audit.service import verify_chain
from permits.checks.models import Check
from permits.group_commit import GroupCommit
from permits.issuance.models import Permit
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import issue

INSERT = text("INSERT INTO list_state (kind, counter) VALUES (:kind, 0)")


def _insert(kind: str) -> Callable[[Session], tuple[str, int]]:
    """A unit that stores one row and answers which session (transaction) stored it."""

    def work(session: Session) -> tuple[str, int]:
        session.connection().execute(INSERT, {"kind": kind})
        return kind, id(session)

    return work


def _stored(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {row[0] for row in connection.execute(text("SELECT kind FROM list_state"))}


def _held(group_commit: GroupCommit, release: threading.Event) -> threading.Thread:
    """Occupy the writer with a unit that waits for `release`, so that what is queued
    meanwhile forms one group."""
    started = threading.Event()

    def blocker(session: Session) -> None:
        started.set()
        assert release.wait(10)

    thread = threading.Thread(target=group_commit.run, args=(blocker,))
    thread.start()
    assert started.wait(10)
    return thread


def _queued(group_commit: GroupCommit, works: list[Callable[[Session], object]]) -> list[object]:
    """Run `works` from threads of their own (as requests would); return each outcome."""

    def outcome(work: Callable[[Session], object]) -> object:
        try:
            return group_commit.run(work)
        except Exception as exc:  # the test looks at which unit got which error
            return exc

    with ThreadPoolExecutor(len(works)) as pool:
        futures = [pool.submit(outcome, work) for work in works]
        return [future.result(timeout=30) for future in futures]


def _wait_queued(group_commit: GroupCommit, count: int) -> None:
    for _ in range(1000):
        if group_commit._queue.qsize() >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} units were not queued")


def test_units_queued_together_commit_in_one_transaction(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")
    release = threading.Event()
    blocker = _held(group_commit, release)
    results: list[object] = []
    runner = threading.Thread(
        target=lambda: results.extend(_queued(group_commit, [_insert(f"gc-{n}") for n in range(6)]))
    )
    runner.start()
    _wait_queued(group_commit, 6)
    release.set()
    runner.join(30)
    blocker.join(30)
    kinds = {kind for kind, _session in results}  # type: ignore[misc]
    sessions = {session for _kind, session in results}  # type: ignore[misc]
    assert kinds == {f"gc-{n}" for n in range(6)}
    assert len(sessions) == 1  # six units, one transaction
    assert kinds <= _stored(engine)


def test_a_failing_unit_fails_alone_and_the_others_are_stored(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")
    group_commit.run(_insert("gc-taken"))
    release = threading.Event()
    blocker = _held(group_commit, release)
    results: list[object] = []
    works = [_insert("gc-a"), _insert("gc-taken"), _insert("gc-b")]
    runner = threading.Thread(target=lambda: results.extend(_queued(group_commit, works)))
    runner.start()
    _wait_queued(group_commit, 3)
    release.set()
    runner.join(30)
    blocker.join(30)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], IntegrityError)
    assert {r[0] for r in results if isinstance(r, tuple)} == {"gc-a", "gc-b"}
    assert {"gc-a", "gc-b", "gc-taken"} <= _stored(engine)


def test_nothing_is_acknowledged_before_its_commit(engine: Engine) -> None:
    """A unit whose transaction cannot commit is never answered with a result."""
    group_commit = GroupCommit(engine, name="test")

    def then_away(session: Session) -> str:
        session.connection().execute(INSERT, {"kind": "gc-lost"})
        raise OperationalError("COMMIT", None, Exception("the database went away"))

    with pytest.raises(OperationalError):
        group_commit.run(then_away)
    assert "gc-lost" not in _stored(engine)
    assert group_commit.run(_insert("gc-after"))[0] == "gc-after"  # the writer carries on
    assert "gc-after" in _stored(engine)


def test_a_unit_error_that_is_not_the_database_reaches_its_caller(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")

    def broken(session: Session) -> None:
        raise ValueError("a unit's own mistake")

    with pytest.raises(ValueError, match="own mistake"):
        group_commit.run(broken)


# -- through the API: many requests at once ---------------------------------------------------


def test_concurrent_requests_each_get_their_own_stored_permit_and_check(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    """Sixteen clerks issue and eight officers check at once: every answer is a stored row
    (distinct consecutive serials, one audit event each, the chain intact), and the
    requests did share transactions."""
    sizes: list[int] = []
    lane = client.app.state.permit_writes  # type: ignore[attr-defined]
    transaction = lane._transaction

    def counted(works: list[Callable[[Session], object]]) -> list[object]:
        sizes.append(len(works))
        return transaction(works)

    lane._transaction = counted
    scanned = issue(client, world, medical_staff(clock()))
    check = {"qr_text": scanned["qr_text"], "checkpoint": "Marneuli north"}

    def one(n: int) -> tuple[int, dict[str, object]]:
        if n % 3 == 2:
            response = client.post("/api/v1/verify", json=check, headers=world.auth("police"))
        else:
            response = client.post(
                "/api/v1/permits", json=medical_staff(clock()), headers=world.auth("doctor")
            )
        return response.status_code, response.json()

    release = threading.Event()
    blocker = _held(lane, release)  # so that the clerks' permits queue up meanwhile
    with ThreadPoolExecutor(24) as pool:
        pending = pool.map(one, range(24))
        _wait_queued(lane, 4)
        release.set()
        answers = list(pending)
    blocker.join(30)
    issued = [body for status, body in answers if "serial" in body]
    verdicts = [body for status, body in answers if "check_id" in body]
    assert len(issued) == 16 and len(verdicts) == 8
    assert all(status in (200, 201) for status, _body in answers)
    assert all(v["status"] == "valid" for v in verdicts)
    serials = sorted(int(str(p["serial"]).rsplit("-", 1)[1]) for p in [*issued, scanned])
    assert serials == list(range(serials[0], serials[0] + 17))  # distinct, none skipped
    stored = {str(row.id) for row in session.exec(select(Permit)).all()}
    assert {str(p["id"]) for p in issued} <= stored
    checks = {row.id for row in session.exec(select(Check)).all()}
    assert {v["check_id"] for v in verdicts} == checks
    assert verify_chain(session).intact
    assert sum(sizes) == 18 and max(sizes) >= 4  # grouped; each permit (and the blocker) once
