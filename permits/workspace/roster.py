"""Reading a roster (CSV or XLSX) as real offices save them: a UTF-8 byte-order mark or
UTF-16 ("Unicode text"), commas, semicolons or tabs, a title row above the header, header
cells merged over two rows, Excel dates (cells or serial numbers), personal numbers that
Excel stored as numbers and so lost their leading zero.

`read_roster` returns the header's columns and the data rows as {column: text}; it never
raises on a bad file except `RosterError` with a code the page translates.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 12
EXCEL_EPOCH = date(1899, 12, 30)

# column key -> the headings (normalised: lower case, letters and digits only) that name it,
# in English, Georgian and Azerbaijani
ALIASES: dict[str, tuple[str, ...]] = {
    "first_name": ("first name", "firstname", "given name", "name", "სახელი", "adı", "ad"),
    "last_name": ("last name", "lastname", "surname", "family name", "გვარი", "soyadı", "soyad"),
    "personal_number": (
        "personal number",
        "pn",
        "personal no",
        "id number",
        "პირადი ნომერი",
        "პნ",
        "პირადი №",
        "şəxsiyyət nömrəsi",
        "şn",
        "fin",
    ),
    "foreign_document": (
        "foreign document",
        "foreign document number",
        "passport",
        "passport number",
        "პასპორტი",
        "pasport",
    ),
    "position": (
        "position",
        "position held",
        "job",
        "job title",
        "დაკავებული პოზიცია",
        "პოზიცია",
        "თანამდებობა",
        "iş yeri",
        "vəzifə",
    ),
    "role": ("role", "როლი", "rol"),
    "plate": (
        "plate",
        "state registration plate",
        "car plate",
        "plate number",
        "სახელმწიფო ნომერი",
        "ავტომობილის ნომერი",
        "dövlət nömrəsi",
    ),
    "make_model": ("make model", "make", "model", "car", "მარკა მოდელი", "markası modeli"),
    "vehicle_kind": ("vehicle kind", "vehicle type", "kind", "ტიპი", "növü"),
    "from_address": (
        "home address",
        "from address",
        "from",
        "address",
        "საცხოვრებელი მისამართი",
        "მისამართი",
        "yaşayış yerinin ünvanı",
        "ünvan",
    ),
    "from_municipality": ("from municipality", "municipality", "მუნიციპალიტეტი", "bələdiyyə"),
    "to_address": ("to address", "to", "destination", "workplace", "სამსახური", "iş ünvanı"),
    "to_municipality": ("to municipality",),
    "valid_from": ("valid from", "from date", "start", "start date", "დან", "tarixdən"),
    "valid_until": ("valid until", "until", "to date", "end", "end date", "მდე", "tarixədək"),
    "weekdays": ("weekdays", "days", "დღეები", "günlər"),
    "driver_first_name": ("driver first name", "driver name", "მძღოლის სახელი", "sürücünün adı"),
    "driver_last_name": ("driver last name", "driver surname", "მძღოლის გვარი", "sürücünün soyadı"),
    "driver_personal_number": (
        "driver personal number",
        "driver pn",
        "მძღოლის პირადი ნომერი",
        "sürücünün ş n",
        "sürücünün şəxsiyyət nömrəsi",
    ),
}
DATE_COLUMNS = ("valid_from", "valid_until")
NUMBER_COLUMNS = ("personal_number", "driver_personal_number")


class RosterError(Exception):
    """The file as a whole cannot be used; `code` names why (file_type, file_unreadable ...)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Roster:
    """The recognised columns, the data rows (line number, {column: text}), and headings that
    were not recognised (ignored)."""

    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    ignored: list[str]


def normalise_heading(text: Any) -> str:
    """A heading reduced to lower-case letters and digits with single spaces."""
    value = unicodedata.normalize("NFC", str(text or "")).lower()
    value = re.sub(r"[^\w]+", " ", value).replace("_", " ")
    return " ".join(value.split())


_LOOKUP = {normalise_heading(alias): key for key, names in ALIASES.items() for alias in names}
for _key in ALIASES:
    _LOOKUP.setdefault(normalise_heading(_key), _key)


def column_for(heading: Any) -> str | None:
    """The column key a heading names, or None."""
    return _LOOKUP.get(normalise_heading(heading))


def _cell_text(value: Any, column: str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if column in DATE_COLUMNS else value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if column in DATE_COLUMNS and 20_000 <= value <= 80_000:
            return (EXCEL_EPOCH + timedelta(days=value)).isoformat()
        text = str(value)
        if column in NUMBER_COLUMNS and len(text) == 10:
            return "0" + text  # Excel dropped the leading zero of a personal number
        return text
    text = " ".join(str(value).split())
    if column in NUMBER_COLUMNS and re.fullmatch(r"\d{10}", text):
        return "0" + text
    if column in DATE_COLUMNS:
        return parse_date_text(text) or text
    return text


def parse_date_text(text: str) -> str | None:
    """An ISO date from 2026-12-01, 01.12.2026, 01/12/2026 or an Excel serial (46000)."""
    value = text.strip()
    if re.fullmatch(r"\d{5}", value) and 20_000 <= int(value) <= 80_000:
        return (EXCEL_EPOCH + timedelta(days=int(value))).isoformat()
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", value)
    if match:
        year, month, day = (int(g) for g in match.groups())
    else:
        match = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?: .*)?", value)
        if not match:
            return None
        day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RosterError("file_unreadable") from exc


def _csv_rows(data: bytes) -> list[list[Any]]:
    text = _decode(data)
    sample = "\n".join(text.splitlines()[:20])
    counts = {d: sample.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows = []
    for row in reader:
        rows.append(list(row))
        if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
            raise RosterError("too_many_rows", rows=MAX_ROWS)
    return rows


def _xlsx_rows(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RosterError("file_unreadable") from exc
    sheet = book.worksheets[0]
    if sheet.max_row > MAX_ROWS + HEADER_SEARCH_ROWS:
        raise RosterError("too_many_rows", rows=MAX_ROWS)
    # a merged cell keeps its value only in its top-left cell: copy it to the whole range
    merged = {}
    for cell_range in sheet.merged_cells.ranges:
        value = sheet.cell(cell_range.min_row, cell_range.min_col).value
        for row in range(cell_range.min_row, cell_range.max_row + 1):
            for column in range(cell_range.min_col, cell_range.max_col + 1):
                merged[(row, column)] = value
    rows = []
    for r, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        rows.append([merged.get((r, c), v) for c, v in enumerate(row, start=1)])
    return rows


def _find_header(rows: list[list[Any]]) -> tuple[int, list[str | None]]:
    """The index of the header row and the column key of each of its cells.

    A header may span two rows (a merged group heading over sub-headings, "Driver" over
    "First name"): a cell not recognised alone is tried with the heading above it.
    """
    best_index, best_columns, best_score = -1, [], 0
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        above = rows[index - 1] if index > 0 else []
        columns: list[str | None] = []
        for position, cell in enumerate(row):
            key = column_for(cell)
            if (
                position < len(above)
                and above[position] not in (None, "")
                and cell not in (None, "")
            ):
                combined = column_for(f"{above[position]} {cell}")
                if combined and (key is None or combined.startswith("driver")):
                    key = combined
            columns.append(key)
        score = len({c for c in columns if c})
        if score > best_score:
            best_index, best_columns, best_score = index, columns, score
    if best_score < 2:
        raise RosterError("no_header")
    return best_index, best_columns


def read_roster(data: bytes, filename: str) -> Roster:
    """Read an uploaded roster; raise RosterError for a file that cannot be used."""
    if len(data) > MAX_FILE_BYTES:
        raise RosterError("file_too_large", megabytes=MAX_FILE_BYTES // (1024 * 1024))
    name = filename.lower()
    if name.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):
        if not name.endswith(".xlsx"):
            raise RosterError("file_type")
        rows = _xlsx_rows(data)
    elif name.endswith((".csv", ".txt")):
        if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise RosterError("file_unreadable")
        rows = _csv_rows(data)
    else:
        raise RosterError("file_type")
    header_index, columns = _find_header(rows)
    header = rows[header_index]
    ignored = [
        str(cell) for cell, key in zip(header, columns, strict=False) if cell and key is None
    ]
    result: list[tuple[int, dict[str, str]]] = []
    seen_columns: list[str] = []
    for key in columns:
        if key and key not in seen_columns:
            seen_columns.append(key)
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        values: dict[str, str] = {}
        for cell, key in zip(row, columns, strict=False):
            if key and key not in values:
                values[key] = _cell_text(cell, key)
        if any(values.values()):
            result.append((offset, values))
    if len(result) > MAX_ROWS:
        raise RosterError("too_many_rows", rows=MAX_ROWS)
    if not result:
        raise RosterError("no_rows")
    return Roster(seen_columns, result, ignored)
