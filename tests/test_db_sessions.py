"""Read-first sessions of `reader(engine)`: on PostgreSQL their reads run in autocommit (no
BEGIN and ROLLBACK round trips), and `begin_write` makes what follows one atomic
transaction again, as on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from permits.db import begin_write, reader

INSERT = text("INSERT INTO list_state (kind, counter) VALUES (:kind, 0)")


def _kinds(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {row[0] for row in connection.execute(text("SELECT kind FROM list_state"))}


def _autocommit(session: Session) -> bool:
    return bool(session.connection().connection.dbapi_connection.autocommit)  # type: ignore[union-attr]


@pytest.mark.postgres
def test_reads_run_in_autocommit_and_writes_in_a_transaction(engine: Engine) -> None:
    with Session(reader(engine)) as session:
        session.connection().execute(text("SELECT 1"))
        assert _autocommit(session)
        begin_write(session)
        assert not _autocommit(session)
        session.connection().execute(INSERT, {"kind": "rs-one"})
        session.connection().execute(INSERT, {"kind": "rs-two"})
        session.rollback()  # a failure before the commit: neither row stays
    assert not {"rs-one", "rs-two"} & _kinds(engine)
    with Session(engine) as other:  # the pooled connection went back as it was
        assert not _autocommit(other)


def test_a_reader_session_writes_atomically_after_begin_write(engine: Engine) -> None:
    with Session(reader(engine)) as session:
        assert "rs-kept" not in _kinds(engine)
        begin_write(session)
        session.connection().execute(INSERT, {"kind": "rs-kept"})
        session.connection().execute(INSERT, {"kind": "rs-also"})
        assert "rs-kept" not in _kinds(engine)  # not visible before the commit
        session.commit()
    assert {"rs-kept", "rs-also"} <= _kinds(engine)
