"""Faults, timed: how long the production server on PostgreSQL takes to come back, and what
it loses (nothing acknowledged may be lost).

    .venv/bin/python benchmarks/bench_faults.py [--rounds 3] [--workers 2]

Each round, with issuers posting permits meanwhile (Idempotency-Key on every request):
  1. SIGKILL the whole server (supervisor and workers), start it again, and time until
     /readyz answers;
  2. cut the database away (a TCP proxy between the server and PostgreSQL), then give it
     back, and time until the first permit is issued again, with the same processes;
afterwards every acknowledged permit must be stored and every unanswered request, retried
with its key, must issue its permit exactly once.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from _ops import DEFAULT_PG, machine, permit_body, prepare, private_database, production_env


def main() -> int:
    """Run the rounds and print the recovery times."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8108)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    args = parser.parse_args()

    import httpx2
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from permits.timezone import utcnow
    from tests.resilience.processes import ServerProcess, TcpProxy

    print(f"bench_faults: {machine()}")
    restarts, recoveries = [], []
    acknowledged: dict[str, str] = {}
    unanswered: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    with (
        tempfile.TemporaryDirectory() as folder_name,
        private_database(args.postgres, "permits_bench_faults") as url,
    ):
        folder = Path(folder_name)
        prepared = prepare(url, folder)
        real = make_url(url)
        proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432)).start()
        env = production_env(prepared, folder)
        env["PERMITS_DATABASE_URL"] = real.set(host="127.0.0.1", port=proxy.port).render_as_string(
            hide_password=False
        )
        server = ServerProcess(folder / "server", env, port=args.port)
        server.workers, server.production = args.workers, True
        server.start()
        headers = {"Authorization": f"Bearer {prepared.tokens['doctor']}"}
        stop = threading.Event()
        counter = iter(range(10_000_000))

        def issuer() -> None:
            # A careful client: an unanswered or refused request is retried with its key.
            with httpx2.Client(base_url=server.url, timeout=30) as http:
                key, body = "", {}
                while not stop.is_set():
                    if not key:
                        key, body = f"fault-{uuid.uuid4()}", permit_body(next(counter), utcnow())
                        with lock:
                            unanswered[key] = body
                    try:
                        response = http.post(
                            "/api/v1/permits",
                            json=body,
                            headers={**headers, "Idempotency-Key": key},
                        )
                    except httpx2.HTTPError:
                        time.sleep(0.05)
                        continue
                    if response.status_code in (200, 201):
                        with lock:
                            acknowledged[key] = response.json()["id"]
                            del unanswered[key]
                        key = ""
                    elif response.status_code == 503:
                        time.sleep(0.05)
                    else:
                        print(f"  unexpected {response.status_code}: {response.text[:200]}")
                        key = ""

        threads = [threading.Thread(target=issuer) for _ in range(8)]
        for thread in threads:
            thread.start()
        try:
            for _ in range(args.rounds):
                time.sleep(2)
                server.kill()
                started = time.monotonic()
                server.start()
                while not server.answers("/readyz"):
                    time.sleep(0.05)
                restarts.append(time.monotonic() - started)
                time.sleep(2)
                proxy.cut()
                time.sleep(3)
                before = len(acknowledged)
                proxy.restore()
                started = time.monotonic()
                while len(acknowledged) == before:
                    time.sleep(0.01)
                recoveries.append(time.monotonic() - started)
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        with httpx2.Client(base_url=server.url, timeout=30) as http:
            for key, body in list(unanswered.items()):
                response = http.post(
                    "/api/v1/permits", json=body, headers={**headers, "Idempotency-Key": key}
                )
                assert response.status_code in (200, 201), response.text
                acknowledged[key] = response.json()["id"]
        server.stop()
        proxy.close()
        engine = create_engine(url)
        with engine.connect() as connection:
            rows = {
                key: str(permit_id)
                for permit_id, key in connection.execute(
                    text("SELECT id, idempotency_key FROM permit")
                )
            }
        engine.dispose()
    lost = [key for key, permit_id in acknowledged.items() if rows.get(key) != permit_id]
    print(f"  {args.rounds} rounds, {args.workers} workers, 8 issuers posting throughout")
    print(
        "  SIGKILL -> ready again: "
        + ", ".join(f"{s:.1f} s" for s in restarts)
        + f" (best {min(restarts):.1f} s)"
    )
    print(
        "  database back -> first permit issued again, same processes: "
        + ", ".join(f"{s:.2f} s" for s in recoveries)
    )
    orphans = len(set(rows) - set(acknowledged))
    print(
        f"  {len(acknowledged)} permits acknowledged (after retrying the unanswered with their "
        f"keys); lost: {len(lost)}; stored but never acknowledged: {orphans}"
    )
    print(json.dumps({"restart_s": restarts, "recovery_s": recoveries, "lost": len(lost)}))
    return 1 if lost or orphans else 0


if __name__ == "__main__":
    sys.exit(main())
