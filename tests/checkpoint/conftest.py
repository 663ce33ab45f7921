"""Fixtures for the checkpoint app: Chromium with a fake camera showing a QR code, and the app
opened at /verify/ on a phone-sized screen with the browser's clock set to the server's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser import launched
from tests.checkpoint.camera import camera_file
from tests.conftest import Clock

FAKE_CAMERA = ("--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream")

CameraBrowser = Callable[..., AbstractContextManager[Any]]
Launcher = Callable[..., AbstractContextManager[Any]]


@pytest.fixture
def launch_chromium(browser: Any) -> Launcher:
    """Launch another Chromium with extra flags, through the Playwright of the session's
    `browser` (one Playwright per test session: a second one cannot start beside it)."""
    return lambda extra_args=(): launched(browser.browser_type, extra_args)


@pytest.fixture
def camera_browser(tmp_path: Path, launch_chromium: Launcher) -> CameraBrowser:
    """Launch Chromium whose camera shows the QR code of a text (None: a camera with no QR)."""

    @contextmanager
    def launch(text: str | None, *, blank_frames: int = 0) -> Iterator[Any]:
        video = camera_file(tmp_path / "camera.y4m", text, blank_frames=blank_frames)
        flags = [*FAKE_CAMERA, f"--use-file-for-fake-video-capture={video}"]
        with launch_chromium(flags) as launched:
            yield launched

    return launch


def open_app(browser: Any, base_url: str, clock: Clock, *, locale: str = "en-GB") -> Any:
    """Open the checkpoint app in a fresh 360x640 context at the server's time; wait until it
    has started (lists loaded, camera requested). Returns the page."""
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale=locale, permissions=["camera"]
    )
    context.clock.set_fixed_time(clock())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{base_url}/verify/")
    page.evaluate("async () => { await window.checkpoint.ready; }")
    page.errors = errors
    return page


def verdict(page: Any, *, timeout: float = 15_000) -> str:
    """Wait for the verdict screen and return its status."""
    page.locator("#verdict:not([hidden])").wait_for(timeout=timeout)
    status: str = page.locator("#verdict").get_attribute("data-status")
    return status


def next_scan(page: Any) -> None:
    """Tap "Scan next": the verdict closes and the camera scans again."""
    page.locator("#next").click()
    page.locator("#verdict").wait_for(state="hidden")


def save_settings(page: Any, *, checkpoint: str, token: str) -> None:
    """Enter the checkpoint and the officer's token in Settings."""
    page.locator("#open-settings").click()
    page.locator("#checkpoint-input").fill(checkpoint)
    page.locator("#token-input").fill(token)
    page.locator("#settings-save").click()
    page.locator("#settings-dialog").wait_for(state="hidden")


def pending_checks(page: Any) -> int:
    """How many check records the device still holds (IndexedDB)."""
    count: int = page.evaluate("() => window.checkpoint.app.store.countChecks()")
    return count
