"""Production serving: `permits serve --production --workers N` (or `make serve-prod`).

One command brings everything up:
  1. refuses anything but PostgreSQL (several processes write at once);
  2. runs the migrations, creates the root key and policy version 1 if missing (no demo data);
  3. writes the signed lists into the static folder, served at /lists/ by every worker;
  4. starts the list publisher in this process (a new list version whenever something
     changed, checked every --publish-every seconds; 0 leaves publishing to another node);
  5. starts N uvicorn worker processes on `permits.ops.asgi:app`, each on a socket of its
     own (`permits.ops.workers`: the kernel spreads connections between them); a worker
     that dies is started again. Each worker's connection pool is sized so that all of
     them together stay under PostgreSQL's max_connections.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from permits.errors import PermitsError
from permits.settings import Settings
from permits.timezone import utcnow

log = logging.getLogger("permits.ops.serve")

POOL_ENV = "PERMITS_OPS_POOL"  # "size,overflow" handed from the supervisor to each worker
RESERVED_CONNECTIONS = 10  # left free for psql, backups, migrations and the publisher
MAX_POOL_PER_WORKER = 20


@dataclass(frozen=True, slots=True)
class PoolPlan:
    """How many database connections each worker keeps and may add under load."""

    size: int
    overflow: int

    def as_env(self) -> str:
        """Return the plan as the value of PERMITS_OPS_POOL."""
        return f"{self.size},{self.overflow}"


def production_workers() -> int:
    """The production server's default number of worker processes: one for each core.

    Measured on two cores (docs/scaling.md §2): two workers answered more online checks
    while issuing went on (1,007–1,078/s, p99 28–33 ms, in two-minute runs) than four did
    (796–960/s, p99 46–64 ms), and issued as many permits alone (516/s against 475/s). More
    processes than cores only take turns on them, and each keeps smaller groups in its lanes.
    """
    if hasattr(os, "sched_getaffinity"):  # the cores this process may use (Linux)
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def plan_pool(max_connections: int, workers: int) -> PoolPlan:
    """Share `max_connections` (less a reserve) between `workers` processes.

    Each worker keeps half of its share open and may open the other half under load; a
    worker never holds more than MAX_POOL_PER_WORKER. Raises PermitsError when the database
    cannot give every worker at least two connections.
    """
    share = min((max_connections - RESERVED_CONNECTIONS) // max(workers, 1), MAX_POOL_PER_WORKER)
    if share < 2:
        raise PermitsError(
            f"PostgreSQL allows {max_connections} connections: too few for {workers} workers "
            "(lower --workers or raise max_connections)",
            code="too_many_workers",
        )
    size = max(1, share // 2)
    return PoolPlan(size=size, overflow=share - size)


def pool_from_environment() -> dict[str, Any]:
    """Return make_engine's pool arguments from PERMITS_OPS_POOL (empty when not set)."""
    value = os.environ.get(POOL_ENV, "")
    if not value:
        return {}
    size, overflow = (int(part) for part in value.split(","))
    return {"pool_size": size, "max_overflow": overflow}


def _max_connections(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SHOW max_connections")).scalar_one())


def serve_production(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    publish_every: float = 10.0,
) -> None:
    """Prepare the database, keys and lists, then serve with `workers` processes until stopped.

    Raises PermitsError when the database is not PostgreSQL or cannot serve that many
    workers.
    """
    from permits.bootstrap import initialise
    from permits.db import make_engine
    from permits.ops.http_protocol import CoalescingHttpToolsProtocol
    from permits.ops.publisher import ListPublisher, publish_once
    from permits.ops.workers import serve_workers
    from permits.trust.keystore import keystore_for

    if settings.is_sqlite:
        raise PermitsError(
            "production mode runs on PostgreSQL: set PERMITS_DATABASE_URL="
            "postgresql+psycopg://user@host/dbname (SQLite serves `make run` only)",
            code="production_needs_postgres",
        )
    if workers < 1:
        raise PermitsError("--workers must be at least 1", code="invalid", field="workers")
    engine = make_engine(settings.database_url, pool_size=2, max_overflow=0)
    keystore = keystore_for(settings)
    initialise(engine, keystore=keystore, now=utcnow(), demo=False)
    plan = plan_pool(_max_connections(engine), workers)
    os.environ[POOL_ENV] = plan.as_env()
    refresh_after = timedelta(seconds=settings.list_refresh_seconds)
    publish_once(
        engine,
        keystore=keystore,
        out_dir=settings.lists_dir,
        now=utcnow(),
        refresh_after=refresh_after,
    )
    publisher = None
    if publish_every > 0:  # 0: another node publishes (see docs/scaling.md)
        publisher = ListPublisher(
            engine,
            keystore=keystore,
            out_dir=settings.lists_dir,
            clock=utcnow,
            refresh_after=refresh_after,
            every=publish_every,
        ).start()
    print(
        f"serving permits (production) on http://{host}:{port} with {workers} workers, "
        f"{plan.size}+{plan.overflow} database connections each; "
        f"lists in {settings.lists_dir} at /lists/",
        flush=True,
    )
    try:
        serve_workers(
            "permits.ops.asgi:app",
            host=host,
            port=port,
            workers=workers,
            http=CoalescingHttpToolsProtocol,  # one write per answer (http_protocol.py)
            access_log=False,
            log_level="warning",
            proxy_headers=False,
            server_header=False,
            timeout_keep_alive=30,
            backlog=4096,
            timeout_graceful_shutdown=20,
        )
    finally:
        if publisher is not None:
            publisher.stop()
        engine.dispose()
