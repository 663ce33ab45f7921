"""Shared set-up for the spine's benchmarks: a fresh SQLite database, keys and the demo world
in a temporary folder, served in-process (TestClient) or as a real server process."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "benchmark-passphrase-not-secret"


def machine() -> str:
    """One line naming the machine the figures come from."""
    return f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()}"


@dataclass
class InProcess:
    """A migrated SQLite database with the demo world, and a TestClient on the app."""

    client: object
    world: object
    keystore: object
    now: datetime


@contextmanager
def in_process(now: datetime) -> Iterator[InProcess]:
    """Yield the app on a fresh database in a temporary folder (the clock stands at `now`)."""
    from fastapi.testclient import TestClient

    from permits.app import create_app
    from permits.db import make_engine
    from permits.migrations import upgrade
    from permits.settings import Settings
    from permits.trust.keystore import KeyStore
    from tests.factories import build_world

    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        engine = make_engine(f"sqlite:///{base / 'permits.db'}")
        upgrade(engine)
        keystore = KeyStore(base / "keys", PASSPHRASE, kdf_rounds=1000)
        keystore.ensure_root()
        from sqlmodel import Session

        from permits.db import writer

        with Session(writer(engine), expire_on_commit=False) as session:
            world = build_world(session, keystore=keystore, now=now - timedelta(days=30))
        settings = Settings(
            env="test",
            database_url=str(engine.url),
            keys_dir=base / "keys",
            lists_dir=base / "lists",
            key_passphrase=PASSPHRASE,  # type: ignore[arg-type]
            key_kdf_rounds=1000,
        )
        app = create_app(settings, engine=engine, keystore=keystore, clock=lambda: now)
        with TestClient(app) as client:
            yield InProcess(client, world, keystore, now)
        engine.dispose()


@dataclass
class ServerProcess:
    """A `permits serve` process on a fresh SQLite database, and the demo API tokens."""

    url: str
    tokens: dict[str, str]


@contextmanager
def server_process(
    port: int, *, workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[ServerProcess]:
    """Start `permits serve` in a temporary folder (demo data on SQLite unless `env` names
    another database), wait until it answers, yield it, and stop it."""
    import urllib.request

    with tempfile.TemporaryDirectory() as folder:
        environment = {
            **os.environ,
            "PERMITS_ENV": "demo",
            "PERMITS_KEY_KDF_ROUNDS": "100000",
            **(env or {}),
        }
        environment["PYTHONPATH"] = str(ROOT)  # this checkout, wherever the venv points
        command = [
            sys.executable,
            "-m",
            "permits.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ]
        log = open(Path(folder) / "server.log", "w")  # noqa: SIM115 - closed below
        process = subprocess.Popen(command, cwd=folder, env=environment, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(
                            (Path(folder) / "server.log").read_text(encoding="utf-8")
                        ) from None
                    time.sleep(0.3)
            tokens = {}
            for line in (Path(folder) / "var" / "demo-logins.txt").read_text().splitlines()[1:]:
                parts = line.split()
                tokens[parts[0]] = parts[-1]
            yield ServerProcess(url, tokens)
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()
