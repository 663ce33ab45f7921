"""Database engines and sessions: SQLite in WAL mode by default, PostgreSQL by URL."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


PG_CONNECT_TIMEOUT = 5  # seconds: an unreachable database answers 503, not a hung request
PG_POOL_TIMEOUT = 10  # seconds a request waits for a free connection before 503
PG_PING_AFTER_IDLE = 1.0  # seconds a pooled connection may rest before it is checked on reuse


def make_engine(
    url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 20
) -> Engine:
    """Create an engine for `url`.

    SQLite gets WAL mode, a 30 s busy timeout and foreign keys. Its transactions start with
    a plain BEGIN, so readers never block anyone; a session bound to `writer(engine)` starts
    with BEGIN IMMEDIATE instead, so two writers queue instead of failing on a stale snapshot.
    PostgreSQL gets a pool of `pool_size` (+ `max_overflow` under load) connections, a
    connect timeout and a pool timeout, so an outage fails fast and the pool recovers by
    itself when the server returns: a connection that rested in the pool for more than
    `PG_PING_AFTER_IDLE` seconds is checked before it is handed out (one that was just
    returned is not: under load that check would be a round trip per request), and an error
    that shows a lost connection discards the whole pool.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,  # no personal data or tokens in error messages and logs
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        _configure_sqlite(
            engine, lock_path=f"{path}-writer.lock" if path and path != ":memory:" else None
        )
        return engine
    engine = create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=PG_POOL_TIMEOUT,
        connect_args={"connect_timeout": PG_CONNECT_TIMEOUT},
    )
    _ping_rested_connections(engine)
    return engine


def _ping_rested_connections(engine: Engine) -> None:
    """Check a pooled connection before reuse when it rested longer than PG_PING_AFTER_IDLE.

    SQLAlchemy's `pool_pre_ping` checks every checkout, a round trip per request. A
    connection returned moments ago by a request that succeeded is alive unless the server
    went away in between, and then the first error discards the pool. One that rested
    through an outage is checked here, and a dead one is replaced (DisconnectionError makes
    the pool connect afresh).
    """
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at <= PG_PING_AFTER_IDLE:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure means the connection is gone
            raise DisconnectionError("a pooled connection was lost") from exc
        if not alive:
            raise DisconnectionError("a pooled connection was lost")


def _configure_sqlite(engine: Engine, *, lock_path: str | None) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # SQLite lets one writer in at a time, and a writer that finds the lock taken polls for
    # it with growing sleeps (1, 2, 5, 10 ... ms), which wastes most of the time under load.
    # Writers therefore queue first on a lock of this process, then on an flock() of a file
    # beside the database shared by every process (API workers, the CLI): both wake the next
    # writer the moment the last one commits. The kernel drops the flock of a process that
    # dies, so a killed worker never leaves the database locked.
    write_lock = threading.Lock()
    holder: list[int] = []  # id() of the raw connection holding `write_lock`, if any
    lock_file = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600) if lock_path else None
    do_commit, do_rollback = engine.dialect.do_commit, engine.dialect.do_rollback

    def _acquire(connection: Any) -> None:
        if not write_lock.acquire(timeout=SQLITE_BUSY_SECONDS):
            raise OperationalError("BEGIN IMMEDIATE", None, Exception("database is locked"))
        if lock_file is not None:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
            except BaseException:
                write_lock.release()
                raise
        holder.append(id(connection))

    def _release(connection: Any) -> None:
        raw = getattr(connection, "dbapi_connection", connection)
        if holder and holder[0] == id(raw):
            holder.clear()
            if lock_file is not None:
                fcntl.flock(lock_file, fcntl.LOCK_UN)
            write_lock.release()

    def _commit_then_release(connection: Any) -> None:
        try:
            do_commit(connection)
        finally:
            _release(connection)

    def _rollback_then_release(connection: Any) -> None:
        try:
            do_rollback(connection)
        finally:
            _release(connection)

    engine.dialect.do_commit = _commit_then_release  # type: ignore[method-assign,assignment]
    engine.dialect.do_rollback = _rollback_then_release  # type: ignore[method-assign,assignment]

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(_WRITER_OPTION):
            connection.exec_driver_sql("BEGIN")
            return
        _acquire(connection.connection.dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.connection)
            raise

    @event.listens_for(engine, "close")
    def _on_close(dbapi_connection: Any, _record: Any) -> None:
        _release(dbapi_connection)


_WRITER_OPTION = "permits_writer"
SQLITE_BUSY_SECONDS = 30


def writer(engine: Engine) -> Engine:
    """Return `engine` for sessions that write: on SQLite their transactions take the write
    lock at BEGIN (and wait for it up to the busy timeout); elsewhere it is `engine` as is."""
    if engine.dialect.name != "sqlite":
        return engine
    return engine.execution_options(**{_WRITER_OPTION: True})


_AUTOCOMMIT = "AUTOCOMMIT"


def reader(engine: Engine) -> Engine:
    """Return `engine` for read-first sessions whose reads need no shared snapshot: on
    PostgreSQL each read is its own statement in autocommit, which saves the BEGIN and
    ROLLBACK round trips around a request's few look-ups; SQLite's `engine` as is.

    Such a session still writes atomically: `begin_write` ends its reads and starts a real
    transaction, as it does on SQLite. Every write through it must come after `begin_write`.
    """
    if engine.dialect.name == "sqlite":
        return engine
    return engine.execution_options(isolation_level=_AUTOCOMMIT)


def write_session(engine: Engine) -> Session:
    """Return a new session for a unit of work that writes (see `writer`)."""
    return Session(writer(engine), expire_on_commit=False)


def begin_write(session: Session) -> None:
    """Make the rest of `session`'s work one write transaction, from here to its commit.

    For a unit of work that reads, validates and signs first and writes last: on SQLite the
    read transaction (if any) ends here and a BEGIN IMMEDIATE transaction starts, so the
    write lock is held only for the writes. A session that is already writing is left as it
    is, and so is one on another database (there, row locks do this job), except that on
    PostgreSQL a session of `reader(engine)` leaves autocommit here for a transaction at the
    database's own isolation level. Objects read before stay usable: sessions here do not
    expire them.
    """
    bind = session.get_bind()
    if bind.dialect.name != "sqlite":
        if bind.get_execution_options().get("isolation_level") == _AUTOCOMMIT:
            if session.in_transaction():
                session.commit()  # reads only, one by one: nothing to keep
            level = bind.dialect.default_isolation_level or "READ COMMITTED"
            session.connection(execution_options={"isolation_level": level})
        return
    if session.in_transaction():
        if session.connection().get_execution_options().get(_WRITER_OPTION):
            return
        session.commit()  # a read transaction: nothing was written
    session.connection(execution_options={_WRITER_OPTION: True})
