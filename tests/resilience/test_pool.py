"""The PostgreSQL pool: a connection that rested is checked before reuse and replaced when
the server dropped it; one just returned is reused without a check (a round trip saved per
request), and should the server have dropped it, the error discards the whole pool."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from permits import db
from tests.conftest import PG_URL

pytestmark = pytest.mark.postgres


@pytest.fixture
def pool() -> Iterator[Engine]:
    assert PG_URL
    engine = db.make_engine(PG_URL, pool_size=2, max_overflow=0)
    yield engine
    engine.dispose()


def _backend(engine: Engine) -> int:
    with engine.connect() as connection:
        pid: int = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        return pid


def _terminate(pid: int) -> None:
    assert PG_URL
    other = db.make_engine(PG_URL, pool_size=1, max_overflow=0)
    try:
        with other.connect() as connection:
            assert connection.execute(
                text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}
            ).scalar_one()
    finally:
        other.dispose()


def test_a_connection_just_returned_is_reused_without_a_check(
    pool: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _backend(pool)
    pings: list[object] = []
    ping = pool.dialect.do_ping

    def counted(connection: object) -> bool:
        pings.append(connection)
        return ping(connection)  # type: ignore[arg-type]

    monkeypatch.setattr(pool.dialect, "do_ping", counted)
    assert _backend(pool) == first
    assert pings == []
    monkeypatch.setattr(db, "PG_PING_AFTER_IDLE", 0.0)
    assert _backend(pool) == first  # rested now: checked, alive, reused
    assert len(pings) == 1


def test_a_rested_connection_dropped_by_the_server_is_replaced(
    pool: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PG_PING_AFTER_IDLE", 0.0)  # every returned connection has rested
    first = _backend(pool)
    _terminate(first)
    second = _backend(pool)  # no error: the check found it dead and the pool connected anew
    assert second != first


def test_a_dropped_connection_not_yet_rested_fails_once_then_the_pool_is_fresh(
    pool: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db, "PG_PING_AFTER_IDLE", 3600.0)
    first = _backend(pool)
    _terminate(first)
    with pytest.raises(OperationalError):
        _backend(pool)
    assert _backend(pool) != first
