"""The workspace in a real browser (Debian's chromium through Playwright), on a phone-sized
screen: log in, change the password, issue each core category, see a field error, bulk
upload with a bad row, export Excel and open it, replace and revoke.

With PERMITS_SCREENSHOTS=<folder> set, the main pages are also saved there as PNG
(docs/workspace/ holds the ones made so).
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.workspace.rosters import STAFF, csv_roster
from tests.workspace.web import PASSWORD, set_password

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("PERMITS_SCREENSHOTS")


def shot(page: Any, name: str, *, full: bool = True) -> None:
    """Save a screenshot (as a small palette PNG) when PERMITS_SCREENSHOTS names a folder."""
    if SHOTS:
        from PIL import Image

        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        image = Image.open(io.BytesIO(page.screenshot(full_page=full)))
        small = image.convert("RGB").quantize(colors=64)
        small.save(Path(SHOTS) / f"{name}.png", optimize=True)


def log_in(page: Any, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill('[name="username"]', username)
    page.fill('[name="password"]', password)
    page.click('button[type="submit"].primary')


def fill_person(page: Any, index: int, first: str, last: str, pn: str) -> None:
    page.fill(f'[name="person-{index}-first_name"]', first)
    page.fill(f'[name="person-{index}-last_name"]', last)
    page.fill(f'[name="person-{index}-document"]', pn)


def issue(page: Any, url: str, category: str, fill: Any) -> str:
    page.goto(f"{url}/workspace/issue/{category}")
    fill(page)
    page.click('[data-testid="issue"]')
    page.wait_for_url(re.compile(r".*/workspace/permits/[0-9a-f-]{36}$"))
    assert page.locator('[data-testid="qr"]').is_visible()
    assert "/h/" in page.input_value('[data-testid="holder-link"]')
    return str(page.url)


def test_issuing_in_the_browser(live_server, page, browser, engine, world):
    url = live_server
    set_password(engine, world, "doctor")
    set_password(engine, world, "bolnisi")
    page.goto(f"{url}/login")
    shot(page, "login-phone")
    log_in(page, url, "doctor")
    page.wait_for_url(f"{url}/")
    assert page.inner_text('[data-testid="institution"]') == "მარნეულის სამედიცინო ცენტრი"
    shot(page, "home-phone")

    # change the password
    page.click('a[href="/account/password"]')
    new_password = "Marneuli nights are long"
    page.fill('[name="current_password"]', PASSWORD)
    page.fill('[name="new_password"]', "password123")
    page.fill('[name="new_password_repeat"]', "password123")
    page.click("form.stack button.primary")
    assert page.locator(".field-error").first.is_visible()  # a common password
    page.fill('[name="current_password"]', PASSWORD)
    page.fill('[name="new_password"]', new_password)
    page.fill('[name="new_password_repeat"]', new_password)
    page.click("form.stack button.primary")
    page.wait_for_url(f"{url}/")
    page.click('[data-testid="logout"]')
    page.wait_for_url(re.compile(r".*/login$"))
    log_in(page, url, "doctor", new_password)
    page.wait_for_url(f"{url}/")

    # a field error, in Georgian, and nothing issued
    page.goto(f"{url}/workspace/issue/medical_staff")
    fill_person(page, 0, "ნინო", "ბერიძე", "0102405432")
    page.fill('[name="person-0-position"]', "ექთანი")
    page.fill('[name="vehicle-plate"]', "AA-123-BB")
    page.click('[data-testid="issue"]')
    error = page.locator("#f-person-0-document-error")
    assert "11" in error.inner_text()
    assert page.input_value('[name="person-0-first_name"]') == "ნინო"
    shot(page, "issue-form-error")

    def staff(p: Any) -> None:
        fill_person(p, 0, "ნინო", "ბერიძე", "01024054321")
        p.fill('[name="person-0-position"]', "ექთანი")
        p.fill('[name="vehicle-plate"]', "AA-123-BB")

    def visit(p: Any) -> None:
        fill_person(p, 0, "თამარ", "გელაშვილი", "01001012345")
        fill_person(p, 1, "ლევან", "მაისურაძე", "01001054321")
        p.fill('[name="vehicle-plate"]', "GE-555-AB")
        p.fill('[name="vehicle-make_model"]', "Toyota Prius")
        p.select_option('[name="schedule-preset"]', "mwf")
        assert p.is_checked('input[name="schedule-weekdays"][value="wed"]')  # the preset ticks
        p.fill('[name="purpose_detail"]', "dialysis")

    def delivery(p: Any) -> None:
        fill_person(p, 0, "მარიამ", "ჯაფარიძე", "01019076543")
        p.fill('[name="vehicle-plate"]', "MN-777-OP")
        p.fill('[name="vehicle-make_model"]', "Opel Astra")
        p.fill('[name="route-from_address"]', "Marneuli, Aghmashenebeli 4")
        p.fill('[name="schedule-date_to"]', p.input_value('[name="schedule-date_from"]'))
        p.fill('[name="beneficiary"]', "ნანა ბერიძე, ward 3")

    def funeral(p: Any) -> None:
        fill_person(p, 0, "ზურაბ", "ლომიძე", "01008011111")
        p.fill('[name="vehicle-plate"]', "TT-404-TT")
        p.fill('[name="route-to_address"]', "Bolnisi cemetery")
        p.fill('[name="schedule-date_to"]', p.input_value('[name="schedule-date_from"]'))
        p.fill('[name="reference_document"]', "DC-2026-0042")

    staff_url = issue(page, url, "medical_staff", staff)
    shot(page, "permit-phone")
    issue(page, url, "doctor_visit", visit)
    delivery_url = issue(page, url, "patient_delivery", delivery)
    issue(page, url, "funeral", funeral)

    # print and phone image links answer with a PDF and a PNG
    pdf = page.get_attribute('[data-testid="print-pdf"]', "href")
    image = page.get_attribute('[data-testid="phone-image"]', "href")
    assert pdf and page.request.get(f"{url}{pdf}").headers["content-type"] == "application/pdf"
    assert image and page.request.get(f"{url}{image}").headers["content-type"] == "image/png"

    # reuse as a template
    page.goto(delivery_url)
    page.click('[data-testid="reuse"]')
    assert page.input_value('[name="beneficiary"]') == "ნანა ბერიძე, ward 3"

    # replace (another car), then revoke the replacement
    page.goto(staff_url)
    page.click('[data-testid="replace"]')
    page.fill('[name="vehicle-plate"]', "BB-222-CC")
    page.click('[data-testid="issue"]')
    page.wait_for_url(re.compile(r".*/workspace/permits/[0-9a-f-]{36}$"))
    assert page.url != staff_url
    replacement = page.url
    page.goto(staff_url)
    assert page.inner_text('[data-testid="status"]') == "შეცვლილი"
    page.goto(replacement)
    page.fill("#revoke-reason", "lost phone")
    page.on("dialog", lambda dialog: dialog.accept())
    page.click('[data-testid="revoke-form"] button')
    page.wait_for_selector('[data-testid="status"]:has-text("გაუქმებული")')

    # the register on a desktop screen, grouped, and its Excel export
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    desktop = desk.new_page()
    log_in(desktop, url, "doctor", new_password)
    desktop.goto(f"{url}/language/en?next=/workspace/register%3Fgroup%3Dcategory")
    assert desktop.locator('[data-testid="group"]').count() == 4
    shot(desktop, "register-desktop")
    with desktop.expect_download() as download:
        desktop.click('[data-testid="export-detailed"]')
    book = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes()))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "Serial number" and len(rows) == 1 + 5
    desktop.goto(f"{url}/workspace/issue/doctor_visit")
    shot(desktop, "issue-form-desktop")
    desk.close()

    # farm work, issued by the municipality, with the policy's windows filled in
    page.click('[data-testid="logout"]')
    log_in(page, url, "bolnisi")
    page.wait_for_url(f"{url}/")

    def farm(p: Any) -> None:
        assert p.input_value('[name="schedule-window-0-start"]') == "06:00"
        fill_person(p, 0, "ელნურ", "ალიევი", "01030011223")
        p.fill('[name="vehicle-plate"]', "FF-100-AA")
        p.select_option('[name="vehicle-kind"]', "tractor")
        p.fill('[name="route-to_address"]', "Field near Kvemo Bolnisi")

    issue(page, url, "farm_work", farm)


def test_bulk_upload_in_the_browser(live_server, page, engine, world):
    url = live_server
    set_password(engine, world, "doctor")
    log_in(page, url, "doctor")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/language/en?next=/workspace/bulk")
    page.set_input_files(
        '[name="roster"]',
        {"name": "staff.csv", "mimeType": "text/csv", "buffer": csv_roster(STAFF)},
    )
    shot(page, "bulk-upload-phone")
    page.click('[data-testid="upload"]')
    page.wait_for_selector('[data-testid="bulk-summary"]')
    assert page.inner_text('[data-testid="rows-valid"]') == "3"
    assert page.inner_text('[data-testid="rows-invalid"]') == "1"
    assert page.inner_text('[data-testid="rows-duplicate"]') == "1"
    assert "11 digits" in page.inner_text('[data-testid="bulk-problems"]')
    shot(page, "bulk-report-phone")
    page.click('[data-testid="confirm"]')
    page.wait_for_selector('[data-testid="bulk-summary"][data-status="done"]', timeout=30_000)
    assert page.inner_text('[data-testid="rows-issued"]') == "3"
    zip_href = page.get_attribute('[data-testid="batch-zip"]', "href")
    pdf_href = page.get_attribute('[data-testid="batch-pdf"]', "href")
    assert page.request.get(f"{url}{zip_href}").headers["content-type"] == "application/zip"
    assert page.request.get(f"{url}{pdf_href}").headers["content-type"] == "application/pdf"
    shot(page, "bulk-done-phone")


def test_expired_session_keeps_what_was_typed(live_server, page, engine, world, clock):
    url = live_server
    set_password(engine, world, "doctor")
    log_in(page, url, "doctor")
    page.wait_for_url(f"{url}/")
    page.goto(f"{url}/workspace/issue/medical_staff")
    fill_person(page, 0, "ნინო", "ბერიძე", "01024054321")
    page.fill('[name="person-0-position"]', "ექთანი")
    clock.advance(hours=1)  # the session times out while the form is open
    page.click('[data-testid="issue"]')
    page.wait_for_url(re.compile(r".*/login\?next=.*"))
    page.fill('[name="username"]', "doctor")
    page.fill('[name="password"]', PASSWORD)
    page.click('button[type="submit"].primary')
    page.wait_for_url(f"{url}/workspace/issue/medical_staff")
    assert page.input_value('[name="person-0-first_name"]') == "ნინო"
    assert page.input_value('[name="person-0-document"]') == "01024054321"
