"""Bulk issuance: real-world rosters, the per-row report, confirmation, idempotency."""

from __future__ import annotations

import io
import re
import zipfile

from sqlmodel import Session, select

from permits.issuance.models import Permit
from permits.timezone import LOCAL
from permits.workspace.roster import read_roster
from tests.workspace.rosters import STAFF, csv_roster, staff_rows, xlsx_roster
from tests.workspace.web import csrf_of, logged_in


def upload(client, data: bytes, filename: str, **fields):
    page = client.get("/workspace/bulk")
    form = {
        "csrf_token": csrf_of(page.text),
        "category": "medical_staff",
        "valid_from": "2026-12-01",
        "valid_until": "2026-12-14",
        "from_municipality": "5",
        "to_municipality": "5",
        "to_address": "Marneuli, 26 May Street 1",
        "vehicle_kind": "car",
        **fields,
    }
    return client.post("/workspace/bulk", data=form, files={"roster": (filename, data)})


def count(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">(\d+)<', html)
    assert match, testid
    return int(match.group(1))


def permits_in(engine) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Permit)).all())


def test_csv_with_bom_semicolons_excel_dates_bad_and_duplicate_rows(client, engine, world):
    logged_in(client, engine, world, "doctor")
    client.cookies.set("permits_lang", "en")
    report = upload(client, csv_roster(STAFF), "staff.csv")
    assert report.status_code == 200, report.text
    assert count(report.text, "rows-total") == 5
    assert count(report.text, "rows-valid") == 3
    assert count(report.text, "rows-invalid") == 1
    assert count(report.text, "rows-duplicate") == 1
    assert "A personal number has exactly 11 digits." in report.text
    assert "The same row appears earlier in this file (line 2)." in report.text
    assert permits_in(engine) == 0  # nothing issued before confirming
    job_path = report.url.path
    done = client.post(job_path + "/confirm", data={"csrf_token": csrf_of(report.text)})
    assert count(done.text, "rows-issued") == 3
    with Session(engine) as session:
        permits = session.exec(select(Permit)).all()
    assert len(permits) == 3
    # Excel's serial 46366 is 2026-12-10: valid until the end of that day (Tbilisi)
    assert {p.valid_until.astimezone(LOCAL).isoformat() for p in permits} == {
        "2026-12-11T00:00:00+04:00"
    }
    # the same roster again: nothing twice
    again = upload(client, csv_roster(STAFF), "staff.csv")
    assert count(again.text, "rows-existing") == 3 and count(again.text, "rows-valid") == 0
    assert 'data-testid="confirm"' not in again.text
    client.post(again.url.path + "/confirm", data={"csrf_token": csrf_of(again.text)})
    assert permits_in(engine) == 3


def test_xlsx_with_merged_headers_date_cells_and_numeric_personal_numbers(client, engine, world):
    logged_in(client, engine, world, "doctor")
    client.cookies.set("permits_lang", "en")
    report = upload(client, xlsx_roster(STAFF), "staff.xlsx")
    assert report.status_code == 200, report.text
    assert count(report.text, "rows-valid") == 3, report.text
    assert count(report.text, "rows-invalid") == 1
    assert "Enter a date as YYYY-MM-DD." in report.text
    client.post(report.url.path + "/confirm", data={"csrf_token": csrf_of(report.text)})
    with Session(engine) as session:
        permits = session.exec(select(Permit)).all()
    assert len(permits) == 3
    assert {p.valid_until.astimezone(LOCAL).date().isoformat() for p in permits} == {"2026-12-11"}
    zipped = client.get(report.url.path + "/images.zip")
    assert zipped.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()
    assert len(names) == 3


def test_reader_finds_the_header_below_a_title_and_restores_leading_zeros():
    roster = read_roster(xlsx_roster(STAFF, bad_row=False), "roster.xlsx")
    assert {"first_name", "last_name", "personal_number", "position", "plate"} <= set(
        roster.columns
    )
    assert roster.rows[0][1]["personal_number"] == "01024054321"
    assert roster.rows[0][1]["valid_until"] == "2026-12-10"


def test_bad_files_are_refused_with_a_reason(client, engine, world):
    logged_in(client, engine, world, "doctor")
    client.cookies.set("permits_lang", "en")
    wrong_type = upload(client, b"%PDF-1.4 not a roster", "roster.pdf")
    assert wrong_type.status_code == 422 and "Upload a .csv or .xlsx file." in wrong_type.text
    fake_xlsx = upload(client, b"PK\x03\x04 broken", "roster.xlsx")
    assert fake_xlsx.status_code == 422 and "cannot be read" in fake_xlsx.text
    big = upload(client, b"a;b\n" + b"x" * (9 * 1024 * 1024), "big.csv")
    assert big.status_code == 422 and "larger than 8 MB" in big.text
    no_header = upload(client, b"a;b;c\n1;2;3\n", "x.csv")
    assert no_header.status_code == 422 and "No header row" in no_header.text
    none = upload(client, b"", "")
    assert none.status_code == 422
    assert permits_in(engine) == 0


def test_a_roster_of_300_staff(client, engine, world):
    logged_in(client, engine, world, "doctor")
    rows = staff_rows(300)
    report = upload(
        client, csv_roster(rows, bad_row=False, duplicate=False, serial_date=False), "300.csv"
    )
    assert count(report.text, "rows-valid") == 300, report.text[-2000:]
    done = client.post(report.url.path + "/confirm", data={"csrf_token": csrf_of(report.text)})
    assert count(done.text, "rows-issued") == 300
    assert permits_in(engine) == 300
