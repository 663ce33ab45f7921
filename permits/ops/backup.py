"""Online backup and restore: `permits backup` and `permits restore`.

A backup is a folder holding a consistent snapshot of the database, the key folder (private
keys stay encrypted under the passphrase, which is NOT in the backup) and a manifest:

    permits-backup-20261201T101500Z/
        database.sqlite3     SQLite: the online backup API (writers carry on meanwhile)
        database.dump        PostgreSQL: pg_dump --format=custom (one consistent snapshot)
        keys.tar             the key folder as it is
        manifest.json        what was saved: sizes, SHA-256 of each file, rows per table

Restore is done with the service stopped. It refuses to overwrite a database that already
holds permits, or a different root key, unless forced; afterwards it checks the row counts
against the manifest and the audit chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine, make_url

from permits.errors import Conflict, PermitsError, ServiceUnavailable
from permits.settings import Settings

MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
KEYS_FILE = "keys.tar"
FORMAT = 1


@dataclass
class BackupReport:
    """Where a backup went, and what it holds."""

    folder: Path
    manifest: dict[str, Any] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def row_counts(engine: Engine) -> dict[str, int]:
    """Return the number of rows of every table of the service."""
    from permits.tables import metadata

    counts: dict[str, int] = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            counts[table.name] = int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
    return counts


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise PermitsError("an in-memory SQLite database cannot be backed up", code="invalid")
    return Path(url.database)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """Return a libpq URI without the password, and the environment that carries it."""
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ServiceUnavailable(
            f"{name} is not installed: install PostgreSQL's client tools "
            "(Debian: apt-get install postgresql-client, the server's major version)",
            code="tool_missing",
        )
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        # pg_dump's messages name the database and host, never the password (it is in env).
        raise PermitsError(
            f"{Path(command[0]).name} failed: {result.stderr.strip()[:500]}", code="backup_failed"
        )


def _backup_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page with the backup API (a consistent snapshot)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        with dst:
            src.backup(dst)
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise PermitsError(f"the backup copy is damaged: {check}", code="backup_failed")
    finally:
        dst.close()
        src.close()


def _tar_keys(keys_dir: Path, target: Path) -> None:
    with tarfile.open(target, "w") as archive:
        if keys_dir.exists():
            for path in sorted(keys_dir.rglob("*")):
                if path.is_file():
                    archive.add(path, arcname=str(path.relative_to(keys_dir)), recursive=False)


def backup(settings: Settings, engine: Engine, *, out_dir: Path, now: datetime) -> BackupReport:
    """Write a backup folder under `out_dir` while the service keeps running; return it.

    SQLite is copied with its online backup API, PostgreSQL with pg_dump (one snapshot).
    The key folder is archived as it is (private keys stay encrypted).
    """
    url = make_url(settings.database_url)
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    folder = out_dir / f"permits-backup-{stamp}"
    suffix = 1
    while folder.exists():
        suffix += 1
        folder = out_dir / f"permits-backup-{stamp}-{suffix}"
    folder.mkdir(parents=True, mode=0o700)
    counts = row_counts(engine)
    if url.get_backend_name() == "sqlite":
        database_file = folder / SQLITE_FILE
        _backup_sqlite(_sqlite_path(url), database_file)
        kind = "sqlite"
    elif url.get_backend_name() == "postgresql":
        database_file = folder / PG_FILE
        uri, env = _libpq(url)
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--file={database_file}",
                f"--dbname={uri}",
            ],
            env,
        )
        kind = "postgresql"
    else:
        raise PermitsError(f"cannot back up a {url.get_backend_name()} database", code="invalid")
    keys_file = folder / KEYS_FILE
    _tar_keys(settings.keys_dir, keys_file)
    manifest = {
        "format": FORMAT,
        "created": now.isoformat(),
        "database": kind,
        "files": {
            path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)}
            for path in (database_file, keys_file)
        },
        # Counted just before the snapshot: a busy service may have added rows since.
        "rows_before": counts,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return BackupReport(folder, manifest)


def read_manifest(folder: Path) -> dict[str, Any]:
    """Return a backup's manifest after checking every file's SHA-256 against it."""
    try:
        manifest: dict[str, Any] = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PermitsError(f"{folder} is not a backup: no {MANIFEST}", code="invalid") from exc
    if manifest.get("format") != FORMAT:
        raise PermitsError(f"unknown backup format {manifest.get('format')!r}", code="invalid")
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.exists() or _sha256(path) != expected["sha256"]:
            raise PermitsError(f"{name} is missing or damaged (SHA-256 differs)", code="invalid")
    return manifest


def _has_permits(engine: Engine) -> bool:
    from sqlalchemy import inspect

    if "permit" not in inspect(engine).get_table_names():
        return False
    return row_counts(engine).get("permit", 0) > 0


def _restore_keys(archive_path: Path, keys_dir: Path, *, force: bool) -> None:
    with tarfile.open(archive_path) as archive:
        members = archive.getmembers()
        for member in members:
            target = (keys_dir / member.name).resolve()
            if not member.isfile() or keys_dir.resolve() not in target.parents:
                raise PermitsError(f"unexpected entry {member.name!r} in keys.tar", code="invalid")
        existing_roots = {p.name for p in (keys_dir / "root").glob("*.p12")}
        backup_roots = {Path(m.name).name for m in members if m.name.startswith("root/")}
        if existing_roots and existing_roots != backup_roots and not force:
            raise Conflict(
                "the key folder holds another root key: restoring would change the root of "
                "trust every device pins (use --force only if that is intended)",
                code="root_key_differs",
            )
        for member in members:
            target = keys_dir / member.name
            handle = archive.extractfile(member)
            assert handle is not None
            data = handle.read()
            if target.exists() and target.read_bytes() != data and not force:
                raise Conflict(f"{member.name} exists and differs", code="key_differs")
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with io.open(target, "wb") as out:  # noqa: UP020 - explicit binary write
                out.write(data)
            target.chmod(0o600 if target.suffix == ".p12" else 0o644)


def restore(
    settings: Settings, engine: Engine, *, folder: Path, force: bool = False
) -> dict[str, int]:
    """Restore a backup folder into the configured database and key folder (service stopped).

    Refuses a database that already holds permits unless `force`. Returns the restored row
    counts; raises PermitsError when the restored audit chain does not verify.
    """
    from sqlmodel import Session

    from permits.audit.service import verify_chain

    manifest = read_manifest(folder)
    url = make_url(settings.database_url)
    if manifest["database"] != url.get_backend_name():
        raise PermitsError(
            f"this backup is of a {manifest['database']} database; the configured one is "
            f"{url.get_backend_name()}",
            code="invalid",
        )
    if _has_permits(engine) and not force:
        raise Conflict(
            "the target database already holds permits: restore into an empty database "
            "(or use --force to replace it)",
            code="database_not_empty",
        )
    _restore_keys(folder / KEYS_FILE, settings.keys_dir, force=force)
    if manifest["database"] == "sqlite":
        engine.dispose()
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        src = sqlite3.connect(f"file:{folder / SQLITE_FILE}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            with dst:
                src.backup(dst)
        finally:
            dst.close()
            src.close()
    else:
        uri, env = _libpq(url)
        engine.dispose()
        _run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                f"--dbname={uri}",
                str(folder / PG_FILE),
            ],
            env,
        )
    counts = row_counts(engine)
    with Session(engine) as session:
        chain = verify_chain(session)
    if not chain.intact:
        raise PermitsError(
            f"the restored audit chain is broken at event {chain.first_broken_seq}: {chain.reason}",
            code="restore_failed",
        )
    return counts
