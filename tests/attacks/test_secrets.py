"""No secret in the repository, the logs or an error message.

Secrets here: private keys (PEM, PKCS#12, the private scalar), the key passphrase, the
session secret, API tokens, login passwords, holders' bearer links (/h/<token>), database
passwords. The repository is scanned as committed; the logs are those of a real server
process that served good and bad requests; error messages are every 4xx/5xx body it sent.
"""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import httpx2
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from permits.app import create_app
from permits.db import make_engine, write_session
from permits.migrations import upgrade
from permits.settings import Settings
from permits.timezone import utcnow
from permits.trust.keystore import KeyStore
from tests.factories import build_world
from tests.resilience.conftest import permit_request
from tests.resilience.processes import ROOT, ServerProcess, server_env
from tests.workspace.web import csrf_of

PRIVATE_KEY_PEM = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY-----")
API_TOKEN = re.compile(rb"pmt_[A-Za-z0-9_-]{30,}")
URL_WITH_PASSWORD = re.compile(
    rb"\b(?:postgres(?:ql)?|mysql|redis|amqp)(?:\+\w+)?://[^:/@\s]+:[^@/\s]+@"
)
ASSIGNED_SECRET = re.compile(
    rb"PERMITS_(?:KEY_PASSPHRASE|SECRET_KEY)\s*[=:]\s*['\"]?(?!\$|<|\.\.\.|your|change)[^\s'\"]{6,}"
)
SECRET_FILES = re.compile(r"(\.p12|\.pfx|\.key|(^|/)\.env(\..+)?|id_rsa|id_ed25519)$")


def _committed_files() -> list[str]:
    result = subprocess.run(
        ["/usr/bin/git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    )
    return [name for name in result.stdout.decode().split("\0") if name]


def test_no_secret_is_committed() -> None:
    files = _committed_files()
    assert len(files) > 50
    problems = []
    for name in files:
        if SECRET_FILES.search(name):
            problems.append(f"{name}: a key or environment file")
        path = ROOT / name
        if not path.is_file():
            continue
        data = path.read_bytes()
        for pattern, what in (
            (PRIVATE_KEY_PEM, "a private key"),
            (API_TOKEN, "an API token"),
            (URL_WITH_PASSWORD, "a database URL with a password"),
            (ASSIGNED_SECRET, "a passphrase or secret assigned a value"),
        ):
            if pattern.search(data):
                problems.append(f"{name}: {what}")
        if name.endswith(".jwk.json") and b'"d"' in data:
            problems.append(f"{name}: a private JWK (it has 'd')")
    assert problems == []


def test_no_key_or_environment_file_was_ever_committed() -> None:
    result = subprocess.run(
        ["/usr/bin/git", "log", "--all", "--format=", "--name-only", "--diff-filter=A"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    )
    added = {line for line in result.stdout.decode().splitlines() if line}
    assert [name for name in added if SECRET_FILES.search(name)] == []


def test_the_scanner_finds_what_it_looks_for() -> None:
    """The patterns above would catch real leaks (so a clean scan means something)."""
    # Built from pieces, so that this file itself holds no match.
    leaked = b"".join(
        [
            b"-----BEGIN EC " + b"PRIVATE KEY-----\nMHcCAQEE...\n",
            b"token pmt" + b"_" + b"A" * 43 + b"\n",
            b"PERMITS_DATABASE_URL=postgresql+psycopg://permits" + b":s3cret@db/permits\n",
            b"PERMITS_KEY_" + b"PASSPHRASE=correct-horse-battery\n",
        ]
    )
    assert PRIVATE_KEY_PEM.search(leaked) and API_TOKEN.search(leaked)
    assert URL_WITH_PASSWORD.search(leaked) and ASSIGNED_SECRET.search(leaked)
    assert not ASSIGNED_SECRET.search(b"PERMITS_KEY_PASSPHRASE=...")
    assert SECRET_FILES.search("keys/root/abc.p12") and SECRET_FILES.search("deploy/.env")


def _private_material(keystore: KeyStore) -> list[bytes]:
    """Every private key in the store as PEM, and its private scalar in hex and decimal."""
    found = []
    for path in keystore.directory.rglob("*.p12"):
        from cryptography.hazmat.primitives.serialization import pkcs12

        key, _, _ = pkcs12.load_key_and_certificates(path.read_bytes(), keystore._passphrase)
        assert key is not None
        found.append(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        scalar = key.private_numbers().private_value  # type: ignore[union-attr]
        found += [f"{scalar:064x}".encode(), str(scalar).encode()]
    return found


def test_no_secret_in_the_logs_or_error_messages(tmp_path: Path) -> None:
    passphrase = "log-scan-passphrase-" + secrets.token_hex(8)
    secret_key = "log-scan-session-secret-" + secrets.token_hex(8)
    url = f"sqlite:///{tmp_path / 'permits.db'}"
    engine = make_engine(url)
    upgrade(engine)
    keystore = KeyStore(tmp_path / "keys", passphrase, kdf_rounds=1000)
    keystore.ensure_root()
    with write_session(engine) as session:
        world = build_world(session, keystore=keystore, now=utcnow())
    engine.dispose()
    env = server_env(
        database_url=url,
        keys_dir=keystore.directory,
        lists_dir=tmp_path / "lists",
        passphrase=passphrase,
        extra={"PERMITS_SECRET_KEY": secret_key},
    )
    server = ServerProcess(tmp_path / "server", env).start()
    guessed_token = "pmt_" + secrets.token_urlsafe(32)
    guessed_password = "Guess-" + secrets.token_hex(6)
    errors: list[bytes] = []
    holder_tokens: list[str] = []
    try:
        with httpx2.Client(base_url=server.url, timeout=30) as http:
            doctor = world.auth("doctor")
            issued = http.post("/api/v1/permits", json=permit_request(1, utcnow()), headers=doctor)
            assert issued.status_code == 201
            holder_path = issued.json()["holder_path"]
            holder_tokens.append(holder_path.rsplit("/", 1)[1])
            responses = [
                http.get(holder_path),
                http.get(f"{holder_path}/certificate.png"),
                http.get("/api/v1/permits", headers={"Authorization": f"Bearer {guessed_token}"}),
                http.get(f"/api/v1/permits?token={guessed_token}"),
                http.post(
                    "/api/v1/permits", json={"persons": [{"personal_number": "1"}]}, headers=doctor
                ),
                http.post(
                    "/api/v1/verify",
                    json={"qr_text": "MP1:garbage", "checkpoint": "x"},
                    headers=world.auth("police"),
                ),
                http.post(f"/api/v1/permits/{issued.json()['id']}/revoke", json={}, headers=doctor),
                http.get("/api/v1/permits/not-a-uuid", headers=doctor),
            ]
            login_page = http.get("/login")
            responses.append(
                http.post(
                    "/login",
                    data={
                        "username": "doctor",
                        "password": guessed_password,
                        "next": "/",
                        "csrf_token": csrf_of(login_page.text),
                    },
                )
            )
            errors += [r.content for r in responses if r.status_code >= 400]
            assert len(errors) >= 6
    finally:
        server.stop()
    # A key store opened with the wrong passphrase: the error says so, and nothing more.
    wrong = KeyStore(
        keystore.directory, "not-the-passphrase-" + secrets.token_hex(4), kdf_rounds=1000
    )
    settings = Settings(
        env="test",
        database_url=url,
        keys_dir=keystore.directory,
        lists_dir=tmp_path / "lists",
        key_passphrase=passphrase,  # type: ignore[arg-type]
        key_kdf_rounds=1000,
    )
    failing_engine = make_engine(url)
    try:
        with TestClient(create_app(settings, engine=failing_engine, keystore=wrong)) as client:
            refused = client.post(
                "/api/v1/permits", json=permit_request(2, utcnow()), headers=world.auth("doctor")
            )
    finally:
        failing_engine.dispose()
    assert refused.status_code == 503
    assert "passphrase" in refused.json()["errors"][0]["message"]
    errors.append(refused.content)

    log = server.log().encode()
    assert b"GET /h/[redacted]" in log  # the access log ran, and hid the holder's link
    secrets_seen = [
        passphrase.encode(),
        secret_key.encode(),
        wrong._passphrase,
        guessed_token.encode(),
        guessed_password.encode(),
        *(token.encode() for token in world.tokens.values()),
        *(token.encode() for token in holder_tokens),
        *_private_material(keystore),
    ]
    for secret in secrets_seen:
        assert secret not in log, f"a secret in the server log: {secret[:12]!r}..."
        for body in errors:
            assert secret not in body, f"a secret in an error message: {secret[:12]!r}..."
    for body in errors:
        assert b"Traceback" not in body and str(keystore.directory).encode() not in body
        assert not PRIVATE_KEY_PEM.search(body)


@pytest.mark.parametrize("env", ["production"])
def test_production_refuses_to_start_with_demo_secrets(env: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as refused:
        Settings(env=env)  # type: ignore[arg-type]
    assert "PERMITS_KEY_PASSPHRASE must be set" in str(refused.value)
    assert "demo-only" not in str(refused.value)
