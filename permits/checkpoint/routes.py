"""Serve the checkpoint app at /verify/ (public: it holds public keys and code only)."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from permits.checkpoint.bundle import AppFile, DecoderMissing, app_config, build_bundle
from permits.errors import NotFound, ServiceUnavailable
from permits.trust.keystore import KeyStore

router = APIRouter(tags=["checkpoint"], include_in_schema=False)
_lock = threading.Lock()


def _bundle(request: Request) -> dict[str, AppFile]:
    """The app's files, built once per application (the root key comes from its key store)."""
    state = request.app.state
    bundle: dict[str, AppFile] | None = getattr(state, "checkpoint_bundle", None)
    if bundle is None:
        with _lock:
            bundle = getattr(state, "checkpoint_bundle", None)
            if bundle is None:
                keystore: KeyStore = state.keystore
                try:
                    bundle = build_bundle(app_config(keystore.root_public_key()))
                except DecoderMissing as exc:
                    raise ServiceUnavailable(str(exc), code="checkpoint_app_not_built") from exc
                state.checkpoint_bundle = bundle
    return bundle


@router.get("/verify")
def app_root() -> RedirectResponse:
    """The app lives in the folder /verify/ (its files use relative URLs)."""
    return RedirectResponse("/verify/", status_code=308)


@router.get("/verify/{path:path}")
def app_file(path: str, request: Request) -> Response:
    """One file of the app; the folder itself is index.html. gzip when the browser takes it."""
    bundle = _bundle(request)
    file = bundle.get(path or "index.html")
    if file is None:
        raise NotFound(f"the checkpoint app has no file {path}")
    headers = {
        "ETag": file.etag,
        "Cache-Control": "max-age=0, must-revalidate",  # public files: revalidated each time
        "Vary": "Accept-Encoding",
    }
    if path == "sw.js":
        headers["Service-Worker-Allowed"] = "/verify/"
    if request.headers.get("if-none-match") == file.etag:
        return Response(status_code=304, headers=headers)
    body = file.data
    if file.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        body = file.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=file.media_type, headers=headers)
