"""The `permits` command: init, issue from JSON, keys, export, policy, token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy.engine import Engine

from permits.cli import main
from permits.settings import get_settings
from tests.conftest import TEST_PASSPHRASE, Clock
from tests.factories import medical_staff
from verifier.lists import load_trust_list


@pytest.fixture
def cli_env(tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PERMITS_ENV", "demo")
    monkeypatch.setenv("PERMITS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PERMITS_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("PERMITS_LISTS_DIR", str(tmp_path / "lists"))
    monkeypatch.setenv("PERMITS_KEY_PASSPHRASE", TEST_PASSPHRASE)
    monkeypatch.setenv("PERMITS_KEY_KDF_ROUNDS", "1000")
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_init_issue_keys_export(
    cli_env: Path, clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "Demo logins" in out and "doctor" in out and "pmt_" in out
    assert (cli_env / "keys" / "root-public-key.pem").exists()
    assert list((cli_env / "keys" / "issuers" / "MRN-CLINIC").glob("*.p12"))
    assert main(["init"]) == 0  # a second start adds nothing and still prints the logins
    assert "Demo logins" in capsys.readouterr().out

    request = cli_env / "permit.json"
    from datetime import UTC, datetime

    request.write_text(json.dumps(medical_staff(datetime.now(UTC))), encoding="utf-8")
    assert main(["issue", str(request), "--user", "doctor"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert issued["qr_text"].startswith("MP1:") and issued["issuer"]["code"] == "MRN-CLINIC"

    assert main(["keys", "rotate", "--org", "MRN-CLINIC"]) == 0
    capsys.readouterr()
    assert main(["keys", "list", "--org", "MRN-CLINIC"]) == 0
    listing = capsys.readouterr().out
    assert "active" in listing and "retired" in listing

    assert main(["export"]) == 0
    files = sorted(p.name for p in (cli_env / "lists").iterdir())
    assert files == ["revocation-list.cose", "root-public-key.pem", "trust-list.cose"]
    root = load_pem_public_key((cli_env / "lists" / "root-public-key.pem").read_bytes())
    trust = load_trust_list(
        (cli_env / "lists" / "trust-list.cose").read_bytes(), root_public_key=root
    )  # type: ignore[arg-type]
    assert "MRN-CLINIC" in {i.code for i in trust.issuers}


def test_cli_errors_are_one_clear_line(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "--no-demo"]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--org", "NOPE"]) == 1
    assert capsys.readouterr().err.strip() == "error: no organisation NOPE"
    bad = cli_env / "bad.json"
    bad.write_text(json.dumps({"category": "medical_staff"}), encoding="utf-8")
    assert main(["issue", str(bad), "--user", "doctor"]) == 1
    errors = capsys.readouterr().err
    assert "error: persons: Field required" in errors and "error: route: Field required" in errors


def test_wrong_passphrase_is_a_clear_error(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init"]) == 0
    monkeypatch.setenv("PERMITS_KEY_PASSPHRASE", "another-passphrase")
    get_settings.cache_clear()
    assert main(["export"]) == 1
    assert "passphrase" in capsys.readouterr().err


@pytest.mark.sqlite_only
def test_sqlite_database_is_in_wal_mode(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_production_refuses_zero_workers(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--workers 0` is an error, not the default: only a missing --workers means one a core.
    (Refused before any database is reached: the URL points nowhere.)"""
    monkeypatch.setenv("PERMITS_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    assert main(["serve", "--production", "--workers", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: --workers must be at least 1"
