"""Permits issued per second through the HTTP API (signed and committed), on SQLite.

Starts `permits serve` (one worker unless --workers) on a fresh demo database in a temporary
folder and posts
medical-staff permits from several client threads for a fixed time. Every request must
answer 201; the figure is acknowledged permits per second.

    .venv/bin/python benchmarks/bench_issue_api.py [--seconds 15] [--clients 8]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

from _spine import machine, server_process

TARGET = 300.0


def main() -> None:
    """Print the issuing rate through the API against the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=8190)
    args = parser.parse_args()

    import asyncio

    from _http import Tally, request_bytes, run_load

    from tests.factories import medical_staff

    body = json.dumps(medical_staff(datetime.now(UTC))).encode()
    with server_process(args.port, workers=args.workers) as server:
        headers = {
            "Authorization": f"Bearer {server.tokens['doctor']}",
            "Content-Type": "application/json",
        }
        data = request_bytes("POST", f"{server.url}/api/v1/permits", body, headers)
        warm = Tally()
        asyncio.run(
            run_load(server.url, connections=2, seconds=1, make_request=lambda _i: data, tally=warm)
        )
        tally = Tally()
        started = time.monotonic()
        asyncio.run(
            run_load(
                server.url,
                connections=args.clients,
                seconds=args.seconds,
                make_request=lambda _i: data,
                tally=tally,
            )
        )
        elapsed = time.monotonic() - started
    issued = tally.statuses.get(201, 0)
    failures = {status: n for status, n in tally.statuses.items() if status != 201}
    rate = issued / elapsed
    print(f"machine: {machine()}")
    print(
        f"issued through the API (SQLite, {args.workers} worker(s), {args.clients} connections): "
        f"{issued} in {elapsed:.1f} s = {rate:.0f}/s, p50 {tally.percentile(0.5):.1f} ms, "
        f"p99 {tally.percentile(0.99):.1f} ms (target >= {TARGET:.0f}/s) "
        f"{'OK' if rate >= TARGET and not failures else 'BELOW TARGET'}"
    )
    if failures:
        print(f"answers other than 201: {failures}")


if __name__ == "__main__":
    main()
