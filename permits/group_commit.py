"""Group commit: many requests' small write transactions stored as one.

Under load, each issued permit is a short write transaction, and the database admits one
writer at a time: on SQLite the whole file, on PostgreSQL the organisation's serial counter
and the audit chain's head row. Every such transaction pays for its own BEGIN, COMMIT and
the hand-over of the lock to the next writer (a wake-up in another thread, often another
process, that must first win its own interpreter lock). `GroupCommit` runs the queued units
of work of one process in a single transaction on a writer thread of its own: the hand-over
and the commit are paid once per group instead of once per request.

Units of the same kind can also be *combined*: a unit given as an item and a `store`
function that stores many items at once (`run_combined`) is stored together with the other
queued items of its kind in one call, so that a group of twenty permits costs the statements
of one batch, not twenty times the statements of one. The locks those statements take (the
serial counter, the chain head) are then held for a handful of round trips per group.

A unit of work is acknowledged only after its group committed. When any unit of a group
fails, the group is rolled back and each of its units runs again alone, in a transaction of
its own, so that one unit's error (an idempotency key used twice, say) is that unit's alone;
when the database itself is away (OperationalError, InterfaceError), every unit of the group
gets that error at once, as each would have on its own.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from permits.db import begin_write, write_session

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a combined store

Store = Callable[[Session, list[I]], list[T]]
"""Stores many items in the session's transaction; returns one result per item, in order."""

MAX_GROUP = 64
"""Most units stored in one transaction (a group is whatever is queued, up to this)."""
WAIT_SECONDS = 120.0
"""Longest a request waits for its group (the database's own timeouts answer far sooner)."""


@dataclass(slots=True)
class _Unit(Generic[T]):
    work: Callable[[Session], T]
    done: Future[T]
    combine: tuple[Store[Any, T], Hashable] | None = None  # (store, key) of a combined unit
    item: Any = None


def _store_one(session: Session, *, store: Store[I, T], item: I) -> T:
    [result] = store(session, [item])
    return result


def _combined(store: Store[I, T], item: I, key: Hashable) -> _Unit[T]:
    """A unit that stores `item` with the other queued items of (`store`, `key`)."""
    return _Unit(partial(_store_one, store=store, item=item), Future(), (store, key), item)


class GroupCommit:
    """Runs units of write work from many threads in shared transactions, one group at a
    time, on a writer thread of its own per process (started on first use, so after a fork).

    `name` names the lane (and its thread): kinds of work that must not wait for each other
    get a GroupCommit each.
    """

    def __init__(self, engine: Engine, *, name: str, max_group: int = MAX_GROUP) -> None:
        self._engine = engine
        self._name = name
        self._max_group = max_group
        self._queue: queue.SimpleQueue[_Unit[Any]] = queue.SimpleQueue()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None

    def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` inside a write transaction shared with other units, and return
        its result once that transaction has committed; raise what `work` raised (after the
        rollback), or the error that stopped the commit.

        `work` must only write through the session it is given, and may run twice: once in
        its group and, should the group fail, once alone.
        """
        return self._submit(_Unit(work, Future()))

    def run_combined(self, store: Store[I, T], item: I, *, key: Hashable = None) -> T:
        """Store `item` with `store`, combined with the other queued items that have the same
        `store` and `key` into one call `store(session, items)`, inside a shared write
        transaction; return this item's result once that transaction has committed.

        As with `run`, an error of the combined call (or of the group) makes each unit run
        again alone, as `store(session, [item])`, so an item's error is its own.
        """
        return self._submit(_combined(store, item, key))

    async def run_combined_async(self, store: Store[I, T], item: I, *, key: Hashable = None) -> T:
        """As `run_combined`, awaited on the event loop instead of blocking a thread: a
        request whose only database work is this item needs no worker thread at all.

        A request cancelled while its item is queued (its client went away) leaves the item to
        be stored all the same; only the answer is dropped.
        """
        unit = self._enqueue(_combined(store, item, key))
        async with asyncio.timeout(WAIT_SECONDS):
            return await asyncio.wrap_future(unit.done)

    def _submit(self, unit: _Unit[T]) -> T:
        return self._enqueue(unit).done.result(timeout=WAIT_SECONDS)

    def _enqueue(self, unit: _Unit[T]) -> _Unit[T]:
        self.start()
        self._queue.put(unit)
        return unit

    def start(self) -> None:
        """Start the writer thread now, from the calling thread, unless it runs already (the
        first unit starts it otherwise). On Linux a thread takes its starter's CPU priority:
        the app starts its lanes from the event loop's thread, not from issuing's pool."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            return
        with self._start:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name=f"group-commit-{self._name}", daemon=True
                )
                self._thread.start()

    def _loop(self) -> None:
        while True:
            group = [self._queue.get()]
            while len(group) < self._max_group:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._store(group)

    def _store(self, group: list[_Unit[Any]]) -> None:
        try:
            results = self._transaction(group)
        except BaseException as exc:
            if len(group) == 1 or isinstance(exc, OperationalError | InterfaceError):
                for unit in group:  # the database is away or the unit failed alone
                    _settle(unit.done, error=exc)
                return
            for unit in group:  # each alone, so that an error is its own unit's only
                self._store([unit])
            return
        for unit, result in zip(group, results, strict=True):
            _settle(unit.done, result=result)

    def _transaction(self, group: list[_Unit[Any]]) -> list[Any]:
        """Run the group's units in one transaction and commit; return their results in
        order. Combined units of one (store, key) are stored by one call, where the first of
        them stood in the group."""
        runs: list[list[int]] = []  # indices into `group`, in the order they are run
        combined: dict[tuple[Any, Hashable], list[int]] = {}
        for index, unit in enumerate(group):
            if unit.combine is None:
                runs.append([index])
            elif unit.combine in combined:
                combined[unit.combine].append(index)
            else:
                combined[unit.combine] = [index]
                runs.append(combined[unit.combine])
        results: list[Any] = [None] * len(group)
        with write_session(self._engine) as session:
            for indices in runs:
                first = group[indices[0]]
                if first.combine is None:
                    results[indices[0]] = first.work(session)
                    continue
                stored = first.combine[0](session, [group[i].item for i in indices])
                for i, result in zip(indices, stored, strict=True):  # one result an item
                    results[i] = result
            session.commit()
        return results


def _settle(done: Future[T], *, result: Any = None, error: BaseException | None = None) -> None:
    """Give a unit its result or error, unless its waiter cancelled it (an awaited unit whose
    request was cancelled): the writer thread carries on either way."""
    try:
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)
    except InvalidStateError:
        pass


def commit_writes(
    session: Session, work: Callable[[Session], T], *, group_commit: GroupCommit | None
) -> T:
    """Run `work`, the writes that end a unit of work, and commit; return what it returned.

    Without a `group_commit`, in `session`'s own write transaction (`begin_write`); with one,
    in a transaction shared with other requests' writes, after `session`'s reads end (no
    snapshot is held while queued).
    """
    if group_commit is None:
        begin_write(session)
        result = work(session)
        session.commit()
        return result
    session.rollback()
    return group_commit.run(work)


def commit_combined(
    session: Session,
    store: Store[I, T],
    item: I,
    *,
    key: Hashable = None,
    group_commit: GroupCommit | None,
) -> T:
    """Store `item` with `store` and commit; return its result.

    Without a `group_commit`, alone in `session`'s own write transaction; with one, combined
    with other requests' items of the same `store` and `key` (`GroupCommit.run_combined`),
    after `session`'s reads end.
    """
    if group_commit is None:
        return commit_writes(
            session, partial(_store_one, store=store, item=item), group_commit=None
        )
    session.rollback()
    return group_commit.run_combined(store, item, key=key)
