"""The browser harness itself: chromium loads a page from the live server."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_chromium_reads_the_live_api(live_server: str, page: Any) -> None:
    response = page.goto(f"{live_server}/healthz")
    assert response.status == 200
    assert '"status":"ok"' in page.content().replace(" ", "")
