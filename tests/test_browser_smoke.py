"""The browser harness itself, and the API documentation page: chromium loads /docs from the
live server, entirely from our own origin (no CDN on a closed network), and Swagger UI
renders the API's operations."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_chromium_reads_the_live_api(live_server: str, page: Any) -> None:
    response = page.goto(f"{live_server}/healthz")
    assert response.status == 200
    assert '"status":"ok"' in page.content().replace(" ", "")


def test_api_docs_render_from_our_own_files(live_server: str, page: Any) -> None:
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server) else foreign.append(request.url)
        ),
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any(path.startswith("/api/v1/permits") for path in paths)
    assert foreign == []
