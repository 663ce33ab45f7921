"""Mixed load against the production server on PostgreSQL: issuers and online verifications.

    .venv/bin/python benchmarks/bench_load.py                 # 2 minutes (the issue's run)
    .venv/bin/python benchmarks/bench_load.py --seconds 15    # a short proof that it works

What it does, all on loopback, stopping by itself:
  1. creates a private PostgreSQL database (dropped at the end), the demo organisations, keys
     and users, and 500 permits for checkpoints to scan;
  2. starts `permits serve --production --workers N` on it (the one production command);
  3. runs two load processes at once for --seconds:
       issuers   50 concurrent clinics posting permits (each with an Idempotency-Key),
       verifiers online verifications (POST /api/v1/verify) as fast as they are answered,
                 from --verifiers concurrent checkpoint connections (24 by default: on two
                 cores, a load the server answers with room on both the rate and the p99;
                 32 reach a p99 near 50 ms in a slow hour; each checkpoint waits for its
                 answer, so far fewer of them measure the checkpoints' own waiting, not the
                 server: see docs/scaling.md section 2);
  4. reports requests per second and p50/p99 latency for each kind, against the targets;
  5. checks afterwards that every acknowledged permit is stored, byte for byte, and verifies
     with the lists the server published, and that the server answered no 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from _ops import (
    DEFAULT_PG,
    Connection,
    Tally,
    machine,
    permit_body,
    prepare,
    private_database,
    production_env,
    summary,
    wait_until,
    write_json,
)

from permits.ops.serve import production_workers

VERIFY_TARGET_RATE = 1000.0
VERIFY_TARGET_P99_MS = 50.0
ISSUE_TARGET_RATE = 300.0
POOL = 500  # permits issued before the run, scanned by the verifiers


# -- load processes ----------------------------------------------------------------------


async def _issuers(
    port: int, token: str, clients: int, start_at: float, seconds: float, out: Path
) -> None:
    from permits.timezone import utcnow

    tally, acknowledged = Tally.new(), []
    permit_body(0, utcnow())  # imports done before the clock starts
    wait_until(start_at)
    deadline = time.monotonic() + seconds
    counter = iter(range(1_000_000, 10_000_000))

    async def one(slot: int) -> None:
        connection = Connection(port)
        await connection.open()
        headers = {"Authorization": f"Bearer {token}"}
        while time.monotonic() < deadline:
            key = f"load-{uuid.uuid4()}"
            body = json.dumps(permit_body(next(counter), utcnow())).encode()
            started = time.monotonic()
            try:
                status, data = await connection.request(
                    "POST", "/api/v1/permits", body, {**headers, "Idempotency-Key": key}
                )
            except (OSError, asyncio.IncompleteReadError) as exc:
                tally.errors.append(f"issuer {slot}: {type(exc).__name__}")
                await connection.close()
                await connection.open()
                continue
            tally.add(status, time.monotonic() - started)
            if status == 201:
                permit = json.loads(data)
                acknowledged.append([permit["id"], permit["qr_text"], key])
            elif status >= 500 and len(tally.errors) < 20:
                tally.errors.append(f"{status} {data[:200]!r}")
        await connection.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    write_json(out, {"tally": tally.as_json(), "acknowledged": acknowledged})


async def _verifiers(
    port: int,
    token: str,
    clients: int,
    start_at: float,
    seconds: float,
    qr_texts: list[str],
    out: Path,
) -> None:
    tally = Tally.new()
    valid = [0]
    wait_until(start_at)
    deadline = time.monotonic() + seconds
    bodies = [
        json.dumps({"qr_text": qr, "checkpoint": "Marneuli north"}).encode() for qr in qr_texts
    ]

    async def one(slot: int) -> None:
        connection = Connection(port)
        await connection.open()
        headers = {"Authorization": f"Bearer {token}"}
        index = slot
        while time.monotonic() < deadline:
            index = (index + 7) % len(bodies)
            started = time.monotonic()
            try:
                status, data = await connection.request(
                    "POST", "/api/v1/verify", bodies[index], headers
                )
            except (OSError, asyncio.IncompleteReadError) as exc:
                tally.errors.append(f"verifier {slot}: {type(exc).__name__}")
                await connection.close()
                await connection.open()
                continue
            tally.add(status, time.monotonic() - started)
            if status == 200 and b'"status":"valid"' in data:
                valid[0] += 1
            elif status >= 500 and len(tally.errors) < 20:
                tally.errors.append(f"{status} {data[:200]!r}")
        await connection.close()

    await asyncio.gather(*(one(i) for i in range(clients)))
    write_json(out, {"tally": tally.as_json(), "valid": valid[0]})


def run_issuers(
    port: int, token: str, clients: int, start_at: float, seconds: float, out: str
) -> None:
    """Entry point of the issuers process."""
    asyncio.run(_issuers(port, token, clients, start_at, seconds, Path(out)))


def run_verifiers(
    port: int,
    token: str,
    clients: int,
    start_at: float,
    seconds: float,
    qr_texts: list[str],
    out: str,
) -> None:
    """Entry point of a verifiers process."""
    asyncio.run(_verifiers(port, token, clients, start_at, seconds, qr_texts, Path(out)))


# -- set-up and checks -------------------------------------------------------------------


def _pool(prepared: Any, count: int) -> list[str]:
    """Issue `count` permits through the domain function; return their QR texts."""
    from permits.db import make_engine, write_session
    from permits.issuance.schemas import PermitCreate
    from permits.issuance.service import issue_permit
    from permits.timezone import utcnow

    engine = make_engine(prepared.url)
    texts = []
    try:
        for number in range(count):
            with write_session(engine) as session:
                texts.append(
                    issue_permit(
                        session,
                        caller=prepared.world.callers["doctor"],
                        request=PermitCreate.model_validate(permit_body(number, utcnow())),
                        keystore=prepared.keystore,
                        now=utcnow(),
                    ).permit.qr_text
                )
    finally:
        engine.dispose()
    return texts


def _check(prepared: Any, url: str, acknowledged: list[list[str]]) -> list[str]:
    """Return the problems found: acknowledged permits missing, changed or not verifying."""
    import urllib.request

    from sqlalchemy import text

    from permits.db import make_engine
    from permits.timezone import utcnow
    from verifier.lists import load_revocation_list, load_trust_list
    from verifier.model import Status
    from verifier.verify import Verifier

    problems: list[str] = []
    engine = make_engine(prepared.url)
    try:
        with engine.connect() as connection:
            stored = {
                str(row[0]): (row[1], row[2])
                for row in connection.execute(
                    text("SELECT id, qr_text, idempotency_key FROM permit")
                )
            }
    finally:
        engine.dispose()
    for permit_id, qr_text, key in acknowledged:
        if stored.get(permit_id) != (qr_text, key):
            problems.append(f"acknowledged permit {permit_id} is missing or differs")
    root = prepared.keystore.root_public_key()

    def fetch(name: str) -> bytes:
        with urllib.request.urlopen(f"{url}/lists/{name}", timeout=30) as response:
            data: bytes = response.read()
            return data

    verifier = Verifier(
        load_trust_list(fetch("trust-list.cose"), root_public_key=root),
        load_revocation_list(fetch("revocation-list.cose"), root_public_key=root),
    )
    now = utcnow()
    for permit_id, qr_text, _key in acknowledged:
        result = verifier.verify(qr_text, at=now)
        if result.status is not Status.VALID:
            problems.append(f"permit {permit_id}: {result.status.value} ({result.reason})")
    return problems


def main() -> int:
    """Run the mixed load and print the figures; exit 1 when a check fails."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument(
        "--workers",
        type=int,
        default=production_workers(),
        help="server worker processes (default: the production default, one a core)",
    )
    parser.add_argument("--issuers", type=int, default=50, help="concurrent issuing clients")
    parser.add_argument("--verifiers", type=int, default=24, help="concurrent checkpoints")
    parser.add_argument("--port", type=int, default=8106)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="server URL, no database name")
    parser.add_argument("--database", default="permits_bench_load")
    args = parser.parse_args()

    from tests.resilience.processes import ServerProcess

    print(f"bench_load: {machine()}")
    print(
        f"  {args.workers} server workers on PostgreSQL; {args.issuers} issuers and "
        f"{args.verifiers} verifying checkpoints for {args.seconds:.0f} s (measured while "
        "other work may run on this machine)"
    )
    with (
        tempfile.TemporaryDirectory() as folder_name,
        private_database(args.postgres, args.database) as url,
    ):
        folder = Path(folder_name)
        prepared = prepare(url, folder)
        qr_texts = _pool(prepared, POOL)
        server = ServerProcess(folder / "server", production_env(prepared, folder), port=args.port)
        server.workers, server.production = args.workers, True
        server.start()
        try:
            context = multiprocessing.get_context("spawn")
            issuers_out, verifiers_out = folder / "issuers.json", folder / "verifiers.json"
            start_at = time.time() + 20  # both processes import, connect, then start together
            processes = [
                context.Process(
                    target=run_issuers,
                    args=(
                        args.port,
                        prepared.tokens["doctor"],
                        args.issuers,
                        start_at,
                        args.seconds,
                        str(issuers_out),
                    ),
                ),
                context.Process(
                    target=run_verifiers,
                    args=(
                        args.port,
                        prepared.tokens["police"],
                        args.verifiers,
                        start_at,
                        args.seconds,
                        qr_texts,
                        str(verifiers_out),
                    ),
                ),
            ]
            for process in processes:
                process.start()
            for process in processes:
                process.join(args.seconds + 180)
            elapsed = time.time() - start_at
            issued = json.loads(issuers_out.read_text())
            verified = json.loads(verifiers_out.read_text())
            time.sleep(2)  # the publisher's next round
            problems = _check(prepared, server.url, issued["acknowledged"])
            log = server.log()
        finally:
            server.stop()

    seconds = min(args.seconds, elapsed)
    rows = [
        summary("issue", issued["tally"], seconds),
        summary("verify", verified["tally"], seconds),
    ]
    print()
    print(f"  {'kind':<8}{'requests':>10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'5xx':>6}")
    for row in rows:
        print(
            f"  {row['kind']:<8}{row['requests']:>10}{row['per_second']:>10.0f}"
            f"{row['p50_ms']:>10.1f}{row['p99_ms']:>10.1f}{row['server_errors']:>6}"
        )
    issue, verify = rows
    print()
    verify_met = (
        verify["per_second"] >= VERIFY_TARGET_RATE and verify["p99_ms"] < VERIFY_TARGET_P99_MS
    )
    if args.verifiers and args.issuers:
        print(
            f"  online verifications: {verify['per_second']:.0f}/s, p99 "
            f"{verify['p99_ms']:.1f} ms (target ≥ {VERIFY_TARGET_RATE:.0f}/s with p99 < "
            f"{VERIFY_TARGET_P99_MS:.0f} ms while issuing continues): "
            f"{'MET' if verify_met else 'NOT MET'}"
        )
    elif args.verifiers:
        print(
            f"  online verifications alone: {verify['per_second']:.0f}/s, "
            f"p99 {verify['p99_ms']:.1f} ms"
        )
    issue_met = issue["per_second"] >= ISSUE_TARGET_RATE
    if args.issuers and args.verifiers:  # checks first (permits/ops/priority.py) hold it back
        print(
            f"  permits issued while checks run: {issue['per_second']:.0f}/s (the target of "
            f"≥ {ISSUE_TARGET_RATE:.0f}/s is issuing's own rate: run with --verifiers 0)"
        )
    elif args.issuers:
        print(
            f"  permits issued on PostgreSQL: {issue['per_second']:.0f}/s (target ≥ "
            f"{ISSUE_TARGET_RATE:.0f}/s): {'MET' if issue_met else 'NOT MET'}"
        )
    print(f"  valid verdicts: {verified['valid']} of {verify['requests']}")
    connection_errors = [e for row in rows for e in row["errors"]]
    five_xx = issue["server_errors"] + verify["server_errors"]
    print(
        f"  afterwards: {len(issued['acknowledged'])} acknowledged permits stored and verifying: "
        f"{'yes' if not problems else 'NO'}; 5xx answers: {five_xx}; "
        f"client-side errors: {len(connection_errors)}; tracebacks in the server log: "
        f"{log.count('Traceback')}"
    )
    for problem in problems[:10]:
        print(f"    {problem}")
    for error in connection_errors[:10]:
        print(f"    {error}")
    failed = bool(problems) or five_xx > 0 or "Traceback" in log
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
