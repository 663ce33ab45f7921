"""Issuing from the form: each core category, field errors, reuse, replace, revoke, receipt."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from permits.issuance.models import Permit
from tests.workspace.web import csrf_of, logged_in

CORE = {
    "doctor_visit": "doctor",
    "medical_staff": "doctor",
    "patient_delivery": "doctor",
    "funeral": "doctor",
    "farm_work": "bolnisi",
}


def form_fields(html: str) -> dict[str, str]:
    """The filled-in values of a page's first form (inputs, selected options, textareas)."""
    fields: dict[str, str] = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        fields.setdefault(name, value)
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        first = re.search(r'<option value="([^"]*)"', body)
        fields.setdefault(name, (chosen or first).group(1) if (chosen or first) else "")
    return {k: v.replace("&#39;", "'").replace("&amp;", "&") for k, v in fields.items()}


def fill(category: str) -> dict[str, str]:
    """What a user types into the form of `category`."""
    person = {
        "person-0-first_name": "ნინო",
        "person-0-last_name": "ბერიძე",
        "person-0-document": "01024054321",
    }
    vehicle = {"vehicle-plate": "AA-123-BB", "vehicle-make_model": "Toyota Prius"}
    extra = {
        "doctor_visit": {"purpose_detail": "dialysis", "schedule-preset": "mwf"},
        "medical_staff": {"person-0-position": "ექთანი"},
        "patient_delivery": {
            "route-from_address": "Marneuli, Aghmashenebeli 4",
            "beneficiary": "ნანა ბერიძე, ward 3",
        },
        "funeral": {"reference_document": "DC-2026-0042", "route-to_address": "Bolnisi"},
        "farm_work": {"route-to_address": "Field near Kvemo Bolnisi"},
    }[category]
    return {**person, **vehicle, **extra}


def submit(client, category: str, changes: dict[str, str]):
    page = client.get(f"/workspace/issue/{category}")
    assert page.status_code == 200, page.text
    data = {**form_fields(page.text), **changes, "action": "issue"}
    data["csrf_token"] = csrf_of(page.text)
    if category == "patient_delivery":
        data["schedule-date_to"] = data["schedule-date_from"]
    return client.post(f"/workspace/issue/{category}", data=data)


@pytest.mark.parametrize("category", list(CORE))
def test_issue_each_core_category(client, engine, world, category):
    logged_in(client, engine, world, CORE[category])
    response = submit(client, category, fill(category))
    assert response.status_code == 200, response.text
    assert re.match(r"/workspace/permits/[0-9a-f-]{36}$", response.url.path)
    assert "/h/" in response.text and 'data-testid="qr"' in response.text
    with Session(engine) as session:
        permit = session.exec(select(Permit)).one()
    assert permit.category == category
    if category == "doctor_visit":
        assert permit.weekdays == 0b10101  # Mon, Wed, Fri
    if category == "farm_work":
        assert permit.windows == [[360, 480], [1080, 1140]]


def test_field_errors_are_shown_next_to_the_field_and_nothing_is_issued(client, engine, world):
    logged_in(client, engine, world, "doctor")
    client.cookies.set("permits_lang", "en")
    response = submit(
        client,
        "medical_staff",
        {**fill("medical_staff"), "person-0-document": "123", "vehicle-plate": "!!"},
    )
    assert response.status_code == 422
    assert 'id="f-person-0-document-error"' in response.text
    assert "A personal number has exactly 11 digits." in response.text
    assert 'id="f-vehicle-plate-error"' in response.text
    assert "ნინო" in response.text  # what was typed is kept
    with Session(engine) as session:
        assert session.exec(select(Permit)).first() is None


def test_field_errors_in_georgian(client, engine, world):
    logged_in(client, engine, world, "doctor")
    response = submit(client, "medical_staff", {**fill("medical_staff"), "person-0-document": "1"})
    assert response.status_code == 422
    assert "პირად ნომერს" in response.text or "11" in response.text


def test_html_in_names_is_escaped(client, engine, world):
    logged_in(client, engine, world, "doctor")
    name = '<script>alert("x")</script>ნინო'
    response = submit(
        client, "medical_staff", {**fill("medical_staff"), "person-0-first_name": name}
    )
    assert response.status_code == 200, response.text
    assert "<script>alert" not in response.text
    assert "&lt;script&gt;" in response.text


def test_a_form_sent_twice_issues_once(client, engine, world):
    logged_in(client, engine, world, "doctor")
    page = client.get("/workspace/issue/medical_staff")
    data = {**form_fields(page.text), **fill("medical_staff"), "action": "issue"}
    data["csrf_token"] = csrf_of(page.text)
    first = client.post("/workspace/issue/medical_staff", data=data)
    second = client.post("/workspace/issue/medical_staff", data=data)
    assert first.url.path == second.url.path
    with Session(engine) as session:
        assert len(session.exec(select(Permit)).all()) == 1


def test_reuse_replace_revoke_and_receipt(client, engine, world):
    logged_in(client, engine, world, "doctor")
    issued = submit(client, "patient_delivery", fill("patient_delivery"))
    permit_path = issued.url.path
    # reuse as a template
    again = client.get(
        permit_path.replace("/workspace/permits/", "/workspace/issue/patient_delivery?template=")
    )
    assert "ნანა ბერიძე, ward 3" in again.text
    # receipt
    page = client.get(permit_path)
    done = client.post(
        permit_path + "/receipt",
        data={"received_by": "ნათია, reception", "csrf_token": csrf_of(page.text)},
    )
    assert 'data-testid="receipt"' in done.text
    # replace with another car
    form_page = client.get(permit_path + "/replace")
    data = {**form_fields(form_page.text), "vehicle-plate": "BB-222-CC", "action": "issue"}
    data["csrf_token"] = csrf_of(form_page.text)
    replaced = client.post(permit_path + "/replace", data=data)
    assert replaced.status_code == 200, replaced.text
    assert replaced.url.path != permit_path
    old = client.get(permit_path)
    assert 'data-testid="status">' in old.text and "replaced" in old.text
    # revoke the new one
    new_path = replaced.url.path
    revoked = client.post(
        new_path + "/revoke",
        data={"reason": "lost phone", "csrf_token": csrf_of(replaced.text)},
    )
    assert 'class="status revoked"' in revoked.text


def test_other_organisations_permits_are_not_found(client, engine, world):
    logged_in(client, engine, world, "doctor")
    issued = submit(client, "medical_staff", fill("medical_staff"))
    path = issued.url.path
    client.cookies.clear()
    logged_in(client, engine, world, "other_doctor")
    assert client.get(path).status_code == 404
    assert client.get(path + "/qr.png").status_code == 404


def test_register_search_filter_group_and_exports(client, engine, world, clock):
    import io

    from openpyxl import load_workbook

    logged_in(client, engine, world, "doctor")
    client.cookies.set("permits_lang", "en")
    submit(client, "medical_staff", fill("medical_staff"))
    second = submit(
        client,
        "medical_staff",
        {
            **fill("medical_staff"),
            "person-0-first_name": '=HYPERLINK("http://x")',
            "person-0-last_name": "@SUM(1)",
            "person-0-document": "01024099999",
            "vehicle-plate": "GE-777-GE",
        },
    )
    assert second.status_code == 200, second.text[-3000:]
    delivery = submit(client, "patient_delivery", fill("patient_delivery"))
    client.post(
        delivery.url.path + "/revoke",
        data={"reason": "wrong day", "csrf_token": csrf_of(delivery.text)},
    )
    table = client.get("/workspace/register")
    assert "3 permits" in table.text
    by_pn = client.get("/workspace/register?personal_number=01024099999")
    assert "1 permit" in by_pn.text and "GE-777-GE" in by_pn.text
    partial = client.get("/workspace/register?personal_number=0102409999")  # exact only
    assert "0 permits" in partial.text
    assert "2 permits" in client.get("/workspace/register?name=ბერ").text
    assert "1 permit" in client.get("/workspace/register?plate=ge-77").text
    assert "1 permit" in client.get("/workspace/register?plate=777").text  # the middle too
    assert "1 permit" in client.get("/workspace/register?plate=777-ge").text
    assert "0 permits" in client.get("/workspace/register?plate=778").text
    assert "1 permit" in client.get("/workspace/register?status=revoked").text
    assert "2 permits" in client.get("/workspace/register?status=active").text
    grouped = client.get("/workspace/register?group=category")
    assert grouped.text.count('data-testid="group"') == 2
    by_day = client.get("/workspace/register?group=issued_at&sort=plate&dir=asc")
    assert by_day.text.count('data-testid="group"') == 1 and "2026-12-01 · 3" in by_day.text
    bad = client.get("/workspace/register?issued_from=yesterday")
    assert bad.status_code == 200 and "Enter a date as YYYY-MM-DD." in bad.text

    detailed = client.get("/workspace/register/export?mode=detailed")
    assert detailed.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(detailed.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Serial number" and len(values) == 4
    cells = [c for row in sheet.iter_rows() for c in row]
    assert all(c.data_type != "f" for c in cells)
    flat = [str(v) for row in values for v in row if v]
    assert any(v.startswith("'=HYPERLINK") or "'=HYPERLINK" in v for v in flat)
    assert not any(v.startswith(("=", "+", "@")) for v in flat)

    summary = client.get("/workspace/register/export?mode=summary")
    rows = [
        [c.value for c in r] for r in load_workbook(io.BytesIO(summary.content)).active.iter_rows()
    ]
    assert rows[-1][0] == "Total" and rows[-1][-1] == 3

    csv_text = client.get("/workspace/register/export?format=csv").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and ",=HYPERLINK" not in csv_text
