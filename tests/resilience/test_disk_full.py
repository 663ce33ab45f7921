"""A full disk under SQLite: a clear error, nothing half-stored, no corruption, and issuing
resumes by itself once there is room again.

Two ways to fill the disk:
- "tmpfs": the database lives on a real 4 MB tmpfs filled with a filler file, so SQLite meets
  a real ENOSPC (needs permission to mount, as root in CI; skipped otherwise);
- "max_page_count": SQLite's own page limit (PRAGMA max_page_count) stands for the disk's
  size; SQLite answers exactly as on a full disk (SQLITE_FULL). Runs everywhere.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.engine import Engine

from permits.api.errors import STORAGE_FULL
from permits.app import create_app
from permits.db import make_engine, write_session
from permits.migrations import upgrade
from permits.settings import Settings
from permits.timezone import utcnow
from permits.trust.keystore import KeyStore
from tests.conftest import TEST_PASSPHRASE, Clock
from tests.factories import World, build_world
from tests.resilience.conftest import (
    assert_nothing_half_written,
    idempotency_key,
    permit_request,
    stored_permits,
)

CHUNK = 64 * 1024


@contextlib.contextmanager
def tmpfs(folder: Path, size: str) -> Iterator[Path]:
    """Mount a tmpfs of `size` on `folder` for the block (skip when mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["/usr/bin/mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()}); "
            "the max_page_count variant covers a full disk"
        )
    try:
        yield folder
    finally:
        subprocess.run(["/usr/bin/umount", "-l", str(folder)], check=False)


def _write_forever(handle: BinaryIO) -> None:
    while True:
        handle.write(b"\0" * CHUNK)
        handle.flush()


def fill(folder: Path, leave: int) -> Path:
    """Fill the filesystem of `folder` with a filler file, then give back `leave` bytes."""
    filler = folder / "filler"
    with filler.open("wb") as handle, pytest.raises(OSError, match="No space left") as full:
        _write_forever(handle)
    assert full.value.errno == errno.ENOSPC
    size = filler.stat().st_size
    with filler.open("r+b") as handle:
        handle.truncate(max(0, size - leave))
    return filler


def _world_engine(path: Path, keystore: KeyStore, clock: Clock) -> tuple[Engine, World]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with write_session(engine) as session:
        world = build_world(session, keystore=keystore, now=clock())
    return engine, world


def _issue_until_full(client: TestClient, headers: dict[str, str]) -> tuple[list[str], Any]:
    acknowledged: list[str] = []
    for number in range(1, 5000):
        response = client.post(
            "/api/v1/permits",
            json=permit_request(number, utcnow()),
            headers={**headers, "Idempotency-Key": idempotency_key()},
        )
        if response.status_code != 201:
            return acknowledged, response
        acknowledged.append(response.json()["id"])
    raise AssertionError("the disk never filled up")


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


@pytest.mark.parametrize("how", ["tmpfs", "max_page_count"])
def test_a_full_disk_is_a_clear_error_not_corruption(
    how: str, tmp_path: Path, keystore: KeyStore, clock: Clock
) -> None:
    with contextlib.ExitStack() as stack:
        if how == "tmpfs":
            disk = stack.enter_context(tmpfs(tmp_path / "disk", "4m"))
        else:
            disk = tmp_path / "disk"
            disk.mkdir()
        path = disk / "permits.db"
        engine, world = _world_engine(path, keystore, clock)
        limit = {"pages": 0}
        if how == "tmpfs":
            filler = fill(disk, leave=256 * 1024)
        else:
            with engine.connect() as connection:
                pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
            limit["pages"] = int(pages) + 40

            @event.listens_for(engine, "connect")
            def _limit(dbapi_connection: Any, _record: Any) -> None:
                if limit["pages"]:
                    dbapi_connection.execute(f"PRAGMA max_page_count = {limit['pages']}")

            engine.dispose()  # new connections take the limit
        settings = Settings(
            env="test",
            database_url=f"sqlite:///{path}",
            keys_dir=keystore.directory,
            lists_dir=tmp_path / "lists",
            key_passphrase=TEST_PASSPHRASE,  # type: ignore[arg-type]
            key_kdf_rounds=1000,
        )
        app = create_app(settings, engine=engine, keystore=keystore, clock=utcnow)
        with TestClient(app) as client:
            headers = world.auth("doctor")
            acknowledged, refused = _issue_until_full(client, headers)
            # A clear error: 503, storage_full, a message that says what to do.
            assert refused.status_code == 503, refused.text
            error = refused.json()["errors"][0]
            assert (error["code"], error["message"]) == ("storage_full", STORAGE_FULL)
            assert len(acknowledged) > 0
            # What was acknowledged is there and readable; the refused request stored nothing.
            for permit_id in acknowledged[-3:]:
                assert (
                    client.get(f"/api/v1/permits/{permit_id}", headers=headers).status_code == 200
                )
            assert set(stored_permits(engine)) == set(acknowledged)
            assert _integrity(path) == "ok"
            # Room again (the filler removed, or the limit lifted): issuing resumes by itself.
            if how == "tmpfs":
                filler.unlink()
            else:
                limit["pages"] = 0
                engine.dispose()
            again = client.post(
                "/api/v1/permits",
                json=permit_request(9999, utcnow()),
                headers={**headers, "Idempotency-Key": idempotency_key()},
            )
            assert again.status_code == 201, again.text
        assert set(stored_permits(engine)) == {*acknowledged, again.json()["id"]}
        assert_nothing_half_written(engine, keystore)
        engine.dispose()
        assert _integrity(path) == "ok"
