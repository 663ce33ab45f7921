"""Take the database away from a running server, and give it back.

The server (`permits serve --production`, two workers) reaches PostgreSQL through a TCP proxy
owned by the test; cutting the proxy is the outage, so the shared PostgreSQL server keeps
running. While the database is away the API answers 503 with a clear message (never a 500,
never a hung request), the signed lists are still served as static files, and when it
returns the same processes serve again by themselves. Requests answered 503 and retried with
their Idempotency-Key issue each permit once.
"""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest
from sqlalchemy.engine import make_url

from permits.timezone import utcnow
from tests.conftest import PG_URL
from tests.resilience.conftest import (
    Deployment,
    assert_nothing_half_written,
    idempotency_key,
    permit_request,
    stored_permits,
)
from tests.resilience.processes import TcpProxy

pytestmark = pytest.mark.postgres

OUTAGE_MESSAGE = "the database is not reachable; try again shortly"


@pytest.fixture
def proxy(deployment: Deployment) -> Any:
    if not PG_URL:
        pytest.skip("needs PostgreSQL (PERMITS_TEST_DATABASE_URL): the outage is a cut proxy")
    url = make_url(PG_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port)
    deployment.server.env["PERMITS_DATABASE_URL"] = proxied.render_as_string(hide_password=False)
    yield proxy
    proxy.close()


def _assert_unavailable(response: httpx2.Response) -> None:
    assert response.status_code == 503, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "database_unavailable"
    assert error["message"] == OUTAGE_MESSAGE
    assert response.headers["retry-after"]


def _wait_ready(http: httpx2.Client, seconds: float = 40) -> float:
    started = time.monotonic()
    while http.get("/readyz").status_code != 200:
        assert time.monotonic() - started < seconds, "the server did not recover by itself"
        time.sleep(0.2)
    return time.monotonic() - started


def test_the_database_goes_away_and_comes_back(deployment: Deployment, proxy: TcpProxy) -> None:
    server, world = deployment.server, deployment.world
    server.start()
    pid = server.process.pid if server.process else None
    doctor, police = world.auth("doctor"), world.auth("police")
    keys: dict[str, dict[str, Any]] = {}
    with httpx2.Client(base_url=server.url, timeout=60) as http:
        first_key, first_body = idempotency_key(), permit_request(1, utcnow())
        first = http.post(
            "/api/v1/permits", json=first_body, headers={**doctor, "Idempotency-Key": first_key}
        )
        assert first.status_code == 201, first.text
        keys[first_key] = first_body
        qr_text = first.json()["qr_text"]
        permit_id = first.json()["id"]
        assert http.get("/readyz").status_code == 200

        for mode, attempts in (("cut", 4), ("blackhole", 1)):
            getattr(proxy, mode)()
            for number in range(len(keys) + 1, len(keys) + 1 + attempts):
                key, body = idempotency_key(), permit_request(number, utcnow())
                keys[key] = body
                started = time.monotonic()
                _assert_unavailable(
                    http.post(
                        "/api/v1/permits", json=body, headers={**doctor, "Idempotency-Key": key}
                    )
                )
                # A dead network costs at most the connect timeout, never a hung request.
                assert time.monotonic() - started < 20
            if mode == "cut":
                _assert_unavailable(
                    http.post(
                        "/api/v1/verify",
                        json={"qr_text": qr_text, "checkpoint": "Marneuli north"},
                        headers=police,
                    )
                )
                _assert_unavailable(http.get(f"/api/v1/permits/{permit_id}", headers=doctor))
            ready = http.get("/readyz")
            assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
            # Liveness and the static lists do not need the database.
            assert http.get("/healthz").status_code == 200
            lists = http.get("/lists/trust-list.cose")
            assert lists.status_code == 200 and lists.content

            proxy.restore()
            _wait_ready(http)
            assert server.process is not None and server.process.pid == pid
            assert server.starts == 1, "recovered without a restart"
            check = http.post(
                "/api/v1/verify",
                json={"qr_text": qr_text, "checkpoint": "Marneuli north"},
                headers=police,
            )
            assert check.status_code == 200 and check.json()["status"] == "valid"

        # Retrying what was refused issues each permit exactly once.
        for key, body in keys.items():
            response = http.post(
                "/api/v1/permits", json=body, headers={**doctor, "Idempotency-Key": key}
            )
            assert response.status_code in (200, 201), response.text
    stored = stored_permits(deployment.engine)
    assert sorted(p.idempotency_key or "" for p in stored.values()) == sorted(keys)
    assert_nothing_half_written(deployment.engine, deployment.keystore)
    assert "Traceback" not in server.log()
