"""Checkpoint checks before issuing, when a worker has both to do.

A car at a checkpoint waits, engine running, for its verdict; a clerk's permit may take a
second longer without harm. When the machine is saturated (a lockdown's first morning), a
worker therefore serves online checks first, in two ways:

1. A single permit's thread work (reading its context, validating, signing) runs in
   threads of its own at a lower CPU priority (`nice`, Linux; elsewhere nothing changes), so
   that the kernel runs the event loops that answer scans, and the check lane, first. The permit
   lane's writer keeps its priority: it holds the organisation's serial counter until its
   commit, and a writer preempted while holding it would hold up every other worker's
   issuing too.
2. `ChecksFirstMiddleware`: while the worker is answering online checks (one answered,
   200, within the last `window` seconds; refused requests do not count, so a flood of them
   cannot hold issuing back), at most `while_checking` issuing requests are under way at
   once; the others wait, unread and in order of arrival, costing no CPU. With no checks
   about, issuing is not limited.

Issuing never stops: at least `while_checking` requests always proceed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CHECK_PATHS = frozenset({"/api/v1/verify"})
ISSUING_PATHS = frozenset({"/api/v1/permits", "/api/v1/permits/batch"})
WINDOW_SECONDS = 1.0
ISSUING_THREADS = 32


def lower_thread_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority to `nice` (0 leaves it as it is). Linux keeps
    a nice value per thread; elsewhere this does nothing. A thread cannot raise its priority
    again: call it only in threads that do nothing but low-priority work."""
    if nice <= 0 or not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError):  # forbidden here: the thread keeps its priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def issuing_pool(nice: int) -> ThreadPoolExecutor:
    """The threads that run issuing's work, each at CPU priority `nice`."""
    return ThreadPoolExecutor(
        max_workers=ISSUING_THREADS,
        thread_name_prefix="issuing",
        initializer=lower_thread_priority,
        initargs=(nice,),
    )


class ChecksFirstMiddleware:
    """Holds issuing requests back, beyond `while_checking` under way, while this worker
    answers online checks; lets every other request through at once."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        while_checking: int,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if while_checking < 1:
            raise ValueError("while_checking must be at least 1: issuing never stops")
        self.app = app
        self.while_checking = while_checking
        self.window = window
        self.clock = clock
        self.issuing = 0
        self._last_check = -float("inf")
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
        elif scope["path"] in CHECK_PATHS:
            await self.app(scope, receive, self._noting_answered_checks(send))
        elif scope["path"] in ISSUING_PATHS:
            await self._admitted()
            try:
                await self.app(scope, receive, send)
            finally:
                self.issuing -= 1
                self._admit_waiting()
        else:
            await self.app(scope, receive, send)

    def _noting_answered_checks(self, send: Send) -> Send:
        """`send`, noting the time of each check answered with 200: only a check that was
        answered counts, so refused requests (no token, say) hold no issuing back."""

        async def noting(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                self._last_check = self.clock()
            await send(message)

        return noting

    @property
    def waiting(self) -> int:
        """Issuing requests held back now."""
        return sum(1 for future in self._waiting if not future.done())

    def _checks_about(self) -> bool:
        return self.clock() - self._last_check < self.window

    def _may_start(self) -> bool:
        return self.issuing < self.while_checking or not self._checks_about()

    async def _admitted(self) -> None:
        """Return once this issuing request may proceed (counted in `issuing`)."""
        if not self._waiting and self._may_start():
            self.issuing += 1
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        try:
            await future
        except asyncio.CancelledError:  # the client went away while held back
            if future.done() and not future.cancelled():
                self.issuing -= 1  # admitted just before: give the place on
                self._admit_waiting()
            else:
                with contextlib.suppress(ValueError):  # already passed over
                    self._waiting.remove(future)
            raise

    def _admit_waiting(self) -> None:
        while self._waiting and self._may_start():
            future = self._waiting.popleft()
            if not future.done():
                self.issuing += 1
                future.set_result(None)
