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
