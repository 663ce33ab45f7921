"""Permits issued per second through the HTTP API (signed and committed), on SQLite.

Starts `permits serve` (2 workers by default) on a fresh demo database in a temporary folder
and posts medical-staff permits on keep-alive connections for a fixed time: one permit a
request (POST /api/v1/permits), then, with --batch N, batches of N (POST
/api/v1/permits/batch). Every request must succeed; the figure is acknowledged permits per
second.

    .venv/bin/python benchmarks/bench_issue_api.py [--seconds 15] [--workers 2] [--batch 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime

from _http import Tally, request_bytes, run_load
from _spine import machine, server_process

TARGET = 300.0


def main() -> None:
    """Print the issuing rate through the API against the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument(
        "--batch", type=int, default=0, help="also post batches of this many permits (0: skip)"
    )
    args = parser.parse_args()

    from tests.factories import medical_staff

    permit = medical_staff(datetime.now(UTC))
    print(f"machine: {machine()}")
    with server_process(args.port, workers=args.workers) as server:
        headers = {
            "Authorization": f"Bearer {server.tokens['doctor']}",
            "Content-Type": "application/json",
        }
        single = request_bytes(
            "POST", f"{server.url}/api/v1/permits", json.dumps(permit).encode(), headers
        )
        _measure(server.url, single, args, label="one permit a request", per_request=1)
        if args.batch:
            body = json.dumps({"items": [{"permit": permit}] * args.batch}).encode()
            batch = request_bytes("POST", f"{server.url}/api/v1/permits/batch", body, headers)
            _measure(
                server.url,
                batch,
                args,
                label=f"batches of {args.batch}",
                per_request=args.batch,
                connections=args.workers * 2,
            )


def _measure(
    url: str,
    data: bytes,
    args: argparse.Namespace,
    *,
    label: str,
    per_request: int,
    connections: int | None = None,
) -> None:
    """Post `data` on keep-alive connections for the set time; print permits per second."""
    connections = connections or args.clients
    ok_status = 201 if per_request == 1 else 200
    warm = Tally()
    asyncio.run(run_load(url, connections=2, seconds=1, make_request=lambda _i: data, tally=warm))
    tally = Tally()
    started = time.monotonic()
    asyncio.run(
        run_load(
            url,
            connections=connections,
            seconds=args.seconds,
            make_request=lambda _i: data,
            tally=tally,
            keep_body=lambda status, _body: per_request > 1 and status == 200,
        )
    )
    elapsed = time.monotonic() - started
    issued = tally.statuses.get(ok_status, 0) * per_request
    if per_request > 1:  # every item of every batch must have been issued
        issued = sum(json.loads(body)["issued"] for body in tally.bodies)
    failures = {status: n for status, n in tally.statuses.items() if status != ok_status}
    rate = issued / elapsed
    print(
        f"issued through the API, {label} (SQLite, {args.workers} worker(s), "
        f"{connections} connections): {issued} in {elapsed:.1f} s = {rate:.0f}/s, "
        f"request p50 {tally.percentile(0.5):.1f} ms, p99 {tally.percentile(0.99):.1f} ms "
        f"(target >= {TARGET:.0f}/s) {'OK' if rate >= TARGET and not failures else 'BELOW TARGET'}"
    )
    if failures:
        print(f"answers other than {ok_status}: {failures}")


if __name__ == "__main__":
    main()
