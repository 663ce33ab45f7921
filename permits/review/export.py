"""Excel export of a filtered view: detailed (one row per permit) or grouped (counts by
category, municipality or issuer). Cell text that a spreadsheet would run as a formula is
neutralised."""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.errors import FieldError, ValidationFailed
from permits.i18n import gettext
from permits.issuance.service import (
    IssuedPermit,
    SearchFilters,
    effective_status,
    permit_control_code,
    search_permits,
)
from permits.policy.rules import PolicyDocument
from permits.policy.service import policy_at
from permits.timezone import LOCAL

GROUPINGS = ("category", "municipality", "issuer")
MAX_ROWS = 200_000
PAGE = 1000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value: object) -> object:
    """Return `value` fit for a spreadsheet cell: text that starts like a formula (= + - @,
    or a tab or line break) gets a leading apostrophe, so it is shown and never run."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _t(language: str, message: str) -> str:
    return gettext(language, message, "admin")


def _iterate(
    session: Session, caller: Caller, filters: SearchFilters, now: datetime
) -> Iterator[IssuedPermit]:
    page = 1
    seen = 0
    while True:
        items, total = search_permits(
            session, caller=caller, filters=filters, now=now, page=page, per_page=PAGE
        )
        if total > MAX_ROWS:
            raise ValidationFailed(
                [
                    FieldError(
                        "filters",
                        "export_too_large",
                        f"{total} permits match; narrow the filters to at most {MAX_ROWS}",
                    )
                ]
            )
        yield from items
        seen += len(items)
        if not items or seen >= total:
            return
        page += 1


def _local(value: datetime | None) -> str:
    return value.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M") if value else ""


def group_key(item: IssuedPermit, grouping: str, policy: PolicyDocument, language: str) -> str:
    """The label of the group `item` falls in for `grouping` (category, municipality, issuer)."""
    permit = item.permit
    if grouping == "category":
        rules = policy.category(permit.category)
        return rules.names.get(language) if rules else permit.category
    if grouping == "municipality":
        code = permit.route_to_municipality
        municipality = policy.municipality(code) if code is not None else None
        return municipality.names.get(language) if municipality else "—"
    return f"{item.organisation.code} · {item.organisation.name(language)}"


def export_workbook(
    session: Session,
    *,
    caller: Caller,
    filters: SearchFilters,
    now: datetime,
    language: str,
    grouped_by: str | None = None,
) -> bytes:
    """Return an .xlsx of the permits matching `filters` across all organisations.

    Without `grouped_by`: one row per permit. With it (category, municipality or issuer):
    one row per group with the numbers issued, active, expired, revoked and replaced.
    Regional administrators only.
    """
    caller.require_any({REGIONAL_ADMIN})
    if grouped_by is not None and grouped_by not in GROUPINGS:
        raise ValidationFailed(
            [FieldError("group", "grouping_invalid", f"group by one of {', '.join(GROUPINGS)}")]
        )
    policy = policy_at(session, now)
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    if grouped_by is None:
        sheet = workbook.create_sheet(_t(language, "Permits")[:31])
        headers = [
            "Serial",
            "Control code",
            "Category",
            "Issuer",
            "Status",
            "Issued",
            "Valid from",
            "Valid until",
            "Persons",
            "Personal numbers",
            "Plate",
            "From",
            "To",
            "Policy version",
            "Revoked",
            "Reason",
            "Replaced",
        ]
        sheet.append([_header(workbook, sheet, _t(language, h), bold) for h in headers])
        for item in _iterate(session, caller, filters, now):
            permit = item.permit
            rules = policy.category(permit.category)
            from_m = policy.municipality(permit.route_from_municipality or 0)
            to_m = policy.municipality(permit.route_to_municipality or 0)
            sheet.append(
                [
                    safe_cell(v)
                    for v in (
                        permit.serial,
                        permit_control_code(permit),
                        rules.names.get(language) if rules else permit.category,
                        f"{item.organisation.code} · {item.organisation.name(language)}",
                        _t(language, effective_status(permit, now)),
                        _local(permit.issued_at),
                        _local(permit.valid_from),
                        _local(permit.valid_until),
                        "; ".join(f"{p.first_name} {p.last_name}" for p in item.persons),
                        "; ".join(p.document for p in item.persons),
                        permit.plate or "",
                        from_m.names.get(language) if from_m else "",
                        to_m.names.get(language) if to_m else "",
                        permit.policy_version,
                        _local(permit.revoked_at),
                        permit.revoke_reason or "",
                        _local(permit.replaced_at),
                    )
                ]
            )
    else:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for item in _iterate(session, caller, filters, now):
            row = counts[group_key(item, grouped_by, policy, language)]
            row["issued"] += 1
            row[effective_status(item.permit, now)] += 1
        sheet = workbook.create_sheet(_t(language, "Summary")[:31])
        statuses = ("active", "expired", "revoked", "replaced")
        headers = [_t(language, grouped_by.capitalize()), _t(language, "Issued")]
        headers += [_t(language, s) for s in statuses]
        sheet.append([_header(workbook, sheet, h, bold) for h in headers])
        total: dict[str, int] = defaultdict(int)
        for label, row in sorted(counts.items(), key=lambda kv: -kv[1]["issued"]):
            sheet.append([safe_cell(label), row["issued"], *(row[s] for s in statuses)])
            for key, value in row.items():
                total[key] += value
        sheet.append([_t(language, "Total"), total["issued"], *(total[s] for s in statuses)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header(workbook: Workbook, sheet: object, text: str, font: Font) -> object:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=safe_cell(text))
    cell.font = font
    return cell
