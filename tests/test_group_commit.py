"""Group commit: units of write work from many threads stored in shared transactions, each
acknowledged only once stored, and one unit's error its own (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, select

from permits.app import create_app
from permits.audit.models import AuditEvent
from permits.audit.service import verify_chain
from permits.checks.models import Check
from permits.group_commit import GroupCommit
from permits.issuance.models import Permit
from permits.settings import Settings
from permits.trust.keystore import KeyStore
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


def _caught(call: Callable[[Any], object]) -> Callable[[Any], object]:
    """`call`, answering with the exception it raised instead of raising it (the tests look
    at which unit got which error)."""

    def outcome(argument: Any) -> object:
        try:
            return call(argument)
        except Exception as exc:
            return exc

    return outcome


def _while_held(
    group_commit: GroupCommit,
    submit: Callable[[Any], Any],
    arguments: Sequence[Any],
    *,
    queued: int | None = None,
) -> list[Any]:
    """Occupy the writer, call `submit` with each of `arguments` from threads of their own
    (as requests would), let the writer go once `queued` units (all, by default) wait, so
    that they form groups; return each call's result, in order."""
    release = threading.Event()
    blocker = _held(group_commit, release)
    with ThreadPoolExecutor(len(arguments)) as pool:
        pending = pool.map(submit, arguments)  # every call starts now
        _wait_queued(group_commit, len(arguments) if queued is None else queued)
        release.set()
        results = list(pending)
    blocker.join(30)
    return results


def _wait_queued(group_commit: GroupCommit, count: int) -> None:
    for _ in range(1000):
        if group_commit._queue.qsize() >= count:
            return
        time.sleep(0.01)
    raise AssertionError(f"{count} units were not queued")


def test_units_queued_together_commit_in_one_transaction(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")
    results = _while_held(group_commit, group_commit.run, [_insert(f"gc-{n}") for n in range(6)])
    kinds = {kind for kind, _session in results}
    sessions = {session for _kind, session in results}
    assert kinds == {f"gc-{n}" for n in range(6)}
    assert len(sessions) == 1  # six units, one transaction
    assert kinds <= _stored(engine)


def test_a_failing_unit_fails_alone_and_the_others_are_stored(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")
    group_commit.run(_insert("gc-taken"))
    works = [_insert("gc-a"), _insert("gc-taken"), _insert("gc-b")]
    results = _while_held(group_commit, _caught(group_commit.run), works)
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


@pytest.fixture
def unlimited(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Clock, world: World
) -> Iterator[TestClient]:
    """A client of an app that never holds issuing back behind checks (`permits.ops.priority`):
    the test below needs the clerks' permits to queue in the lane while officers check."""
    settings = settings.model_copy(update={"issuing_while_checking": 100})
    with TestClient(create_app(settings, engine=engine, keystore=keystore, clock=clock)) as c:
        yield c


def test_concurrent_requests_each_get_their_own_stored_permit_and_check(
    unlimited: TestClient, world: World, session: Session, clock: Clock
) -> None:
    """Sixteen clerks issue and eight officers check at once: every answer is a stored row
    (distinct consecutive serials, one audit event each, the chain intact), and the
    requests did share transactions."""
    client = unlimited
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

    answers = _while_held(lane, one, range(24), queued=4)  # the clerks' permits queue up
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


# -- combined units: one store call for the queued items of a kind ----------------------------


def _store_kinds(calls: list[list[str]]) -> Callable[[Session, list[str]], list[tuple[str, int]]]:
    """A combined store: inserts all its items with one statement, notes the call, and
    answers for each item which session stored it."""

    def store(session: Session, kinds: list[str]) -> list[tuple[str, int]]:
        calls.append(list(kinds))
        session.connection().execute(INSERT, [{"kind": kind} for kind in kinds])
        return [(kind, id(session)) for kind in kinds]

    return store


def _run_combined(group_commit: GroupCommit) -> Callable[[tuple[Any, Any, Any]], object]:
    """Submits a (store, item, key) unit with `run_combined`."""
    return lambda unit: group_commit.run_combined(unit[0], unit[1], key=unit[2])


def test_queued_items_of_one_kind_are_stored_by_one_call(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")
    calls: list[list[str]] = []
    store = _store_kinds(calls)
    units = [(store, f"gc-a{n}", "a") for n in range(5)] + [
        (store, f"gc-b{n}", "b") for n in range(2)
    ]
    results = _while_held(group_commit, _caught(_run_combined(group_commit)), units)
    # Each caller gets its own item's result, from the one shared transaction.
    assert sorted(kind for kind, _session in results) == sorted(item for _s, item, _k in units)
    assert len({session for _kind, session in results}) == 1
    # One call per key, holding every item of that key.
    assert sorted(sorted(call) for call in calls) == [
        [f"gc-a{n}" for n in range(5)],
        [f"gc-b{n}" for n in range(2)],
    ]
    assert {item for _s, item, _k in units} <= _stored(engine)


def test_a_failing_combined_call_stores_each_item_alone(engine: Engine) -> None:
    group_commit = GroupCommit(engine, name="test")
    group_commit.run(_insert("gc-taken"))
    calls: list[list[str]] = []
    store = _store_kinds(calls)
    units = [(store, kind, None) for kind in ("gc-x", "gc-taken", "gc-y")]
    results = _while_held(group_commit, _caught(_run_combined(group_commit)), units)
    failed = [r for r in results if isinstance(r, Exception)]
    assert len(failed) == 1 and isinstance(failed[0], IntegrityError)
    assert {r[0] for r in results if isinstance(r, tuple)} == {"gc-x", "gc-y"}
    assert len(calls[0]) == 3  # tried together first, then one by one
    assert sorted(map(len, calls[1:])) == [1, 1, 1]
    assert {"gc-x", "gc-y"} <= _stored(engine)


def test_permits_of_two_issuers_stored_together_keep_their_own_issuer(
    client: TestClient,
    world: World,
    session: Session,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two clerks of one clinic and one of another issue at once: each clinic's permits are
    stored by one combined write, and each permit's audit event names its own clerk."""
    from permits.issuance import service

    calls: list[list[Any]] = []
    write = service._write

    def noted(session: Session, batch: list[Any]) -> list[Any]:
        calls.append(list(batch))
        return write(session, batch)

    monkeypatch.setattr(service, "_write", noted)
    lane = client.app.state.permit_writes  # type: ignore[attr-defined]
    clerks = ["doctor", "head", "village"] * 3

    def one(username: str) -> tuple[str, dict[str, object]]:
        response = client.post(
            "/api/v1/permits", json=medical_staff(clock()), headers=world.auth(username)
        )
        assert response.status_code == 201, response.text
        return username, response.json()

    answers = _while_held(lane, one, clerks)
    # One call per clinic, each holding that clinic's permits only.
    by_call = [{p.caller.username for p in call} for call in calls]
    assert sorted(map(sorted, by_call)) == [["doctor", "head"], ["village"]]
    assert sorted(map(len, calls)) == [3, 6]
    events = {
        row.subject_id: row.actor_user_id
        for row in session.exec(select(AuditEvent).where(AuditEvent.action == "permit.issue"))
    }
    for username, permit in answers:
        assert events[str(permit["id"])] == world.users[username].id
    assert verify_chain(session).intact


def test_scans_queued_together_are_checked_with_one_query_each(
    client: TestClient, world: World, session: Session, clock: Clock
) -> None:
    """Scans from several officers wait for the check lane together: their callers, their
    permits and their check records take one statement each, and every scan still gets its
    own answer (valid, revoked, malformed; 401 and 403 store nothing)."""
    good = issue(client, world, medical_staff(clock()))
    revoked = issue(client, world, medical_staff(clock()))
    response = client.post(
        f"/api/v1/permits/{revoked['id']}/revoke",
        json={"reason": "fraud"},
        headers=world.auth("doctor"),
    )
    assert response.status_code == 200, response.text
    scans = [
        ("police", good["qr_text"], 200, "valid"),
        ("admin", good["qr_text"], 200, "valid"),
        ("police", revoked["qr_text"], 200, "revoked"),
        ("police", "MP1:%%%%", 200, "malformed"),
        ("doctor", good["qr_text"], 403, None),
        (None, good["qr_text"], 401, None),
    ]
    lane = client.app.state.check_writes  # type: ignore[attr-defined]
    statements: list[str] = []

    def noted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if threading.current_thread().name == "group-commit-checks":
            statements.append(statement.split()[0].upper())

    def one(scan: tuple[str | None, str, int, str | None]) -> tuple[int, dict[str, Any]]:
        username, qr_text, _status, _verdict = scan
        headers = world.auth(username) if username else {"Authorization": "Bearer pmt_unknown"}
        response = client.post(
            "/api/v1/verify", json={"qr_text": qr_text, "checkpoint": "Tsalka"}, headers=headers
        )
        return response.status_code, response.json()

    engine = client.app.state.engine  # type: ignore[attr-defined]
    event.listen(engine, "before_cursor_execute", noted)
    try:
        answers = _while_held(lane, one, scans)
    finally:
        event.remove(engine, "before_cursor_execute", noted)
    assert [status for status, _body in answers] == [s[2] for s in scans]
    assert [body.get("status") for _status, body in answers] == [s[3] for s in scans]
    # One group: one query for the callers, one for the permits; the four records in one
    # statement on PostgreSQL (SQLite's driver inserts them one by one, in the same transaction).
    assert statements.count("SELECT") == 2
    inserts = 1 if engine.dialect.name == "postgresql" else 4
    assert statements[statements.index("INSERT") :] == ["INSERT"] * inserts
    checks = {row.id: row for row in session.exec(select(Check)).all()}
    answered = [body["check_id"] for status, body in answers if status == 200]
    assert sorted(checks) == sorted(answered)  # 401 and 403 stored nothing
    officers = [world.users[s[0]].id for s in scans if s[2] == 200 and s[0]]
    assert [checks[i].officer_user_id for i in answered] == officers
    assert [checks[i].result for i in answered] == ["valid", "valid", "revoked", "malformed"]


def test_an_awaited_unit_whose_request_went_away_leaves_the_writer_working(
    engine: Engine,
) -> None:
    """A request cancelled while its item waits (its client hung up): the item is stored all
    the same, and the writer thread answers the units after it."""
    group_commit = GroupCommit(engine, name="test")
    calls: list[list[str]] = []
    store = _store_kinds(calls)

    async def cancelled_then_next() -> tuple[str, int]:
        waiting = asyncio.create_task(group_commit.run_combined_async(store, "gc-gone"))
        await asyncio.sleep(0)  # the item is queued
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return await group_commit.run_combined_async(store, "gc-next")

    release = threading.Event()
    blocker = _held(group_commit, release)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(asyncio.run, cancelled_then_next())
        _wait_queued(group_commit, 1)
        release.set()
        kind, _session = pending.result(30)
    blocker.join(30)
    assert kind == "gc-next"
    assert {"gc-gone", "gc-next"} <= _stored(engine)
    assert group_commit.run(_insert("gc-after"))[0] == "gc-after"
