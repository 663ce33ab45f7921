"""Checks before issuing on a busy worker (`permits.ops.priority`): issuing requests held
back while checks are answered, and issuing's threads at a lower CPU priority."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from permits.app import create_app
from permits.ops.priority import ChecksFirstMiddleware
from permits.settings import Settings
from permits.trust.keystore import KeyStore
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import issue


class _Held:
    """An inner app whose requests run until the test releases them, one gate per request;
    each then answers with its scope's "answer" status (200 unless the test says)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        name = scope["name"]
        self.started.append(name)
        self.gates[name] = asyncio.Event()
        await self.gates[name].wait()
        await send({"type": "http.response.start", "status": scope["answer"], "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def release(self, name: str) -> None:
        self.gates[name].set()


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _run(scenario: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run `scenario` on an event loop of its own, in a thread of its own (the browser tests
    leave one running in the main thread)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=30)


def _request(path: str, name: str, method: str = "POST", answer: int = 200) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": path, "name": name, "answer": answer}


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def _start(middleware: ChecksFirstMiddleware, scope: dict[str, Any]) -> asyncio.Task[None]:
    async def nothing() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def ignore(_message: Any) -> None:
        return None

    task = asyncio.create_task(middleware(scope, nothing, ignore))
    await _settle()
    return task


async def _issuing(middleware: ChecksFirstMiddleware, count: int) -> list[asyncio.Task[None]]:
    """Start `count` issuing requests, named p0, p1..., in that order."""
    return [await _start(middleware, _request("/api/v1/permits", f"p{i}")) for i in range(count)]


async def _answered_check(
    inner: _Held, middleware: ChecksFirstMiddleware, name: str = "check", answer: int = 200
) -> None:
    task = await _start(middleware, _request("/api/v1/verify", name, answer=answer))
    inner.release(name)
    await task


async def _three_behind_a_check(
    middle: str,
) -> tuple[_Held, ChecksFirstMiddleware, list[asyncio.Task[None]]]:
    """A middleware letting one issuing request through while checking, a check answered,
    then three issuing requests started: p0, `middle`, p2."""
    inner = _Held()
    middleware = ChecksFirstMiddleware(inner, while_checking=1, clock=_Clock())
    await _answered_check(inner, middleware)
    tasks = [await _start(middleware, _request("/api/v1/permits", n)) for n in ("p0", middle, "p2")]
    return inner, middleware, tasks


def test_without_checks_issuing_is_not_held_back() -> None:
    async def scenario() -> None:
        inner = _Held()
        middleware = ChecksFirstMiddleware(inner, while_checking=2, clock=_Clock())
        tasks = await _issuing(middleware, 6)
        assert inner.started == [f"p{i}" for i in range(6)] and middleware.waiting == 0
        for i in range(6):
            inner.release(f"p{i}")
        await asyncio.gather(*tasks)
        assert middleware.issuing == 0

    _run(scenario)


def test_refused_checks_hold_nothing_back() -> None:
    async def scenario() -> None:
        inner = _Held()
        middleware = ChecksFirstMiddleware(inner, while_checking=1, clock=_Clock())
        for n, status in enumerate((401, 403, 422)):
            await _answered_check(inner, middleware, f"refused{n}", answer=status)
        tasks = await _issuing(middleware, 3)
        assert inner.started[-3:] == ["p0", "p1", "p2"] and middleware.waiting == 0
        for i in range(3):
            inner.release(f"p{i}")
        await asyncio.gather(*tasks)

    _run(scenario)


def test_while_checking_issuing_waits_in_order_and_others_pass() -> None:
    async def scenario() -> None:
        inner, clock = _Held(), _Clock()
        middleware = ChecksFirstMiddleware(inner, while_checking=2, window=1.0, clock=clock)
        await _answered_check(inner, middleware)
        issuing = await _issuing(middleware, 3)
        batch = await _start(middleware, _request("/api/v1/permits/batch", "batch"))
        page = await _start(middleware, _request("/api/v1/permits", "search", method="GET"))
        other = await _start(middleware, _request("/api/v1/checks/device", "upload"))
        assert inner.started == ["check", "p0", "p1", "search", "upload"]
        assert middleware.issuing == 2 and middleware.waiting == 2

        inner.release("p0")  # a place frees: the first held back takes it
        await _settle()
        assert inner.started[-1] == "p2" and middleware.waiting == 1

        clock.now += 0.5  # still within the window of the check
        inner.release("p1")
        await _settle()
        assert inner.started[-1] == "batch" and middleware.waiting == 0
        for name in ("p2", "batch", "search", "upload"):
            inner.release(name)
        await asyncio.gather(*issuing, batch, page, other)
        assert middleware.issuing == 0

    _run(scenario)


def test_when_checks_stop_every_held_request_goes_on() -> None:
    async def scenario() -> None:
        inner, clock = _Held(), _Clock()
        middleware = ChecksFirstMiddleware(inner, while_checking=1, window=1.0, clock=clock)
        await _answered_check(inner, middleware)
        tasks = await _issuing(middleware, 4)
        assert inner.started == ["check", "p0"] and middleware.waiting == 3
        clock.now += 0.5
        inner.release("p0")
        await _settle()
        assert inner.started == ["check", "p0", "p1"]  # within the window: one at a time
        clock.now += 1.0  # no check answered for longer than the window
        inner.release("p1")
        await _settle()
        assert inner.started == ["check", "p0", "p1", "p2", "p3"] and middleware.waiting == 0
        inner.release("p2")
        inner.release("p3")
        await asyncio.gather(*tasks)

    _run(scenario)


def test_a_held_request_whose_client_went_away_takes_no_place() -> None:
    async def scenario() -> None:
        inner, middleware, (first, gone, last) = await _three_behind_a_check("gone")
        assert middleware.waiting == 2
        gone.cancel()
        await _settle()
        assert gone.cancelled() and middleware.waiting == 1
        inner.release("p0")
        await _settle()
        assert inner.started == ["check", "p0", "p2"] and middleware.issuing == 1
        inner.release("p2")
        await asyncio.gather(first, last)
        assert middleware.issuing == 0

    _run(scenario)


def test_a_request_cancelled_just_as_it_was_let_through_gives_its_place_on() -> None:
    async def scenario() -> None:
        inner, middleware, (first, late, after) = await _three_behind_a_check("late")
        inner.release("p0")
        while middleware.waiting == 2:  # until p0's end lets `late` through
            await asyncio.sleep(0)
        assert "late" not in inner.started  # let through, not yet running
        late.cancel()
        await _settle()
        assert late.cancelled() and inner.started == ["check", "p0", "p2"]
        assert middleware.issuing == 1 and middleware.waiting == 0
        inner.release("p2")
        await asyncio.gather(first, after)
        assert middleware.issuing == 0

    _run(scenario)


def test_issuing_can_never_be_stopped() -> None:
    with pytest.raises(ValueError, match="while_checking"):
        ChecksFirstMiddleware(_Held(), while_checking=0)
    with pytest.raises(ValidationError, match="issuing_while_checking"):
        Settings(issuing_while_checking=0)
    with pytest.raises(ValidationError, match="issuing_nice"):
        Settings(issuing_nice=20)


def _nice(native_id: int) -> int:
    fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # field 19 of proc(5), counted after the command name


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice per thread is Linux's")
def test_issuings_threads_run_at_a_lower_priority_and_checks_do_not(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Clock, world: World
) -> None:
    niced = settings.model_copy(update={"issuing_nice": 12, "issuing_while_checking": 3})
    app = create_app(niced, engine=engine, keystore=keystore, clock=clock)
    [checks_first] = [m for m in app.user_middleware if m.cls is ChecksFirstMiddleware]
    assert checks_first.kwargs == {"while_checking": 3}
    with TestClient(app) as client:
        permit = issue(client, world, medical_staff(clock()))
        scan = {"qr_text": permit["qr_text"], "checkpoint": "Marneuli north"}
        assert client.post("/api/v1/verify", json=scan, headers=world.auth("police")).json()[
            "valid"
        ]
        issuing_threads = list(app.state.issuing_pool._threads)
        assert issuing_threads and all(_nice(t.native_id) == 12 for t in issuing_threads)
        # The lanes' writers keep their priority (the permit lane's holds the serial lock).
        assert _nice(app.state.permit_writes._thread.native_id) == 0
        assert _nice(app.state.check_writes._thread.native_id) == 0
