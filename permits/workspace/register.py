"""The register of issued permits (the issuer keeps one): search, filter, sort, group, and
export to Excel (detailed or summarised) or CSV, with formula injection neutralised.

Every query is limited to the caller's own organisation.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlalchemy import case, func, literal, or_
from sqlalchemy.sql import ColumnElement, Select
from sqlmodel import Session, col, select

from permits.accounts.caller import Caller
from permits.accounts.models import User
from permits.issuance.models import Permit, PermitPerson
from permits.issuance.plates import PlateError, format_plate, normalise_plate
from permits.issuance.service import (
    ACTIVE,
    EXPIRED,
    STATUSES,
    effective_status,
    permit_control_code,
)
from permits.timezone import LOCAL

SORTS = ("issued_at", "serial", "category", "status", "valid_from", "valid_until", "plate")
GROUPS = (
    "category",
    "status",
    "plate",
    "vehicle_kind",
    "from_municipality",
    "to_municipality",
    "valid_from",
    "valid_until",
    "issued_at",
    "issued_by",
)
PER_PAGE = 50
COUNT_CAP = 10_000  # a register counts matches up to here ("more than 10,000" beyond)
EXPORT_LIMIT = 200_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell value that a spreadsheet will not run as a formula: text starting with
    = + - @ (or a tab or carriage return) gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True, slots=True)
class RegisterQuery:
    """What the register page asks for (every field optional)."""

    personal_number: str = ""
    name: str = ""
    plate: str = ""
    status: str = ""
    category: str = ""
    issued_from: date | None = None
    issued_to: date | None = None
    sort: str = "issued_at"
    direction: str = "desc"
    group: str = ""
    page: int = 1

    @property
    def has_search(self) -> bool:
        """True when any filter is set."""
        return any(
            (self.personal_number, self.name, self.plate, self.status, self.category)
        ) or bool(self.issued_from or self.issued_to)


@dataclass
class RegisterRow:
    """One permit as the register lists it."""

    permit: Permit
    status: str
    persons: list[PermitPerson] = field(default_factory=list)
    issued_by: str = ""

    @property
    def control_code(self) -> str:
        """The permit's control code."""
        return permit_control_code(self.permit)


@dataclass
class RegisterPage:
    """One page of the register, the number of matches, and counts per group."""

    rows: list[RegisterRow]
    total: int
    pages: int
    groups: dict[str, int]
    capped: bool = False


def _status_expression(now: datetime) -> ColumnElement[str]:
    return case(
        (
            (col(Permit.status) == ACTIVE) & (col(Permit.valid_until) <= now),
            literal(EXPIRED),
        ),
        else_=col(Permit.status),
    )


def _day(column: Any, dialect: str) -> ColumnElement[str]:
    """The local (Tbilisi) day of a UTC timestamp column, as text YYYY-MM-DD."""
    if dialect == "postgresql":
        return func.to_char(func.timezone("Asia/Tbilisi", column), "YYYY-MM-DD")
    return func.date(column, "+4 hours")  # SQLite keeps UTC text; Tbilisi is UTC+4 all year


def _group_expression(group: str, now: datetime, dialect: str = "sqlite") -> ColumnElement[Any]:
    columns: dict[str, Any] = {
        "category": col(Permit.category),
        "status": _status_expression(now),
        "plate": func.coalesce(col(Permit.plate), ""),
        "vehicle_kind": func.coalesce(col(Permit.vehicle_kind), ""),
        "from_municipality": func.coalesce(col(Permit.route_from_municipality), 0),
        "to_municipality": func.coalesce(col(Permit.route_to_municipality), 0),
        "issued_by": col(Permit.issued_by_user_id),
    }
    if group in columns:
        return columns[group]
    days: dict[str, Any] = {"valid_from": Permit.valid_from, "valid_until": Permit.valid_until}
    return _day(days.get(group, Permit.issued_at), dialect)


_NAME_COLUMNS = (col(PermitPerson.first_name), col(PermitPerson.last_name))
_TOP = "\U0010ffff"  # sorts after every character (SQLite and C-collated PostgreSQL)


def _starts(column: Any, fragment: str, *, variants: bool = True) -> ColumnElement[bool]:
    """`column` starts with `fragment` (as typed, lower case or capitalised): a range over
    the column's index, so a search stays fast in a register of millions."""
    forms = {fragment}
    if variants:
        forms |= {fragment.lower(), fragment[:1].upper() + fragment[1:].lower()}
    return or_(*((column >= form) & (column < form + _TOP) for form in sorted(forms)))


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def filtered(caller: Caller, query: RegisterQuery, now: datetime) -> Select[Any]:
    """The permits of the caller's organisation that match `query` (not yet sorted)."""
    statement: Select[Any] = select(Permit).where(
        col(Permit.organisation_id) == caller.organisation_id
    )
    if query.personal_number.strip():
        document = "".join(query.personal_number.split()).upper()
        statement = statement.where(
            col(Permit.id).in_(
                select(PermitPerson.permit_id).where(col(PermitPerson.document) == document)
            )
        )
    for word in [w for w in query.name.split() if w][:4]:
        statement = statement.where(
            col(Permit.id).in_(
                select(PermitPerson.permit_id).where(
                    or_(*(_starts(column, word) for column in _NAME_COLUMNS))
                )
            )
        )
    if query.plate.strip():
        try:
            fragment = normalise_plate(query.plate).value
        except PlateError:
            fragment = "".join(ch for ch in query.plate.upper() if ch.isalnum())
        if fragment:  # its beginning ("MN-7"), or from its digits on ("777", "777-OP")
            statement = statement.where(
                or_(
                    _starts(col(Permit.plate), fragment, variants=False),
                    _starts(col(Permit.plate_tail), fragment, variants=False),
                )
            )
    if query.category:
        statement = statement.where(col(Permit.category) == query.category)
    if query.status == ACTIVE:
        statement = statement.where(col(Permit.status) == ACTIVE).where(
            col(Permit.valid_until) > now
        )
    elif query.status == EXPIRED:
        statement = statement.where(col(Permit.status) == ACTIVE).where(
            col(Permit.valid_until) <= now
        )
    elif query.status in STATUSES:
        statement = statement.where(col(Permit.status) == query.status)
    if query.issued_from:
        statement = statement.where(col(Permit.issued_at) >= _local_midnight(query.issued_from))
    if query.issued_to:
        end = _local_midnight(query.issued_to) + timedelta(days=1)
        statement = statement.where(col(Permit.issued_at) < end)
    return statement


def _dialect(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name


def _ordered(
    statement: Select[Any], query: RegisterQuery, now: datetime, dialect: str
) -> Select[Any]:
    sort_columns: dict[str, Any] = {
        "issued_at": col(Permit.issued_at),
        "serial": col(Permit.serial),
        "category": col(Permit.category),
        "status": _status_expression(now),
        "valid_from": col(Permit.valid_from),
        "valid_until": col(Permit.valid_until),
        "plate": col(Permit.plate),
    }
    key = sort_columns.get(query.sort, col(Permit.issued_at))
    order = [key.desc() if query.direction == "desc" else key.asc()]
    if query.group in GROUPS:
        order.insert(0, _group_expression(query.group, now, dialect).asc())
    order.append(col(Permit.serial).desc())
    return statement.order_by(*order)


def _with_people(session: Session, permits: Sequence[Permit], now: datetime) -> list[RegisterRow]:
    if not permits:
        return []
    ids = [p.id for p in permits]
    people: dict[uuid.UUID, list[PermitPerson]] = {}
    for person in session.exec(
        select(PermitPerson)
        .where(col(PermitPerson.permit_id).in_(ids))
        .order_by(col(PermitPerson.position))
    ).all():
        people.setdefault(person.permit_id, []).append(person)
    users = {
        u.id: u.username
        for u in session.exec(
            select(User).where(col(User.id).in_({p.issued_by_user_id for p in permits}))
        ).all()
    }
    return [
        RegisterRow(
            p, effective_status(p, now), people.get(p.id, []), users.get(p.issued_by_user_id, "")
        )
        for p in permits
    ]


def register_page(
    session: Session, *, caller: Caller, query: RegisterQuery, now: datetime
) -> RegisterPage:
    """One page of the register for `query`, the total, and counts per group (if grouped)."""
    statement = filtered(caller, query, now)
    limited = statement.with_only_columns(col(Permit.id)).limit(COUNT_CAP + 1).subquery()
    total = int(session.exec(select(func.count()).select_from(limited)).one())
    capped = total > COUNT_CAP
    total = min(total, COUNT_CAP)
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, query.page), pages)
    rows = (
        session.execute(
            _ordered(statement, query, now, _dialect(session))
            .offset((page - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
        .scalars()
        .all()
    )
    groups: dict[str, int] = {}
    if query.group in GROUPS and total and not capped:
        expression = _group_expression(query.group, now, _dialect(session))
        grouped = statement.with_only_columns(expression.label("g"), func.count()).group_by(
            expression
        )
        groups = {str(key): int(count) for key, count in session.execute(grouped).all()}
    return RegisterPage(_with_people(session, list(rows), now), total, pages, groups, capped)


def group_key(row: RegisterRow, group: str) -> str:
    """The value a row is grouped under (as the group counts name it)."""
    permit = row.permit
    if group == "status":
        return row.status
    if group in ("valid_from", "valid_until", "issued_at"):
        return str(getattr(permit, group).astimezone(LOCAL).date())
    if group == "issued_by":
        return str(permit.issued_by_user_id)
    if group == "from_municipality":
        return str(permit.route_from_municipality or 0)
    if group == "to_municipality":
        return str(permit.route_to_municipality or 0)
    return str(getattr(permit, group) or "")


def all_rows(
    session: Session, *, caller: Caller, query: RegisterQuery, now: datetime
) -> Iterator[RegisterRow]:
    """Every matching row in the register's order (for exports), in batches."""
    statement = _ordered(filtered(caller, query, now), query, now, _dialect(session))
    statement = statement.limit(EXPORT_LIMIT)
    batch: list[Permit] = []
    for permit in session.execute(statement).scalars():
        batch.append(permit)
        if len(batch) == 1000:
            yield from _with_people(session, batch, now)
            batch = []
    yield from _with_people(session, batch, now)


@dataclass(frozen=True, slots=True)
class Column:
    """A column of the detailed export: its heading and how to get the value of a row."""

    heading: str
    value: Any


def _persons_text(row: RegisterRow, role_label: Any) -> str:
    return "; ".join(
        f"{role_label(p.role)}: {p.first_name} {p.last_name} ({p.document})" for p in row.persons
    )


def detailed_columns(labels: Any, gettext: Any) -> list[Column]:
    """The columns of the detailed export, with headings in the user's language."""
    _ = gettext

    def local(value: datetime | None) -> str:
        return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if value else ""

    return [
        Column(_("Serial number"), lambda r: r.permit.serial),
        Column(_("Control code"), lambda r: r.control_code),
        Column(_("Category"), lambda r: labels.category(r.permit.category)),
        Column(_("Status"), lambda r: _(r.status.capitalize())),
        Column(_("First name"), lambda r: r.persons[0].first_name if r.persons else ""),
        Column(_("Last name"), lambda r: r.persons[0].last_name if r.persons else ""),
        Column(_("Persons"), lambda r: _persons_text(r, labels.role)),
        Column(
            _("Personal number"),
            lambda r: ", ".join(p.document for p in r.persons if not p.foreign_document),
        ),
        Column(_("Vehicle"), lambda r: labels.vehicle(r.permit.vehicle_kind)),
        Column(_("Make / model"), lambda r: r.permit.make_model or ""),
        Column(_("State registration plate"), lambda r: format_plate(r.permit.plate or "")),
        Column(_("From"), lambda r: labels.municipality(r.permit.route_from_municipality)),
        Column(_("From (address)"), lambda r: r.permit.route_from_address or ""),
        Column(_("To"), lambda r: labels.municipality(r.permit.route_to_municipality)),
        Column(_("To (address)"), lambda r: r.permit.route_to_address or ""),
        Column(_("Valid from"), lambda r: local(r.permit.valid_from)),
        Column(_("Valid until"), lambda r: local(r.permit.valid_until)),
        Column(_("Issued"), lambda r: local(r.permit.issued_at)),
        Column(_("Issued by"), lambda r: r.issued_by),
        Column(_("Patient receiving the items"), lambda r: r.permit.beneficiary or ""),
        Column(_("Document"), lambda r: r.permit.reference_document or ""),
        Column(_("Items received"), lambda r: local(r.permit.receipt_at)),
        Column(_("Received by"), lambda r: r.permit.receipt_by_name or ""),
        Column(_("Reason for revoking"), lambda r: r.permit.revoke_reason or ""),
    ]


def _header(sheet: WriteOnlyWorksheet, headings: list[str]) -> None:
    cells = []
    for heading in headings:
        cell = WriteOnlyCell(sheet, value=neutralise(heading))
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


def _text_cell(sheet: WriteOnlyWorksheet, value: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=neutralise(value))
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the text
    return cell


def xlsx_detailed(rows: Iterator[RegisterRow], columns: list[Column], title: str) -> bytes:
    """The detailed export: one row per permit."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Register")
    _header(sheet, [c.heading for c in columns])
    for row in rows:
        sheet.append([_text_cell(sheet, column.value(row)) for column in columns])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_summary(
    counts: list[tuple[str, str, int]],
    *,
    group_heading: str,
    statuses: list[tuple[str, str]],
    title: str,
    total_label: str,
) -> bytes:
    """The summarised export: one row per group, a column per status, and totals."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "Summary")
    _header(sheet, [group_heading, *(label for _, label in statuses), total_label])
    table: dict[str, dict[str, int]] = {}
    for group, status, count in counts:
        table.setdefault(group, {})[status] = count
    for group in sorted(table):
        values = [table[group].get(status, 0) for status, _ in statuses]
        sheet.append([_text_cell(sheet, group), *values, sum(values)])
    totals = [sum(table[g].get(s, 0) for g in table) for s, _ in statuses]
    sheet.append([_text_cell(sheet, total_label), *totals, sum(totals)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def summary_counts(
    session: Session, *, caller: Caller, query: RegisterQuery, now: datetime, group: str
) -> list[tuple[str, str, int]]:
    """(group value, status, count) over every matching permit."""
    expression = _group_expression(group, now, _dialect(session))
    status = _status_expression(now)
    statement = (
        filtered(caller, query, now)
        .with_only_columns(expression.label("g"), status.label("s"), func.count())
        .group_by(expression, status)
    )
    return [(str(g), str(s), int(n)) for g, s, n in session.execute(statement).all()]


def csv_detailed(rows: Iterator[RegisterRow], columns: list[Column]) -> bytes:
    """The detailed export as CSV (UTF-8 with a BOM, so Excel reads Georgian correctly)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([neutralise(c.heading) for c in columns])
    for row in rows:
        writer.writerow([neutralise(column.value(row)) for column in columns])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
