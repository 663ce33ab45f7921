"""Shared fixtures: a fresh migrated database per test (SQLite or PostgreSQL), a clock that
tests can stand at any moment, a key store in a temporary folder, and a demo-like world."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from permits.app import create_app
from permits.db import make_engine
from permits.migrations import upgrade
from permits.settings import Settings
from permits.timezone import LOCAL
from permits.trust.keystore import KeyStore
from tests.factories import World, build_world

PG_URL = os.environ.get("PERMITS_TEST_DATABASE_URL")
REQUIRE_POSTGRES = os.environ.get("PERMITS_REQUIRE_POSTGRES") == "1"
TEST_PASSPHRASE = "test-passphrase-not-secret"
SEEDED = {
    "audit_head": "INSERT INTO audit_head (id, seq, last_hash) VALUES (1, 0, :zero)",
    "list_state": "INSERT INTO list_state (kind, counter) VALUES ('trust', 0), ('revocation', 0)",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each run leaves out the tests of the other database instead of skipping them: the
    SQLite run (`make test`) leaves out `postgres` tests, which `make test-pg` runs; the
    PostgreSQL run leaves out `sqlite_only` tests. A skip would then always mean a missing
    part, which CI turns into a failure."""
    other = "sqlite_only" if PG_URL else "postgres"
    left_out = [item for item in items if item.get_closest_marker(other)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker(other)]


class Clock:
    """A clock the test sets; the app reads it for 'now'."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when if when.tzinfo else when.replace(tzinfo=LOCAL)

    def advance(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment in Tbilisi local time."""
    return datetime(year, month, day, hour, minute, tzinfo=LOCAL)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    if PG_URL:
        engine = make_engine(PG_URL)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
                connection.exec_driver_sql("CREATE SCHEMA public")
        except OperationalError as exc:
            message = f"PostgreSQL at {PG_URL} is not reachable: {exc.orig}"
            if REQUIRE_POSTGRES:
                pytest.fail(message)
            pytest.skip(message)
        upgrade(engine)
        yield "postgresql", engine
        engine.dispose()  # close its pooled connections before the interpreter does
        return
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    yield "sqlite", path


@pytest.fixture
def engine(database_template: tuple[str, object], tmp_path: Path) -> Iterator[Engine]:
    kind, value = database_template
    if kind == "sqlite":
        assert isinstance(value, Path)
        target = tmp_path / "permits.db"
        shutil.copy(value, target)
        engine = make_engine(f"sqlite:///{target}")
        yield engine
        engine.dispose()
        return
    assert isinstance(value, Engine)
    _reset_postgres(value)
    yield value


def _reset_postgres(engine: Engine) -> None:
    from permits.tables import metadata

    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        connection.execute(text(SEEDED["audit_head"]), {"zero": "0" * 64})
        connection.execute(text(SEEDED["list_state"]))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2026, 12, 1, 10, 0))


@pytest.fixture
def keystore(tmp_path: Path) -> KeyStore:
    store = KeyStore(tmp_path / "keys", TEST_PASSPHRASE, kdf_rounds=1000)
    store.ensure_root()
    return store


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return Settings(
        env="test",
        database_url=engine.url.render_as_string(hide_password=False),
        keys_dir=tmp_path / "keys",
        lists_dir=tmp_path / "lists",
        key_passphrase=TEST_PASSPHRASE,  # type: ignore[arg-type]
        key_kdf_rounds=1000,
    )


@pytest.fixture
def world(session: Session, keystore: KeyStore, clock: Clock) -> World:
    return build_world(session, keystore=keystore, now=clock() - timedelta(days=30))


@pytest.fixture
def client(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Clock, world: World
) -> Iterator[TestClient]:
    app = create_app(settings, engine=engine, keystore=keystore, clock=clock)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def live_server(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Clock, world: World
) -> Iterator[str]:
    """The app served over real HTTP on a free port (for the browser); yields its base URL."""
    from tests.browser import LiveServer

    server = LiveServer(create_app(settings, engine=engine, keystore=keystore, clock=clock))
    yield server.start().url
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, through Playwright (skips, or fails in CI, without it)."""
    from tests.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    """A fresh browser context and page (a phone-sized 360x640 screen by default)."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="ka-GE")  # type: ignore[attr-defined]
    yield context.new_page()
    context.close()
