"""Shared set-up for the operations benchmarks (load, faults): a private PostgreSQL database,
the demo-like world, the production server, and a small fast HTTP/1.1 client for load.

Everything stays on loopback and every run stops by itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSPHRASE = "load-benchmark-passphrase-not-secret"
SECRET = "load-benchmark-session-secret-not-secret"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432"


def machine() -> str:
    """One line naming the machine the figures come from."""
    load = os.getloadavg()[0]
    return (
        f"{platform.node()} · {os.cpu_count()} cores · Python {platform.python_version()} · "
        f"load average {load:.2f} at start"
    )


@contextmanager
def private_database(server_url: str, name: str) -> Iterator[str]:
    """Create database `name` on the PostgreSQL server at `server_url` (dropping an old one),
    yield its URL, and drop it afterwards."""
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{server_url}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Prepared:
    """A migrated database with the demo-like world and its API tokens."""

    url: str
    keys_dir: Path
    tokens: dict[str, str]
    world: Any
    keystore: Any


def prepare(url: str, folder: Path, *, kdf_rounds: int = 100_000) -> Prepared:
    """Migrate the database at `url` and create the demo organisations, keys and users."""
    from permits.db import make_engine, write_session
    from permits.migrations import upgrade
    from permits.timezone import utcnow
    from permits.trust.keystore import KeyStore
    from tests.factories import build_world

    engine = make_engine(url)
    upgrade(engine)
    keystore = KeyStore(folder / "keys", PASSPHRASE, kdf_rounds=kdf_rounds)
    keystore.ensure_root()
    with write_session(engine) as session:
        world = build_world(session, keystore=keystore, now=utcnow() - timedelta(days=1))
    engine.dispose()
    return Prepared(url, folder / "keys", dict(world.tokens), world, keystore)


def production_env(prepared: Prepared, folder: Path) -> dict[str, str]:
    """The environment of `permits serve --production` on the prepared database."""
    from tests.resilience.processes import server_env

    return server_env(
        database_url=prepared.url,
        keys_dir=prepared.keys_dir,
        lists_dir=folder / "lists",
        passphrase=PASSPHRASE,
        kdf_rounds=100_000,
        env="production",
        extra={"PERMITS_SECRET_KEY": SECRET},
    )


def permit_body(number: int, now: datetime) -> dict[str, Any]:
    """A medical-staff request valid all day for a week, with a person of its own (the same
    request as tests/resilience's, without importing the test fixtures)."""
    from permits.timezone import LOCAL

    start = now.astimezone(LOCAL).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "category": "medical_staff",
        "persons": [
            {
                "role": "staff_member",
                "first_name": "ნინო",
                "last_name": "ბერიძე",
                "personal_number": f"{10_000_000_000 + number:011d}",
                "position": "ექთანი",
            }
        ],
        "vehicle": {"kind": "car", "plate": f"AA-{number % 1000:03d}-BB"},
        "route": {"from_municipality": 5, "to_municipality": 7, "to_address": "Rustavi, Clinic 3"},
        "schedule": {
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=7)).isoformat(),
        },
    }


def wait_until(moment: float) -> None:
    """Sleep until the wall-clock `moment` (both load processes start together)."""
    delay = moment - time.time()
    if delay > 0:
        time.sleep(delay)


# -- a small HTTP/1.1 client: keep-alive, Content-Length bodies, nothing else ---------------


class Connection:
    """One keep-alive HTTP/1.1 connection to 127.0.0.1:`port`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect."""
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Send one request and return (status, body); reconnects once if the peer closed."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body or method == "POST":
            lines.append("Content-Type: application/json")
            lines.append(f"Content-Length: {len(body)}")
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    async def close(self) -> None:
        """Close."""
        if self.writer is not None:
            self.writer.close()
            with suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None


@dataclass
class Tally:
    """Latencies (seconds) and status codes of one kind of request."""

    latencies: list[float]
    statuses: dict[int, int]
    errors: list[str]

    @classmethod
    def new(cls) -> Tally:
        """An empty tally."""
        return cls([], {}, [])

    def add(self, status: int, seconds: float) -> None:
        """Count one answer."""
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def as_json(self) -> dict[str, Any]:
        """The tally as JSON-able values."""
        return {"latencies": self.latencies, "statuses": self.statuses, "errors": self.errors}


def percentile(values: list[float], share: float) -> float:
    """The `share` (0..1) percentile of `values` (nearest rank), 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def summary(name: str, tally: dict[str, Any], seconds: float) -> dict[str, Any]:
    """Requests, rate, p50 and p99 (ms) and 5xx count of one kind."""
    latencies = tally["latencies"]
    statuses = {int(k): v for k, v in tally["statuses"].items()}
    return {
        "kind": name,
        "requests": len(latencies),
        "per_second": len(latencies) / seconds if seconds else 0.0,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "server_errors": sum(v for k, v in statuses.items() if k >= 500),
        "statuses": statuses,
        "errors": tally["errors"][:5],
    }


def write_json(path: Path, value: Any) -> None:
    """Write `value` as JSON."""
    path.write_text(json.dumps(value), encoding="utf-8")


def now_monotonic() -> float:
    """time.monotonic, named for the load loops."""
    return time.monotonic()
