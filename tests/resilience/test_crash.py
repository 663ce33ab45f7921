"""SIGKILL the server in the middle of a bulk issuance and of a bulk revocation.

After a restart, every permit acknowledged to a client is stored and verifies; nothing is
half-written (no signed permit without its row, no row without its signature or its audit
record, no revocation on a list without its record, or the other way round); and a client
that retries its unanswered requests with the same Idempotency-Key gets each permit once.

On SQLite the server is one `permits serve` process; on PostgreSQL it is
`permits serve --production` with two workers and the list publisher, all killed at once.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import timedelta
from typing import Any

import httpx2
from sqlmodel import Session, select

from permits.db import write_session
from permits.issuance.models import Permit
from permits.issuance.schemas import PermitCreate
from permits.issuance.service import issue_permit
from permits.ops.publisher import publish_once
from permits.timezone import utcnow
from tests.resilience.conftest import (
    Deployment,
    assert_nothing_half_written,
    assert_valid,
    device_verifier,
    idempotency_key,
    permit_request,
    random_reason,
    stored_permits,
)
from tests.resilience.processes import PERMITS
from verifier.lists import load_revocation_list
from verifier.model import Status

CLIENTS = 6
KILL_AFTER = 40  # acknowledged requests before the kill


class Outcomes:
    """What each client request got: acknowledged bodies, and requests left unanswered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: dict[str, dict[str, Any]] = {}  # key -> response body
        self.unanswered: dict[str, Any] = {}  # key -> what was asked
        self.other: list[str] = []

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def _fresh_lists(deployment: Deployment, must_list: set[str]) -> None:
    """Bring the static list files up to date: wait for a running production server's
    publisher, or else publish them from here (the SQLite server has no publisher)."""
    process = deployment.server.process
    publishing = deployment.server.production and process is not None and process.poll() is None
    if not publishing:
        publish_once(
            deployment.engine,
            keystore=deployment.keystore,
            out_dir=deployment.lists_dir,
            now=utcnow(),
            refresh_after=timedelta(hours=1),
        )
    root = deployment.keystore.root_public_key()
    deadline = time.monotonic() + 30
    while True:
        path = deployment.lists_dir / "revocation-list.cose"
        if path.exists():
            listed = load_revocation_list(path.read_bytes(), root_public_key=root)
            ctis = {
                run[i : i + 5].hex()
                for part in listed.partitions.values()
                for run in (part.revoked, part.replaced)
                for i in range(0, len(run), 5)
            }
            if must_list <= ctis:
                return
        assert time.monotonic() < deadline, "the lists did not catch up after the restart"
        time.sleep(0.3)


def test_sigkill_during_bulk_issuance(deployment: Deployment) -> None:
    server, world = deployment.server, deployment.world
    server.start()
    headers = world.auth("doctor")
    outcomes = Outcomes()
    stop = threading.Event()
    numbers = iter(range(1, 1_000_000))
    numbers_lock = threading.Lock()

    def client() -> None:
        with httpx2.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                with numbers_lock:
                    number = next(numbers)
                key, body = idempotency_key(), permit_request(number, utcnow())
                with outcomes.lock:
                    outcomes.unanswered[key] = body
                try:
                    response = http.post(
                        "/api/v1/permits",
                        json=body,
                        headers={**headers, "Idempotency-Key": key},
                    )
                except httpx2.HTTPError:
                    return  # the server is gone: this request stays unanswered
                with outcomes.lock:
                    if response.status_code == 201:
                        outcomes.acknowledged[key] = response.json()
                        del outcomes.unanswered[key]
                    else:
                        outcomes.other.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while outcomes.count() < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()  # mid-flight: CLIENTS requests are in the server right now
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert outcomes.other == []
    assert len(outcomes.acknowledged) >= KILL_AFTER
    assert outcomes.unanswered, "the kill should leave requests in flight"

    # After the restart: every acknowledged permit is stored, as acknowledged...
    server.start()
    stored = stored_permits(deployment.engine)
    for key, body in outcomes.acknowledged.items():
        row = stored.get(body["id"])
        assert row is not None, f"acknowledged permit {body['serial']} is not stored"
        assert row.qr_text == body["qr_text"] and row.idempotency_key == key
    # ...and nothing is half-written.
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    # Retrying the unanswered requests with their keys issues each permit exactly once.
    with httpx2.Client(base_url=server.url, timeout=30) as http:
        for key, body in outcomes.unanswered.items():
            response = http.post(
                "/api/v1/permits", json=body, headers={**headers, "Idempotency-Key": key}
            )
            assert response.status_code in (200, 201), response.text
            outcomes.acknowledged[key] = response.json()
    stored = stored_permits(deployment.engine)
    assert len(stored) == len(outcomes.acknowledged)
    assert {p.idempotency_key for p in stored.values()} == set(outcomes.acknowledged)
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    # Every acknowledged permit verifies on a device with the published lists.
    _fresh_lists(deployment, set())
    assert_valid(
        device_verifier(deployment.lists_dir, deployment.keystore),
        [body["qr_text"] for body in outcomes.acknowledged.values()],
        utcnow(),
    )


def _issue_directly(deployment: Deployment, count: int) -> list[Permit]:
    """Issue `count` permits through the domain function (quicker than HTTP for set-up)."""
    issued = []
    caller = deployment.world.callers["doctor"]
    for number in range(count):
        with write_session(deployment.engine) as session:
            issued.append(
                issue_permit(
                    session,
                    caller=caller,
                    request=PermitCreate.model_validate(permit_request(number, utcnow())),
                    keystore=deployment.keystore,
                    now=utcnow(),
                ).permit
            )
    return issued


def test_sigkill_during_bulk_revocation(deployment: Deployment) -> None:
    server, world = deployment.server, deployment.world
    permits = _issue_directly(deployment, 150)
    server.start()
    headers = world.auth("doctor")
    queue = [str(p.id) for p in permits]
    queue_lock = threading.Lock()
    acknowledged: set[str] = set()
    unanswered: set[str] = set()
    other: list[str] = []
    stop = threading.Event()

    def client() -> None:
        with httpx2.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                with queue_lock:
                    if not queue:
                        return
                    permit_id = queue.pop()
                    unanswered.add(permit_id)
                try:
                    response = http.post(
                        f"/api/v1/permits/{permit_id}/revoke",
                        json={"reason": random_reason()},
                        headers=headers,
                    )
                except httpx2.HTTPError:
                    return
                with queue_lock:
                    if response.status_code == 200 and response.json()["status"] == "revoked":
                        acknowledged.add(permit_id)
                        unanswered.discard(permit_id)
                    else:
                        other.append(f"{response.status_code} {response.text[:200]}")

    def list_reader() -> None:
        # Checkpoints keep downloading the lists meanwhile (this publishes new versions).
        with httpx2.Client(base_url=server.url, timeout=30) as http:
            while not stop.is_set():
                try:
                    http.get("/api/v1/lists/revocation-list.cose")
                except httpx2.HTTPError:
                    return
                time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    threads.append(threading.Thread(target=list_reader))
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert other == []
    assert len(acknowledged) >= KILL_AFTER

    server.start()
    stored = stored_permits(deployment.engine)
    for permit_id in acknowledged:
        assert stored[permit_id].status == "revoked", "an acknowledged revocation was lost"
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    # Retrying the unanswered revocations: done once (200) or found done (409), never twice.
    with httpx2.Client(base_url=server.url, timeout=30) as http:
        for permit_id in unanswered:
            response = http.post(
                f"/api/v1/permits/{permit_id}/revoke",
                json={"reason": random_reason()},
                headers=headers,
            )
            if response.status_code == 409:
                assert response.json()["errors"][0]["code"] == "already_revoked"
            else:
                assert response.status_code == 200, response.text
            acknowledged.add(permit_id)
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    # The next list names every revoked permit, and devices refuse them.
    ctis = {p.cti for p in permits if str(p.id) in acknowledged}
    _fresh_lists(deployment, ctis)
    verifier = device_verifier(deployment.lists_dir, deployment.keystore)
    now = utcnow()
    for permit in permits:
        expected = Status.REVOKED if str(permit.id) in acknowledged else Status.VALID
        assert verifier.verify(permit.qr_text, at=now).status is expected
    with Session(deployment.engine) as session:
        revoked = session.exec(select(Permit).where(Permit.status == "revoked")).all()
    assert {str(p.id) for p in revoked} == acknowledged


def _revoking_transaction_open(deployment: Deployment) -> bool:
    """True while another connection holds a write transaction (the bulk revocation)."""
    engine = deployment.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return bool(
                connection.exec_driver_sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL "
                    "AND query ILIKE '%%audit%%'"
                ).scalar_one()
            )
    path = engine.url.database
    assert path
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # "database is locked": the revocation is writing
        return True
    finally:
        probe.close()


def test_sigkill_during_an_administrators_bulk_revocation(deployment: Deployment) -> None:
    """`permits revoke-bulk` (the administration's bulk revocation, one transaction) killed
    while it writes: afterwards either every permit in scope is revoked with its record, or
    none is, and running it again revokes them all."""
    permits = _issue_directly(deployment, 400)
    command = [
        str(PERMITS),
        "revoke-bulk",
        "--user",
        "admin",
        "--issuer",
        "MRN-CLINIC",
        "--reason",
        "the regulation ended",
        "--confirm",
        str(len(permits)),
    ]
    env = {"PATH": "/usr/bin:/bin", **deployment.server.env}
    process = subprocess.Popen(
        command,
        env=env,
        cwd=deployment.server.folder.parent,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    seen = False
    while time.monotonic() < deadline and process.poll() is None:
        if _revoking_transaction_open(deployment):
            seen = True
            break
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert seen, "the bulk revocation finished before it could be caught writing"
    with Session(deployment.engine) as session:
        statuses = [p.status for p in session.exec(select(Permit)).all()]
    revoked = statuses.count("revoked")
    assert revoked in (0, len(permits)), f"{revoked} of {len(permits)}: half-written"
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    # Again, to the end (if the kill came first): every permit revoked, the next list names
    # them all.
    if revoked == 0:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    _fresh_lists(deployment, {p.cti for p in permits})
    verifier = device_verifier(deployment.lists_dir, deployment.keystore)
    now = utcnow()
    assert all(verifier.verify(p.qr_text, at=now).status is Status.REVOKED for p in permits)
