"""Online backup and restore, round trip: `permits backup` while permits keep being issued,
`permits restore` into an empty database and key folder, and the restored service carries on.

On SQLite the backup uses SQLite's online backup API; on PostgreSQL pg_dump / pg_restore.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from permits.app import create_app
from permits.db import make_engine, write_session
from permits.errors import Conflict, PermitsError
from permits.issuance.models import Permit
from permits.issuance.schemas import PermitCreate
from permits.issuance.service import issue_permit
from permits.ops.backup import read_manifest, restore
from permits.settings import Settings
from permits.timezone import utcnow
from permits.trust.keystore import KeyStore
from tests.conftest import TEST_PASSPHRASE
from tests.factories import World
from tests.helpers import device_verifier
from tests.resilience.conftest import (
    assert_nothing_half_written,
    database_url,
    permit_request,
    random_reason,
    stored_permits,
)
from tests.resilience.processes import PERMITS, server_env
from verifier.model import Status


@pytest.fixture
def target_url(engine: Engine, tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database."""
    if engine.dialect.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored' / 'permits.db'}"
        return
    url = make_url(database_url(engine))
    name = f"{url.database}_restore"
    admin = make_engine(url.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PERMITS), *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_backup_while_issuing_then_restore(
    engine: Engine,
    keystore: KeyStore,
    world: World,
    client: TestClient,
    tmp_path: Path,
    target_url: str,
) -> None:
    doctor = world.auth("doctor")
    issued = [
        client.post("/api/v1/permits", json=permit_request(n, utcnow()), headers=doctor).json()
        for n in range(12)
    ]
    for permit in issued[:4]:
        response = client.post(
            f"/api/v1/permits/{permit['id']}/revoke",
            json={"reason": random_reason()},
            headers=doctor,
        )
        assert response.status_code == 200
    # Issuing goes on in the background while the backup runs.
    stop, extra = threading.Event(), []

    def keep_issuing() -> None:
        number = 1000
        while not stop.is_set():
            number += 1
            with write_session(engine) as session:
                extra.append(
                    issue_permit(
                        session,
                        caller=world.callers["doctor"],
                        request=PermitCreate.model_validate(permit_request(number, utcnow())),
                        keystore=keystore,
                        now=utcnow(),
                    ).permit.id
                )

    writer = threading.Thread(target=keep_issuing)
    writer.start()
    source_env = server_env(
        database_url=database_url(engine),
        keys_dir=keystore.directory,
        lists_dir=tmp_path / "lists",
        passphrase=TEST_PASSPHRASE,
    )
    try:
        backed_up = _cli(["backup", "--out", str(tmp_path / "backups")], source_env, tmp_path)
    finally:
        stop.set()
        writer.join()
    assert backed_up.returncode == 0, backed_up.stderr
    assert extra, "the backup ran while permits were being issued"
    folder = Path(backed_up.stdout.split()[0])
    manifest = read_manifest(folder)
    assert manifest["database"] == engine.dialect.name
    assert manifest["rows_before"]["permit"] >= len(issued)
    assert TEST_PASSPHRASE not in (folder / "manifest.json").read_text()

    # Restore into an empty database and an empty key folder (the service is stopped).
    target_keys = tmp_path / "restored-keys"
    target_env = server_env(
        database_url=target_url,
        keys_dir=target_keys,
        lists_dir=tmp_path / "restored-lists",
        passphrase=TEST_PASSPHRASE,
    )
    restored = _cli(["restore", str(folder)], target_env, tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "the audit chain verifies" in restored.stdout

    target = make_engine(target_url)
    try:
        source_rows, target_rows = stored_permits(engine), stored_permits(target)
        # A consistent snapshot: at least what existed before, every row as in the source.
        assert len(target_rows) >= manifest["rows_before"]["permit"]
        for permit_id, row in target_rows.items():
            assert source_rows[permit_id].qr_text == row.qr_text
            assert source_rows[permit_id].status == row.status
        restored_keystore = KeyStore(target_keys, TEST_PASSPHRASE, kdf_rounds=1000)
        assert restored_keystore.root_public_key() == keystore.root_public_key()
        assert_nothing_half_written(target, restored_keystore)

        # The restored service issues, and devices verify old and new permits with its lists.
        settings = Settings(
            env="test",
            database_url=target_url,
            keys_dir=target_keys,
            lists_dir=tmp_path / "restored-lists",
            key_passphrase=TEST_PASSPHRASE,  # type: ignore[arg-type]
            key_kdf_rounds=1000,
        )
        app = create_app(settings, engine=target, keystore=restored_keystore, clock=utcnow)
        with TestClient(app) as restored_client:
            new = restored_client.post(
                "/api/v1/permits", json=permit_request(5000, utcnow()), headers=doctor
            )
            assert new.status_code == 201, new.text
            verifier = device_verifier(restored_client, restored_keystore)
        now = utcnow()
        assert verifier.verify(new.json()["qr_text"], at=now).status is Status.VALID
        for permit in issued:
            expected = Status.REVOKED if permit in issued[:4] else Status.VALID
            assert verifier.verify(permit["qr_text"], at=now).status is expected

        # Restoring over a database that holds permits is refused without --force.
        with pytest.raises(Conflict, match="already holds permits"):
            restore(settings, target, folder=folder)
    finally:
        target.dispose()


def test_restore_refuses_a_damaged_backup_or_another_root_key(
    engine: Engine, keystore: KeyStore, world: World, settings: Settings, tmp_path: Path
) -> None:
    from permits.ops.backup import backup

    del world
    report = backup(settings, engine, out_dir=tmp_path / "backups", now=utcnow())
    other_root = KeyStore(tmp_path / "other-keys", TEST_PASSPHRASE, kdf_rounds=1000)
    other_root.ensure_root()
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        other = settings.model_copy(
            update={
                "keys_dir": other_root.directory,
                "database_url": f"sqlite:///{tmp_path / 'empty.db'}",
            }
        )
        if engine.dialect.name == "sqlite":
            with pytest.raises(Conflict, match="another root key"):
                restore(other, empty, folder=report.folder)
        database = next(p for p in report.folder.iterdir() if p.name.startswith("database"))
        data = bytearray(database.read_bytes())
        data[len(data) // 2] ^= 0xFF
        database.write_bytes(bytes(data))
        with pytest.raises(PermitsError, match="damaged"):
            restore(other, empty, folder=report.folder)
    finally:
        empty.dispose()
    with Session(engine) as session:
        assert session.exec(select(Permit)).all() == []  # the source was never touched
