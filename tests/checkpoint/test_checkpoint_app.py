"""The checkpoint app end to end in Debian's Chromium: a fake camera shows a real QR code of a
permit issued through the API, and the app in the browser reaches the verdict."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, select

from permits.checks.models import Check
from permits.oversight.checkpoints import register_checkpoint
from permits.trust.keystore import KeyStore
from tests.checkpoint.camera import qr_image
from tests.checkpoint.conftest import (
    CameraBrowser,
    next_scan,
    open_app,
    pending_checks,
    save_settings,
    verdict,
)
from tests.conftest import Clock
from tests.factories import World, medical_staff
from tests.helpers import issue
from verifier import keys, lists, text

pytestmark = pytest.mark.browser


def _wait_for(condition: Any, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def tamper(qr: str) -> str:
    """Change one Base45 character in the middle of the payload (the bytes stay well-formed)."""
    body = qr[len(text.PREFIX) :]
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for position in range(len(body) // 2 // 3 * 3, len(body), 3):
        digit = alphabet.index(body[position])
        for changed in (digit + 1, digit - 1):
            if not 0 <= changed < 45:
                continue
            candidate = body[:position] + alphabet[changed] + body[position + 1 :]
            try:
                text.base45_decode(candidate)
            except Exception:  # an overflowing group: try another
                continue
            return text.PREFIX + candidate
    raise AssertionError("no character could be changed")


def _device_checks(session: Session) -> list[Check]:
    session.rollback()  # a fresh snapshot: the server commits in its own sessions
    return list(session.exec(select(Check).where(Check.source == "device")).all())


def test_camera_scan_shows_the_permit_and_uploads_the_check(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
    session: Session,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    with camera_browser(permit["qr_text"]) as browser:
        page = open_app(browser, live_server, clock)
        assert verdict(page) == "valid"
        assert page.locator("#verdict").get_attribute("class") == "green"
        assert page.locator("#verdict-word").inner_text() == "VALID"
        details = page.locator("#verdict-details").inner_text()
        for expected in ("ნინო", "ბერიძე", "01024054321", "AA-123-BB", "Marneuli → Rustavi"):
            assert expected in details, (expected, details)
        assert permit["control_code"] in details
        # scanned before anyone set a token: the record waits on the device
        _wait_for(lambda: pending_checks(page) == 1)
        # the officer puts the phone away (the app stops the camera when hidden), then enters
        # the checkpoint and the token: the waiting record goes up with that token
        page.evaluate("() => window.checkpoint.app.scanner.stop()")
        next_scan(page)
        save_settings(page, checkpoint="RUS-N", token=world.tokens["police"])
        _wait_for(lambda: pending_checks(page) == 0)
        page.reload()  # the next start scans with the settings kept
        page.evaluate("async () => { await window.checkpoint.ready; }")
        assert verdict(page) == "valid"
        _wait_for(lambda: len(_device_checks(session)) == 2)
        _wait_for(lambda: pending_checks(page) == 0)
        assert page.errors == []
    checks = _device_checks(session)
    assert len(checks) == 2
    assert {c.checkpoint for c in checks} == {"unset", "RUS-N"}
    for check in checks:
        assert check.result == "valid" and check.officer_user_id == world.users["police"].id
        assert str(check.permit_id) == permit["id"] and check.device_check_id


def test_offline_after_the_first_visit(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    with camera_browser(permit["qr_text"]) as browser:
        page = open_app(browser, live_server, clock)
        assert verdict(page) == "valid"
        page.evaluate(
            """async () => {
                await navigator.serviceWorker.ready;
                while (!navigator.serviceWorker.controller) {
                    await new Promise(r => setTimeout(r, 50));
                }
            }"""
        )
        page.context.set_offline(True)
        page.reload()
        page.evaluate("async () => { await window.checkpoint.ready; }")
        assert verdict(page) == "valid"
        assert "Offline" in page.locator("#banners").inner_text()
        assert "ნინო ბერიძე" in page.locator("#verdict-details").inner_text()
        # a typed control code needs the network: a clear message, not a verdict
        next_scan(page)
        page.locator("#type-code").click()
        page.locator("#code-input").fill(permit["control_code"])
        page.locator("#code-submit").click()
        assert "No connection" in page.locator("#code-message").inner_text()
        assert page.locator("#verdict").is_hidden()
        assert page.errors == []


def test_a_revoked_permit_shows_revoked_after_a_sync(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    older = client.get("/api/v1/lists/revocation-list.cose").content
    with camera_browser(permit["qr_text"]) as browser:
        page = open_app(browser, live_server, clock)
        assert verdict(page) == "valid"
        response = client.post(
            f"/api/v1/permits/{permit['id']}/revoke",
            json={"reason": "lost phone"},
            headers=world.auth("doctor"),
        )
        assert response.status_code == 200, response.text
        held = page.evaluate("() => window.checkpoint.app.lists.revocation.version")
        next_scan(page)
        page.locator("#open-settings").click()
        page.locator("#sync-now").click()
        page.wait_for_timeout(300)
        page.locator("#settings-close").click()
        assert verdict(page) == "revoked"
        assert page.evaluate("() => window.checkpoint.app.lists.revocation.version") > held
        assert page.locator("#verdict").get_attribute("class") == "red"
        assert page.locator("#verdict-word").inner_text() == "REVOKED"
        assert page.locator("#verdict-reason").inner_text() == "The issuer revoked this permit."
        assert "ნინო ბერიძე" in page.locator("#verdict-details").inner_text()
        # an older list, even one the root signed, never replaces a newer one (no rollback)
        page.route(
            "**/api/v1/lists/revocation-list.cose",
            lambda route: route.fulfill(status=200, body=older),
        )
        page.evaluate("() => window.checkpoint.sync()")
        assert "older than the one held" in page.locator("#banners").inner_text()
        next_scan(page)
        assert verdict(page) == "revoked"


def test_a_tampered_qr_shows_invalid(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    with camera_browser(tamper(permit["qr_text"])) as browser:
        page = open_app(browser, live_server, clock)
        assert verdict(page) == "bad_signature"
        assert page.locator("#verdict").get_attribute("class") == "red"
        assert "altered or forged" in page.locator("#verdict-reason").inner_text()
        # nothing from a forged code is shown as if it could be trusted
        assert "ნინო" not in page.locator("#verdict-details").inner_text()


def test_a_trust_list_signed_by_another_key_is_refused(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
    keystore: KeyStore,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    genuine = client.get("/api/v1/lists/trust-list.cose").content
    held = lists.load_trust_list(genuine, root_public_key=keystore.root_public_key())
    impostor = keys.generate_private_key()
    forged = lists.sign_trust_list(
        replace(held, version=held.version + 1000),  # the same issuers, a newer version
        root_private_key=impostor,
        root_kid=keys.kid_for(impostor.public_key()),
    )
    with camera_browser(permit["qr_text"]) as browser:
        page = open_app(browser, live_server, clock)
        assert verdict(page) == "valid"
        version = page.evaluate("() => window.checkpoint.app.lists.trust.version")
        page.route(
            "**/api/v1/lists/trust-list.cose",
            lambda route: route.fulfill(
                status=200, body=forged, headers={"Content-Type": "application/cose"}
            ),
        )
        page.evaluate("() => window.checkpoint.sync()")
        banner = page.locator("#banners").inner_text()
        assert "was refused (not signed by the regional root key)" in banner, banner
        assert page.evaluate("() => window.checkpoint.app.lists.trust.version") == version
        next_scan(page)
        assert verdict(page) == "valid"  # the device keeps verifying with the lists it holds


def test_a_photo_of_a_qr_and_a_typed_control_code(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
    session: Session,
    tmp_path: Path,
) -> None:
    permit = issue(client, world, medical_staff(clock()))
    photo = tmp_path / "permit.png"
    picture = Image.new("RGB", (1200, 900), (205, 200, 190))  # a phone photo of a screen
    picture.paste(qr_image(permit["qr_text"], size=420).convert("RGB"), (380, 240))
    picture.save(photo)
    with camera_browser(None) as browser:  # the camera shows no QR at all
        page = open_app(browser, live_server, clock, locale="az-AZ")
        page.locator("#photo").set_input_files(photo)
        assert verdict(page) == "valid"
        assert page.locator("#verdict-word").inner_text() == "ETİBARLIDIR"
        next_scan(page)
        # typing the control code: an online look-up with the officer's token
        page.locator("#type-code").click()
        page.locator("#code-input").fill("XXX-XXX-XXX")
        page.locator("#code-submit").click()
        assert (
            page.locator("#code-message").inner_text()
            == "Bu nəzarət kodu deyil: simvolları yoxlayın."
        )
        page.locator("#code-input").fill(permit["control_code"].lower().replace("-", " "))
        page.locator("#code-submit").click()
        assert "tokenini" in page.locator("#code-message").inner_text()  # no token yet
        page.locator("#code-cancel").click()
        save_settings(page, checkpoint="MRN-N", token=world.tokens["police"])
        page.locator("#type-code").click()
        page.locator("#code-input").fill(permit["control_code"])
        page.locator("#code-submit").click()
        assert verdict(page) == "valid"
        assert "01024054321" in page.locator("#verdict-details").inner_text()
        _wait_for(lambda: pending_checks(page) == 0)
    online = session.exec(select(Check).where(Check.source == "online")).all()
    assert [(c.checkpoint, c.result) for c in online] == [("MRN-N", "valid")]
    device = session.exec(select(Check).where(Check.source == "device")).all()
    assert [(c.checkpoint, c.result) for c in device] == [("unset", "valid")]  # the photo


def test_the_scanner_waits_for_the_qr_and_needs_no_login(
    camera_browser: CameraBrowser,
    live_server: str,
    client: TestClient,
    world: World,
    clock: Clock,
    tmp_path: Path,
) -> None:
    """Blank frames first, then the QR: the scanner keeps scanning until the code appears."""
    permit = issue(client, world, medical_staff(clock()))
    with camera_browser(permit["qr_text"], blank_frames=20) as browser:
        page = open_app(browser, live_server, clock, locale="ka-GE")
        assert verdict(page) == "valid"
        assert page.locator("#verdict-word").inner_text() == "ძალაშია"
        assert page.evaluate("() => window.checkpoint.app.settings.token") == ""
        timing = page.evaluate("() => window.checkpoint.app.timings[0]")
        assert timing["painted"] >= timing["verified"] >= timing["decoded"] >= timing["frame"]


def test_settings_offer_the_registry_checkpoints_in_the_app_language(
    camera_browser: CameraBrowser,
    live_server: str,
    world: World,
    clock: Clock,
    session: Session,
) -> None:
    register_checkpoint(
        session,
        data={
            "code": "MRN-SOUTH",
            "names": {"ka": "მარნეული, სამხრეთი", "az": "Marneuli, cənub", "en": "Marneuli south"},
            "municipality": 5,
            "latitude": 41.44,
            "longitude": 44.80,
        },
        now=clock(),
        actor=None,
    )

    def offered(page: Any) -> dict[str, str]:
        options: dict[str, str] = page.evaluate(
            "() => Object.fromEntries([...document.querySelectorAll('#checkpoint-options option')]"
            ".map((o) => [o.value, o.label]))"
        )
        return options

    with camera_browser(None) as browser:
        page = open_app(browser, live_server, clock, locale="az-AZ")
        assert offered(page) == {}  # no token yet: the registry is not public
        save_settings(page, checkpoint="MRN-SOUTH", token=world.tokens["police"])
        _wait_for(lambda: "MRN-SOUTH" in offered(page))
        assert offered(page)["MRN-SOUTH"] == "Marneuli, cənub"
        assert page.locator("#checkpoint-input").get_attribute("list") == "checkpoint-options"
        # Kept on the device: offered again after a reload with the network cut.
        page.context.set_offline(True)
        page.reload()
        page.evaluate("async () => { await window.checkpoint.ready; }")
        assert offered(page)["MRN-SOUTH"] == "Marneuli, cənub"
        page.locator("#langs button[data-lang='ka']").click()  # loads its catalogue first
        _wait_for(lambda: offered(page)["MRN-SOUTH"] == "მარნეული, სამხრეთი")
