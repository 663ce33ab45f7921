"""The administration's commands: audit verify/list, revoke-bulk, anomalies, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from permits.cli import main
from permits.issuance.models import Permit
from permits.settings import get_settings
from tests.conftest import TEST_PASSPHRASE, Clock
from tests.factories import World, farm_work
from tests.helpers import issue


@pytest.fixture
def cli_env(tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERMITS_ENV", "test")
    monkeypatch.setenv("PERMITS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PERMITS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("PERMITS_LISTS_DIR", str(tmp_path / "lists"))
    monkeypatch.setenv("PERMITS_KEY_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.setenv("PERMITS_KEY_KDF_ROUNDS", "1000")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_audit_verify_points_at_the_first_broken_link(
    cli_env: Path,
    client: TestClient,
    world: World,
    clock: Clock,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issue(client, world, farm_work(clock()), user="bolnisi")
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    assert main(["audit", "list", "--last", "5", "--action", "permit."]) == 0
    assert "permit.issue" in capsys.readouterr().out
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET action = 'x' WHERE seq = 2"))
    assert main(["audit", "verify"]) == 1
    assert "BROKEN at event 2" in capsys.readouterr().out


def test_revoke_bulk_previews_then_needs_the_count(
    cli_env: Path,
    client: TestClient,
    world: World,
    clock: Clock,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for _ in range(2):
        issue(client, world, farm_work(clock()), user="bolnisi")
    args = ["revoke-bulk", "--user", "admin", "--category", "farm_work", "--reason", "ended"]
    assert main(args) == 0
    assert "2 active permits" in capsys.readouterr().out
    assert main([*args, "--confirm", "3"]) == 1
    assert "not 3" in capsys.readouterr().err
    assert main(["revoke-bulk", "--user", "doctor", "--category", "farm_work"]) == 1
    assert "not a regional administrator" in capsys.readouterr().err
    with Session(engine) as session:
        assert {p.status for p in session.exec(select(Permit)).all()} == {"active"}
    assert main([*args, "--confirm", "2"]) == 0
    assert "revoked 2 permits" in capsys.readouterr().out
    with Session(engine) as session:
        assert {p.status for p in session.exec(select(Permit)).all()} == {"revoked"}


def test_anomalies_and_checkpoints_commands(
    cli_env: Path,
    client: TestClient,
    world: World,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry = cli_env / "points.toml"
    registry.write_text(
        '[[checkpoints]]\ncode = "X-1"\nmunicipality = 1\nlatitude = 41.4\nlongitude = 44.5\n'
        'names = { ka = "ა", az = "b", en = "c" }\n',
        encoding="utf-8",
    )
    assert main(["checkpoints", "load", str(registry)]) == 0
    assert "added 1 checkpoints: X-1" in capsys.readouterr().out
    assert main(["checkpoints", "list"]) == 0
    assert "X-1" in capsys.readouterr().out
    for _ in range(4):
        body = farm_work(clock())
        issue(client, world, body, user="bolnisi")
    assert main(["anomalies"]) == 0
    out = capsys.readouterr().out
    assert "plates on more than 3 active permits: 1" in out and "FF-100-AA: 4" in out
