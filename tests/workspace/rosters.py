"""Rosters as offices save them: CSV with a BOM and semicolons, XLSX with a title row,
merged header cells, date cells and personal numbers stored as numbers."""

from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook

STAFF = [
    ("ნინო", "ბერიძე", "01024054321", "ექთანი", "AA-123-BB"),
    ("გიორგი", "კაპანაძე", "01001012345", "ექიმი", "GE-555-AB"),
    ("Rəşad", "Məmmədov", "12345678901", "sanitar", "MN-777-OP"),
]


def staff_rows(count: int, start: int = 0) -> list[tuple[str, str, str, str, str]]:
    """`count` distinct staff members with valid personal numbers and plates."""
    rows = []
    for index in range(start, start + count):
        rows.append(
            (
                f"ნინო{chr(0x10D0 + index % 30)}",
                f"ბერიძე{index}",
                f"{20000000000 + index:011d}",
                "ექთანი",
                f"AA-{index % 1000:03d}-{chr(65 + index // 1000 % 26)}B",
            )
        )
    return rows


def csv_roster(
    rows, *, bad_row: bool = True, duplicate: bool = True, serial_date: bool = True
) -> bytes:
    """A semicolon CSV with a BOM, as Excel's "CSV UTF-8" writes it."""
    lines = ["სახელი;გვარი;პირადი ნომერი;დაკავებული პოზიცია;სახელმწიფო ნომერი;valid until"]
    for first, last, pn, position, plate in rows:
        lines.append(f"{first};{last};{pn};{position};{plate};{46366 if serial_date else ''}")
    if bad_row:
        lines.append("ლაშა;ხარაიშვილი;123;მძღოლი;AB-1")
    if duplicate:
        first, last, pn, position, plate = rows[0]
        lines.append(f"{first};{last};{pn};{position};{plate};{46366 if serial_date else ''}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def xlsx_roster(rows, *, bad_row: bool = True) -> bytes:
    """A workbook with a title row, a merged "Employee" heading over two sub-headings, dates
    as date cells and personal numbers as numbers (Excel drops their leading zero)."""
    book = Workbook()
    sheet = book.active
    sheet.append(["Staff list of Marneuli Medical Centre"])
    sheet.merge_cells("A1:F1")
    sheet.append(["Employee", None, "Personal number", "Position", "Plate", "Valid until"])
    sheet.merge_cells("A2:B2")
    for cell in ("C", "D", "E", "F"):
        sheet.merge_cells(f"{cell}2:{cell}3")
    sheet.append(["First name", "Last name", None, None, None, None])
    for first, last, pn, position, plate in rows:
        sheet.append([first, last, int(pn), position, plate, date(2026, 12, 10)])
    if bad_row:
        sheet.append(["", "ხარაიშვილი", "not a number", "მძღოლი", "AB-123-CD", "someday"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
