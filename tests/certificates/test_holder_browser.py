"""The holder page in a real browser (Debian's chromium): it shows the permit and asks to
raise the brightness; once opened it keeps working with the server gone (service worker);
the QR code on the screen, read from a screenshot by zxing-cpp, verifies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from permits.app import create_app
from permits.settings import Settings
from permits.trust.keystore import KeyStore
from tests.browser import LiveServer
from tests.certificates.conftest import dump, moment_inside
from tests.certificates.readback import png_image, read_qr_texts
from tests.factories import World
from tests.helpers import device_verifier
from verifier.model import Status

pytestmark = pytest.mark.browser


@pytest.fixture
def own_server(
    settings: Settings, engine: Engine, keystore: KeyStore, clock: Any, world: World
) -> Iterator[LiveServer]:
    """A live server this test may stop halfway (to take the phone offline)."""
    server = LiveServer(create_app(settings, engine=engine, keystore=keystore, clock=clock))
    server.start()
    yield server
    server.stop()


def test_holder_page_works_offline_and_its_qr_verifies(
    own_server: LiveServer,
    browser: Any,
    client: TestClient,
    issued: dict[str, dict[str, Any]],
    keystore: KeyStore,
) -> None:
    permit = issued["medical_staff"]
    # The session's browser: one Playwright per test session (a second cannot start beside it).
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    try:
        page = context.new_page()
        url = own_server.url + permit["holder_path"]
        page.goto(url)
        assert permit["serial"] in page.content()
        page.wait_for_selector("html[data-offline-ready='1']", timeout=15000)
        shot = page.screenshot(full_page=True)
        dump("holder-page.png", shot)
        own_server.stop()  # the phone loses the network: nothing answers any more
        page.reload()
        html = page.content()
        assert permit["serial"] in html and permit["control_code"] in html
        assert "parlaqlığını" in html  # the brightness request
        offline_shot = page.screenshot(full_page=True)
        texts = read_qr_texts(png_image(offline_shot))
        assert texts == [permit["qr_text"]]
        result = device_verifier(client, keystore).verify(texts[0], at=moment_inside(permit))
        assert result.status is Status.VALID
    finally:
        context.close()
