"""Serving the checkpoint app: /verify/, its files (gzip), the pinned key in config.json, and
the static build."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from permits.checkpoint.build import build
from permits.trust.keystore import KeyStore
from verifier import keys


def test_the_app_is_served_at_verify(client: TestClient, keystore: KeyStore) -> None:
    moved = client.get("/verify", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == "/verify/"
    page = client.get("/verify/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="src/app.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]  # no inline script
    config = client.get("/verify/config.json").json()
    assert config["root_public_key"] == keys.public_key_jwk(keystore.root_public_key())
    assert "d" not in config["root_public_key"]  # a public key only
    worker = client.get("/verify/sw.js").text
    assert "__APP_VERSION__" not in worker and '"vendor/jsQR.js"' in worker
    assert client.get("/verify/nothing.js").status_code == 404
    assert client.get("/verify/../permits/app.py").status_code == 404


def test_files_come_gzip_with_etags(client: TestClient) -> None:
    plain = client.get("/verify/vendor/jsQR.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200 and "content-encoding" not in plain.headers
    assert b"jsQR" in plain.content
    raw = client.get(
        "/verify/vendor/jsQR.js", headers={"Accept-Encoding": "gzip"}
    )  # httpx decodes it; the header says what travelled
    assert raw.headers["content-encoding"] == "gzip" and raw.content == plain.content
    assert int(raw.headers["content-length"]) < len(plain.content) / 3
    again = client.get("/verify/vendor/jsQR.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304


def test_static_build(tmp_path: Path, keystore: KeyStore) -> None:
    pem = tmp_path / "root.pem"
    pem.write_bytes(keys.public_key_pem(keystore.root_public_key()))
    written = build(tmp_path / "site", root_key_pem=pem, lists_url="/lists/", api_url="/api/v1/")
    names = {p.relative_to(tmp_path / "site").as_posix() for p in written}
    assert {"index.html", "sw.js", "manifest.webmanifest", "vendor/jsQR.js", "config.json"} <= names
    assert "package.json" not in names and not any(n.startswith("test/") for n in names)
    config = json.loads((tmp_path / "site" / "config.json").read_text())
    assert (
        config["lists_url"] == "/lists/"
        and config["root_kid"] == keys.kid_for(keystore.root_public_key()).hex()
    )
    assert json.loads((tmp_path / "site" / "i18n" / "ka.json").read_text())["next"] == "შემდეგი"
