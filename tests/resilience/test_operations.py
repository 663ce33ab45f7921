"""The operations parts on their own: static lists, readiness, the production command's
refusals and pool sizing, and the list publisher riding out a database outage."""

from __future__ import annotations

import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from permits.db import make_engine
from permits.errors import PermitsError
from permits.ops.publisher import ListPublisher, publish_once
from permits.ops.serve import plan_pool, pool_from_environment
from permits.settings import Settings
from permits.timezone import utcnow
from permits.trust.keystore import KeyStore
from tests.factories import World
from tests.resilience.processes import PERMITS, server_env
from verifier.lists import load_revocation_list, load_trust_list


def test_lists_are_static_files_once_exported(
    client: TestClient, settings: Settings, keystore: KeyStore, world: World
) -> None:
    del world
    assert client.get("/lists/trust-list.cose").status_code == 404  # not exported yet
    engine = client.app.state.engine  # type: ignore[attr-defined]
    written = publish_once(
        engine,
        keystore=keystore,
        out_dir=settings.lists_dir,
        now=utcnow(),
        refresh_after=timedelta(hours=1),
    )
    assert sorted(p.name for p in written) == [
        "revocation-list.cose",
        "root-public-key.pem",
        "trust-list.cose",
    ]
    root = keystore.root_public_key()
    for name, load in (
        ("trust-list.cose", load_trust_list),
        ("revocation-list.cose", load_revocation_list),
    ):
        response = client.get(f"/lists/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/cose"
        assert response.headers["cache-control"] == "public, max-age=60"
        assert response.headers["access-control-allow-origin"] == "*"
        assert load(response.content, root_public_key=root).version >= 1
        etag = response.headers["etag"]
        assert client.get(f"/lists/{name}", headers={"If-None-Match": etag}).status_code == 304
    # No leftovers of the atomic writes.
    assert sorted(p.name for p in settings.lists_dir.iterdir()) == sorted(p.name for p in written)


def test_readiness_reports_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_production_refuses_sqlite_with_a_clear_message(tmp_path: Path) -> None:
    env = server_env(
        database_url=f"sqlite:///{tmp_path / 'p.db'}",
        keys_dir=tmp_path / "keys",
        lists_dir=tmp_path / "lists",
        passphrase="a-production-passphrase-1234",
        kdf_rounds=100_000,
        env="production",
        extra={"PERMITS_SECRET_KEY": "a-production-secret-key-5678"},
    )
    result = subprocess.run(
        [str(PERMITS), "serve", "--production", "--port", "8109"],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "production mode runs on PostgreSQL" in result.stderr
    assert "a-production-passphrase-1234" not in result.stderr + result.stdout


def test_the_pool_is_shared_under_the_connection_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    plan = plan_pool(100, 4)
    assert (plan.size, plan.overflow) == (10, 10) and 4 * (plan.size + plan.overflow) <= 90
    plan = plan_pool(100, 8)
    assert plan.size + plan.overflow == 11 and 8 * 11 <= 90
    with pytest.raises(PermitsError, match="too few"):
        plan_pool(20, 8)
    monkeypatch.setenv("PERMITS_OPS_POOL", plan.as_env())
    assert pool_from_environment() == {"pool_size": 5, "max_overflow": 6}


def test_the_publisher_rides_out_a_database_it_cannot_reach(
    tmp_path: Path, keystore: KeyStore
) -> None:
    gone = make_engine(f"sqlite:///{tmp_path / 'missing' / 'nothing-here.db'}")
    publisher = ListPublisher(
        gone,
        keystore=keystore,
        out_dir=tmp_path / "lists",
        clock=utcnow,
        refresh_after=timedelta(hours=1),
        every=0.05,
    ).start()
    try:
        deadline = utcnow() + timedelta(seconds=20)
        while publisher.failures < 3 and utcnow() < deadline:
            time.sleep(0.02)
    finally:
        publisher.stop()
        gone.dispose()
    assert publisher.failures >= 3 and publisher.rounds == 0


def test_the_publisher_writes_new_versions(
    engine: object, keystore: KeyStore, world: World, tmp_path: Path
) -> None:
    del world
    out = tmp_path / "published"
    publisher = ListPublisher(
        engine,  # type: ignore[arg-type]
        keystore=keystore,
        out_dir=out,
        clock=utcnow,
        refresh_after=timedelta(hours=1),
        every=0.05,
    ).start()
    try:
        deadline = utcnow() + timedelta(seconds=20)
        while not (out / "trust-list.cose").exists() and utcnow() < deadline:
            time.sleep(0.02)
    finally:
        publisher.stop()
    trust = load_trust_list(
        (out / "trust-list.cose").read_bytes(), root_public_key=keystore.root_public_key()
    )
    assert {issuer.code for issuer in trust.issuers} >= {"MRN-CLINIC", "BOL-MUNI"}
    assert publisher.failures == 0
