"""A real browser and a real HTTP server for tests: Debian's chromium driven by Playwright.

On a machine without chromium (or without Playwright) browser tests skip; in CI
`PERMITS_REQUIRE_BROWSER=1` turns that skip into a failure, so a missing browser can never
pass for a working feature.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

CHROMIUM = os.environ.get("PERMITS_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("PERMITS_REQUIRE_BROWSER") == "1"

# The flags a closed network needs (no background calls to Google's hosts), as root in a
# container (no sandbox), without a GPU.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def browser_missing(reason: str) -> None:
    """Skip the test on a user's machine, fail it in CI (PERMITS_REQUIRE_BROWSER=1)."""
    if REQUIRE_BROWSER:
        pytest.fail(f"the browser is required here: {reason}")
    pytest.skip(reason)


@contextmanager
def launched(browser_type: Any, extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """Launch Debian's chromium headless with a Playwright `browser_type`, yield the Browser,
    and close it afterwards."""
    browser = browser_type.launch(
        executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
    )
    try:
        yield browser
    finally:
        browser.close()


@contextmanager
def chromium(extra_args: Sequence[str] = ()) -> Iterator[Any]:
    """Launch Debian's chromium headless through Playwright and yield the Browser.

    `extra_args` adds command-line flags (for example a fake camera:
    `--use-fake-device-for-media-stream`, `--use-file-for-fake-video-capture=...`).
    """
    if not Path(CHROMIUM).exists():
        browser_missing(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        browser_missing("playwright is not installed")
    with sync_playwright() as playwright, launched(playwright.chromium, extra_args) as browser:
        yield browser


class LiveServer:
    """A uvicorn server running `app` in a thread on a free loopback port; `options` go to
    uvicorn.Config."""

    def __init__(self, app: Any, **options: Any) -> None:
        options = {"log_level": "warning", "lifespan": "on", **options}
        config = uvicorn.Config(app, host="127.0.0.1", port=0, **options)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = ""

    def start(self) -> LiveServer:
        """Start serving and wait until the port is bound; `url` is then set."""
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        """Ask the server to exit and wait for its thread."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
