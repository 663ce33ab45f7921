"""The OpenAPI documentation page at /docs, served from our own files.

FastAPI's default page loads Swagger UI from a CDN with an inline script; this one serves
Swagger UI from the npm package `swagger-ui-dist` (installed by `make setup`) and starts it
from a small script of ours, so it works on a closed network under a strict CSP.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse

from permits.errors import NotFound

SWAGGER_DIST = Path(__file__).resolve().parents[2] / "node_modules" / "swagger-ui-dist"
INIT_SCRIPT = Path(__file__).with_name("static") / "docs-init.js"
ASSETS = {
    "swagger-ui.css": (SWAGGER_DIST / "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": (SWAGGER_DIST / "swagger-ui-bundle.js", "text/javascript"),
    "docs-init.js": (INIT_SCRIPT, "text/javascript"),
}

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body>
</html>
"""


def install_api_docs(app: FastAPI) -> None:
    """Serve the Swagger UI page at /docs and its assets at /docs/assets/<name>."""

    @app.get("/docs", include_in_schema=False)
    def docs_page() -> HTMLResponse:
        return HTMLResponse(PAGE.format(title=app.title))

    @app.get("/docs/assets/{name}", include_in_schema=False)
    def docs_asset(name: str) -> FileResponse:
        entry = ASSETS.get(name)
        if entry is None or not entry[0].exists():
            raise NotFound(f"no documentation asset {name} (run `make setup`)")
        path, media_type = entry
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "max-age=3600"})
