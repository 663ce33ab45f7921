"""The register pages: the searchable table and its Excel and CSV exports."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response
from sqlmodel import Session, select

from permits.accounts.models import User
from permits.api.deps import NowDep, SessionDep
from permits.issuance.service import STATUSES
from permits.timezone import LOCAL
from permits.web.forms import FormState
from permits.web.i18n import request_language
from permits.web.routing import page_router
from permits.web.templating import Pages
from permits.workspace import register
from permits.workspace.context import STATUS_LABELS, IssuerDep, Labels, issuable

router = page_router(prefix="/workspace")
pages = Pages("workspace")
Text = Annotated[str, Query(max_length=100)]


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _query(
    form: FormState,
    *,
    personal_number: str,
    name: str,
    plate: str,
    status: str,
    category: str,
    issued_from: str,
    issued_to: str,
    sort: str,
    dir: str,
    group: str,
    page: int,
    _: Callable[[str], str],
) -> register.RegisterQuery:
    for key, value in (
        ("personal_number", personal_number),
        ("name", name),
        ("plate", plate),
        ("status", status),
        ("category", category),
        ("issued_from", issued_from),
        ("issued_to", issued_to),
        ("sort", sort),
        ("dir", dir),
        ("group", group),
    ):
        form.set(key, value)
    gettext = _
    start, end = _date(issued_from), _date(issued_to)
    if issued_from.strip() and start is None:
        form.add_error("issued_from", gettext("Enter a date as YYYY-MM-DD."))
    if issued_to.strip() and end is None:
        form.add_error("issued_to", gettext("Enter a date as YYYY-MM-DD."))
    return register.RegisterQuery(
        personal_number=personal_number,
        name=name,
        plate=plate,
        status=status if status in STATUSES else "",
        category=category,
        issued_from=start,
        issued_to=end,
        sort=sort if sort in register.SORTS else "issued_at",
        direction="asc" if dir == "asc" else "desc",
        group=group if group in register.GROUPS else "",
        page=page,
    )


def _usernames(session: Session, organisation_id: int) -> dict[int, str]:
    rows = session.exec(select(User).where(User.organisation_id == organisation_id)).all()
    return {u.id: u.username for u in rows if u.id is not None}


def _group_labels(labels: Labels, gettext, users: dict[int, str]):  # type: ignore[no-untyped-def]
    def label(group: str, key: str) -> str:
        if group == "category":
            return labels.category(key)
        if group == "status":
            return str(gettext(STATUS_LABELS.get(key, key)))
        if group == "vehicle_kind":
            return labels.vehicle(key) or "—"
        if group in ("from_municipality", "to_municipality"):
            return labels.municipality(int(key)) if key.isdigit() and key != "0" else "—"
        if group == "issued_by":
            return users.get(int(key), key) if key.isdigit() else key
        return key or "—"

    return label


def group_names(gettext) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(group, label) of every column the register can be grouped by."""
    _ = gettext
    return [
        ("category", _("Category")),
        ("status", _("Status")),
        ("plate", _("State registration plate")),
        ("vehicle_kind", _("Vehicle")),
        ("from_municipality", _("From")),
        ("to_municipality", _("To")),
        ("valid_from", _("Valid from")),
        ("valid_until", _("Valid until")),
        ("issued_at", _("Issued")),
        ("issued_by", _("Issued by")),
    ]


@router.get("/register")
def register_table(
    request: Request,
    caller: IssuerDep,
    session: SessionDep,
    now: NowDep,
    personal_number: Text = "",
    name: Text = "",
    plate: Text = "",
    status: Text = "",
    category: Text = "",
    issued_from: Text = "",
    issued_to: Text = "",
    sort: Text = "issued_at",
    dir: Text = "desc",
    group: Text = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The register: search, filter, sort, group; actions on each row."""
    _ = pages.gettext(request)
    form = FormState()
    query = _query(
        form,
        personal_number=personal_number,
        name=name,
        plate=plate,
        status=status,
        category=category,
        issued_from=issued_from,
        issued_to=issued_to,
        sort=sort,
        dir=dir,
        group=group,
        page=page,
        _=_,
    )
    _org, policy, categories = issuable(session, caller, now)
    labels = Labels(request_language(request), policy, _)
    result = register.register_page(session, caller=caller, query=query, now=now)
    users = _usernames(session, caller.organisation_id)
    takes_receipt = {c.slug for c in policy.categories.values() if c.receipt}
    return pages.render(
        request,
        "workspace/register.html",
        {
            "form": form,
            "query": query,
            "result": result,
            "labels": labels,
            "categories": list(policy.categories.values()),
            "status_labels": STATUS_LABELS,
            "group_names": group_names(_),
            "group_label": _group_labels(labels, _, users),
            "group_key": register.group_key,
            "takes_receipt": takes_receipt,
            "back": request.url.path + ("?" + request.url.query if request.url.query else ""),
            "issuable": {c.slug for c in categories},
            "export_query": "".join(
                f"{urlencode({k: v})}&"
                for k, v in request.query_params.multi_items()
                if k not in ("page", "mode", "format")
            ),
        },
    )


@router.get("/register/export")
def register_export(
    request: Request,
    caller: IssuerDep,
    session: SessionDep,
    now: NowDep,
    format: Text = "xlsx",
    mode: Text = "detailed",
    personal_number: Text = "",
    name: Text = "",
    plate: Text = "",
    status: Text = "",
    category: Text = "",
    issued_from: Text = "",
    issued_to: Text = "",
    sort: Text = "issued_at",
    dir: Text = "desc",
    group: Text = "",
) -> Response:
    """The register as an Excel file (detailed or summarised) or CSV (detailed)."""
    _ = pages.gettext(request)
    query = _query(
        FormState(),
        personal_number=personal_number,
        name=name,
        plate=plate,
        status=status,
        category=category,
        issued_from=issued_from,
        issued_to=issued_to,
        sort=sort,
        dir=dir,
        group=group,
        page=1,
        _=_,
    )
    _org, policy, _categories = issuable(session, caller, now)
    labels = Labels(request_language(request), policy, _)
    stamp = now.astimezone(LOCAL).strftime("%Y%m%d-%H%M")
    base = f"register-{caller.organisation_code}-{stamp}"
    headers = {"Cache-Control": "private, no-store"}
    if mode == "summary":
        chosen = query.group or "category"
        users = _usernames(session, caller.organisation_id)
        label = _group_labels(labels, _, users)
        counts = register.summary_counts(session, caller=caller, query=query, now=now, group=chosen)
        named = [(label(chosen, g), s, n) for g, s, n in counts]
        heading = dict(group_names(_)).get(chosen, chosen)
        statuses = [(s, _(STATUS_LABELS[s])) for s in ("active", "expired", "revoked", "replaced")]
        body = register.xlsx_summary(
            named,
            group_heading=heading,
            statuses=statuses,
            title=_("Summary"),
            total_label=_("Total"),
        )
        headers["Content-Disposition"] = f'attachment; filename="{base}-summary.xlsx"'
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers=headers,
        )
    columns = register.detailed_columns(labels, _)
    rows = register.all_rows(session, caller=caller, query=query, now=now)
    if format == "csv":
        headers["Content-Disposition"] = f'attachment; filename="{base}.csv"'
        return Response(
            register.csv_detailed(rows, columns),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    headers["Content-Disposition"] = f'attachment; filename="{base}.xlsx"'
    return Response(
        register.xlsx_detailed(rows, columns, _("Register")),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=headers,
    )
