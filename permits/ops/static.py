"""The signed lists as static files under /lists/ (served without touching the database).

Checkpoint devices fetch /lists/trust-list.cose, /lists/revocation-list.cose and
/lists/root-public-key.pem. The files are written by `permits export` or, in production, by
the list publisher; any web server or CDN can serve the same folder instead.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

mimetypes.add_type("application/cose", ".cose")
mimetypes.add_type("application/x-pem-file", ".pem")

LISTS_PATH = "/lists"
MAX_AGE_SECONDS = 60


class SignedListFiles(StaticFiles):
    """StaticFiles for the signed lists: short caching, open to any origin (they are public,
    signed and carry no personal data), ETag and Last-Modified from Starlette."""

    async def check_config(self) -> None:
        """Accept a folder that does not exist yet: 404 until the lists are first exported."""
        if self.directory is not None and not Path(self.directory).is_dir():
            return
        await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve one list file with cache and CORS headers."""
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = f"public, max-age={MAX_AGE_SECONDS}"
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response


def mount_static_lists(app: FastAPI, directory: Path) -> None:
    """Serve the files of `directory` (the lists folder) under /lists/ (404 until exported)."""
    app.mount(
        LISTS_PATH,
        SignedListFiles(directory=directory, check_dir=False),
        name="static-lists",
    )
