"""The checkpoint app as a set of files: the sources in verifier/web/, the QR decoder from
node_modules (installed by `make setup`, never fetched from a CDN), and a generated
config.json that pins the regional root public key.

The same bundle is served at /verify (routes.py) and written out as plain static files
(build.py), so that any web server can host the app.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from verifier.keys import kid_for, public_key_jwk

REPO = Path(__file__).resolve().parents[2]
WEB_DIR = REPO / "verifier" / "web"
NODE_MODULES = REPO / "node_modules"
DECODER = ("vendor/jsQR.js", NODE_MODULES / "jsqr" / "dist" / "jsQR.js")
"""The fallback QR decoder (npm package jsqr) for browsers without BarcodeDetector."""

APP_SUFFIXES = {".html", ".css", ".js", ".json", ".webmanifest", ".svg", ".png"}
SKIPPED_DIRS = {"test", "dist", "node_modules"}
SKIPPED_FILES = {"package.json"}  # tells node the sources are ES modules; not part of the app
VERSION_MARK = b"__APP_VERSION__"
DEFAULT_LISTS_URL = "../api/v1/lists/"
DEFAULT_API_URL = "../api/v1/"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest")

mimetypes.add_type("application/manifest+json", ".webmanifest")
mimetypes.add_type("text/javascript", ".js")


class DecoderMissing(RuntimeError):
    """The npm packages are not installed (run `make setup`)."""


@dataclass(frozen=True, slots=True)
class AppFile:
    """One file of the app: its bytes, gzip form (when worth it), media type and ETag."""

    data: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


def app_config(
    root_public_key: ec.EllipticCurvePublicKey,
    *,
    lists_url: str = DEFAULT_LISTS_URL,
    api_url: str = DEFAULT_API_URL,
) -> dict[str, object]:
    """Return config.json: the pinned root key (JWK and kid) and where lists and the API are.

    URLs are relative to the app's folder, so the same files work under any prefix.
    """
    return {
        "format": 1,
        "root_public_key": public_key_jwk(root_public_key),
        "root_kid": kid_for(root_public_key).hex(),
        "lists_url": lists_url,
        "api_url": api_url,
        "sync_minutes": 5,
    }


def _source_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for path in sorted(WEB_DIR.rglob("*")):
        relative = path.relative_to(WEB_DIR)
        if not path.is_file() or relative.parts[0] in SKIPPED_DIRS or path.name in SKIPPED_FILES:
            continue
        if path.suffix in APP_SUFFIXES:
            files[relative.as_posix()] = path.read_bytes()
    name, source = DECODER
    if not source.is_file():
        raise DecoderMissing(f"{source} is missing: run `make setup` (npm ci)")
    files[name] = source.read_bytes()
    return files


def build_bundle(config: dict[str, object]) -> dict[str, AppFile]:
    """Return every file of the app by its path under the app's folder ("" is not included).

    The service worker's cache name carries a hash of all other files, so a changed file
    (or a new root key) makes devices take the new version on their next visit online.
    """
    raw = _source_files()
    raw["config.json"] = json.dumps(config, indent=2, sort_keys=True).encode()
    digest = hashlib.sha256()
    for name in sorted(raw):
        if name != "sw.js":
            digest.update(name.encode() + b"\0" + raw[name] + b"\0")
    version = digest.hexdigest()[:16]
    manifest = sorted(name for name in raw if name != "sw.js")
    if "sw.js" in raw:
        raw["sw.js"] = (
            raw["sw.js"]
            .replace(VERSION_MARK, version.encode())
            .replace(b"__APP_FILES__", json.dumps(manifest).encode())
        )
    out: dict[str, AppFile] = {}
    for name, data in raw.items():
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or media_type.endswith(("javascript", "json")):
            media_type += "; charset=utf-8"
        packed = gzip.compress(data, 9, mtime=0) if media_type.startswith(COMPRESSIBLE) else None
        if packed is not None and len(packed) >= len(data):
            packed = None
        etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
        out[name] = AppFile(data, packed, media_type, etag)
    return out
