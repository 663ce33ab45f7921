"""The administration's review pages (regional administrators only): the dashboard, search
across all organisations, a permit's whole history, revocation one by one or in bulk, and
Excel export. Thin routes over permits.review.*; templates in templates/admin/."""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import FileResponse, Response

from permits.accounts.caller import Caller
from permits.accounts.roles import REGIONAL_ADMIN
from permits.api.deps import NowDep, SessionDep
from permits.errors import Conflict, FieldError, NotFound, ValidationFailed
from permits.issuance.plates import format_plate
from permits.issuance.service import STATUSES, SearchFilters, effective_status, search_permits
from permits.organisations.models import Organisation
from permits.policy.service import policy_at
from permits.review.dashboard import dashboard, default_period
from permits.review.export import XLSX, export_workbook
from permits.review.history import permit_history
from permits.review.revocation import BulkScope, bulk_revoke, preview_bulk_revoke, revoke_one
from permits.timezone import LOCAL
from permits.web.deps import page_caller_with
from permits.web.flash import flash, redirect
from permits.web.forms import FormState, add_error_messages
from permits.web.routing import page_router
from permits.web.templating import NavItem, Pages, add_nav

ADMIN_ROLES = frozenset({REGIONAL_ADMIN})
AdminDep = Annotated[Caller, Depends(page_caller_with(ADMIN_ROLES))]
pages = Pages("admin", "workspace")
router = page_router(prefix="/admin")
CHART_JS = Path(__file__).resolve().parents[2] / "node_modules/chart.js/dist/chart.umd.min.js"
ADMIN_JS = Path(__file__).with_name("static") / "admin.js"
PER_PAGE = 50
FILTERS = (
    "personal_number",
    "name",
    "plate",
    "issuer",
    "category",
    "status",
    "issued_from",
    "issued_to",
    "control_code",
)

add_nav(NavItem("admin", "/admin/dashboard", "Dashboard", "admin", ADMIN_ROLES, 60))
add_nav(NavItem("admin-permits", "/admin/permits", "All permits", "admin", ADMIN_ROLES, 61))
add_nav(NavItem("admin-anomalies", "/admin/anomalies", "Anomalies", "admin", ADMIN_ROLES, 62))
add_nav(
    NavItem(
        "admin-orgs", "/admin/organisations", "Organisations and keys", "admin", ADMIN_ROLES, 63
    )
)
add_nav(NavItem("admin-policy", "/admin/policy", "Policy", "admin", ADMIN_ROLES, 64))
add_nav(NavItem("admin-audit", "/admin/audit", "Audit", "admin", ADMIN_ROLES, 65))
add_error_messages(
    {
        "reason_required": "Give the reason.",
        "scope_required": "Choose an issuer, a category, or both.",
        "issuer_unknown": "No organisation has this code.",
        "category_unknown": "No such category.",
        "period_empty": "The period must end after it starts.",
        "period_too_long": "A period is at most 92 days.",
        "export_too_large": "Too many permits for one file: narrow the filters.",
    }
)


def parse_day(value: str | None, field: str) -> datetime | None:
    """A YYYY-MM-DD form value as local midnight, or None when empty."""
    if not value:
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValidationFailed([FieldError(field, "not_a_date", "enter YYYY-MM-DD")]) from exc
    return datetime.combine(day, time(0), tzinfo=LOCAL)


def _filters(request: Request) -> tuple[SearchFilters, dict[str, str]]:
    raw = {k: request.query_params.get(k, "").strip()[:100] for k in FILTERS}
    status = raw["status"] if raw["status"] in STATUSES else ""
    raw["status"] = status
    issued_to = parse_day(raw["issued_to"], "issued_to")
    filters = SearchFilters(
        personal_number=raw["personal_number"] or None,
        name=raw["name"] or None,
        plate=raw["plate"] or None,
        issuer=raw["issuer"] or None,
        category=raw["category"] or None,
        status=status or None,
        issued_from=parse_day(raw["issued_from"], "issued_from"),
        issued_to=issued_to + timedelta(days=1) if issued_to else None,
        control_code=raw["control_code"] or None,
    )
    return filters, raw


def _options(session: SessionDep, now: datetime, language: str) -> dict[str, Any]:
    policy = policy_at(session, now)
    from sqlmodel import col, select

    organisations = session.exec(select(Organisation).order_by(col(Organisation.code))).all()
    return {
        "plate": format_plate,
        "category_options": [(c.slug, c.names.get(language)) for c in policy.categories.values()],
        "issuer_options": [(o.code, f"{o.code} · {o.name(language)}") for o in organisations],
        "policy": policy,
    }


@router.get("")
@router.get("/dashboard")
def dashboard_page(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """The dashboard: permits issued in a period and what became of them; checks per
    checkpoint and hour with the share that failed and why."""
    default_since, default_until = default_period(now)
    since = parse_day(request.query_params.get("since"), "since") or default_since
    until_day = parse_day(request.query_params.get("until"), "until")
    until = until_day + timedelta(days=1) if until_day else default_until
    checkpoint = request.query_params.get("checkpoint") or None
    language = pages.translator(request).language
    board = dashboard(
        session,
        caller=caller,
        since=since,
        until=until,
        now=now,
        language=language,
        checkpoint=checkpoint,
    )
    gettext = pages.gettext(request)
    statuses = [(s, gettext(s)) for s in ("active", "expired", "revoked", "replaced")]

    def stacked(rows: list[Any], horizontal: bool = False) -> dict[str, Any]:
        return {
            "type": "bar",
            "stacked": True,
            "horizontal": horizontal,
            "labels": [r.label for r in rows],
            "series": [
                {"key": k, "label": label, "data": [getattr(r.counts, k) for r in rows]}
                for k, label in statuses
            ],
        }

    charts = {
        "chart-days": stacked(board.by_day),
        "chart-categories": stacked(board.by_category, horizontal=True),
        "chart-hours": {
            "type": "line",
            "maxTicks": 14,
            "labels": [h.hour.strftime("%d.%m %H:00") for h in board.by_hour],
            "series": [
                {
                    "key": "total",
                    "label": gettext("Checks"),
                    "data": [h.total for h in board.by_hour],
                },
                {
                    "key": "failed",
                    "label": gettext("Failed"),
                    "data": [h.failed for h in board.by_hour],
                },
            ],
        },
        "chart-checkpoints": {
            "type": "bar",
            "stacked": True,
            "labels": [c.label for c in board.by_checkpoint],
            "series": [
                {
                    "key": "valid",
                    "label": gettext("Passed"),
                    "data": [c.total - c.failed for c in board.by_checkpoint],
                },
                {
                    "key": "failed",
                    "label": gettext("Failed"),
                    "data": [c.failed for c in board.by_checkpoint],
                },
            ],
        },
    }
    return pages.render(
        request,
        "admin/dashboard.html",
        {
            "board": board,
            "charts": charts,
            "since_value": since.astimezone(LOCAL).date().isoformat(),
            "until_value": (until - timedelta(days=1)).astimezone(LOCAL).date().isoformat(),
        },
    )


@router.get("/assets/chart.umd.min.js")
def chart_library(caller: AdminDep) -> Response:
    """Chart.js, installed from npm by `make setup` and served by us (never a CDN)."""
    if not CHART_JS.exists():
        raise NotFound("chart.js is not installed: run make setup")
    return FileResponse(
        CHART_JS, media_type="text/javascript", headers={"Cache-Control": "private, max-age=3600"}
    )


@router.get("/assets/admin.js")
def admin_script(caller: AdminDep) -> Response:
    """The dashboard's chart drawing and the typed-count confirmations."""
    return FileResponse(
        ADMIN_JS, media_type="text/javascript", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get("/permits")
def search_page(request: Request, session: SessionDep, caller: AdminDep, now: NowDep) -> Response:
    """Search every organisation's permits with the workspace's filters."""
    language = pages.translator(request).language
    form = FormState()
    items: list[Any] = []
    total = 0
    raw_page = request.query_params.get("page", "1")
    page = max(1, min(int(raw_page), 100000)) if raw_page.isdigit() else 1
    try:
        filters, raw = _filters(request)
        for key, value in raw.items():
            form.set(key, value)
        items, total = search_permits(
            session, caller=caller, filters=filters, now=now, page=page, per_page=PER_PAGE
        )
    except ValidationFailed as exc:
        form.add_errors(exc.errors, pages.gettext(request))
    return pages.render(
        request,
        "admin/permits.html",
        {
            "form": form,
            "items": items,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PER_PAGE)),
            "status_of": lambda p: effective_status(p, now),
            "status_options": [(s, pages.gettext(request)(s)) for s in STATUSES],
            **_options(session, now, language),
        },
    )


@router.get("/permits/export.xlsx")
def export_page(request: Request, session: SessionDep, caller: AdminDep, now: NowDep) -> Response:
    """The filtered view as an Excel file: detailed, or grouped by category, municipality or
    issuer (`group`)."""
    filters, _ = _filters(request)
    group = request.query_params.get("group") or None
    data = export_workbook(
        session,
        caller=caller,
        filters=filters,
        now=now,
        language=pages.translator(request).language,
        grouped_by=group,
    )
    stamp = now.astimezone(LOCAL).strftime("%Y%m%d-%H%M")
    name = f"permits-{group or 'detailed'}-{stamp}.xlsx"
    return Response(
        data,
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/permits/{permit_id}")
def permit_page(
    request: Request, permit_id: uuid.UUID, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """A permit's whole history, and a form to revoke it with a reason."""
    history = permit_history(
        session,
        caller=caller,
        permit_id=permit_id,
        now=now,
        language=pages.translator(request).language,
    )
    return pages.render(
        request,
        "admin/permit.html",
        {"h": history, "form": FormState(), **_options(session, now, "en")},
    )


@router.post("/permits/{permit_id}/revoke")
async def revoke_page(
    request: Request, permit_id: uuid.UUID, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Revoke one permit with a reason."""
    form = FormState.from_pairs((await request.form()).multi_items())
    gettext = pages.gettext(request)
    try:
        permit = revoke_one(
            session, caller=caller, permit_id=permit_id, reason=form.value("reason"), now=now
        )
    except (ValidationFailed, Conflict) as exc:
        form.add_errors(exc.as_field_errors(), gettext)
        history = permit_history(
            session,
            caller=caller,
            permit_id=permit_id,
            now=now,
            language=pages.translator(request).language,
        )
        return pages.render(
            request,
            "admin/permit.html",
            {"h": history, "form": form, **_options(session, now, "en")},
            status_code=exc.status_code,
        )
    flash(request, gettext("Permit %(serial)s revoked.") % {"serial": permit.serial}, "success")
    return redirect(request, f"/admin/permits/{permit_id}")


@router.get("/revoke-bulk")
def bulk_page(request: Request, session: SessionDep, caller: AdminDep, now: NowDep) -> Response:
    """Choose an issuer and/or a category; with a choice, show how many permits that takes."""
    language = pages.translator(request).language
    form = FormState()
    preview = None
    issuer = request.query_params.get("issuer", "").strip()[:16]
    category = request.query_params.get("category", "").strip()[:32]
    form.set("issuer", issuer)
    form.set("category", category)
    if issuer or category:
        try:
            preview = preview_bulk_revoke(
                session, caller=caller, scope=BulkScope(issuer or None, category or None), now=now
            )
        except ValidationFailed as exc:
            form.add_errors(exc.errors, pages.gettext(request))
    return pages.render(
        request,
        "admin/bulk.html",
        {"form": form, "preview": preview, **_options(session, now, language)},
    )


@router.post("/revoke-bulk")
async def bulk_submit(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Revoke every permit in scope, when the confirmation names the previewed count."""
    form = FormState.from_pairs((await request.form()).multi_items())
    gettext = pages.gettext(request)
    language = pages.translator(request).language
    scope = BulkScope(form.value("issuer") or None, form.value("category") or None)
    try:
        confirmed = int(form.value("confirm_count") or "-1")
    except ValueError:
        confirmed = -1
    try:
        typed = form.value("typed_count").strip()
        if typed != form.value("confirm_count"):
            raise ValidationFailed(
                [
                    FieldError(
                        "typed_count",
                        "count_not_confirmed",
                        "type the number of permits to confirm",
                    )
                ]
            )
        count = bulk_revoke(
            session,
            caller=caller,
            scope=scope,
            reason=form.value("reason"),
            confirmed_count=confirmed,
            now=now,
        )
    except (ValidationFailed, Conflict, NotFound) as exc:
        form.add_errors(exc.as_field_errors(), gettext)
        preview = None
        with contextlib.suppress(ValidationFailed):
            preview = preview_bulk_revoke(session, caller=caller, scope=scope, now=now)
        return pages.render(
            request,
            "admin/bulk.html",
            {"form": form, "preview": preview, **_options(session, now, language)},
            status_code=exc.status_code,
        )
    flash(request, gettext("%(count)s permits revoked.") % {"count": count}, "success")
    return redirect(request, "/admin/lists")


add_error_messages({"count_not_confirmed": "Type the number of permits to confirm."})


def install_admin(app: FastAPI) -> None:
    """Add the regional administration's pages to `app` (after the web layer)."""
    from permits.oversight.pages import router as oversight_router

    app.include_router(router)
    app.include_router(oversight_router)
