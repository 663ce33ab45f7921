"""The administration's oversight pages (regional administrators only): anomalies,
organisations and keys, the published lists, policy versions and edits, the checkpoint
registry and the audit trail. Thin routes over permits.oversight.*."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import col, select

from permits.api.deps import KeyStoreDep, NowDep, SessionDep, SettingsDep
from permits.errors import Conflict, FieldError, NotFound, ValidationFailed
from permits.oversight.anomalies import scan_anomalies
from permits.oversight.audit_view import audit_events, check_chain
from permits.oversight.checkpoints import all_checkpoints, register_checkpoint
from permits.oversight.policy_edit import (
    LIMIT_FIELDS,
    CategoryEdit,
    apply_category_change,
    apply_limits_change,
    latest_version,
    permits_by_version,
    propose_category_change,
)
from permits.oversight.trust import (
    approve_key,
    describe_published,
    live_permits_of_key,
    organisations_overview,
    publish_lists,
    register_issuer,
    request_key,
    revoke_key,
    rotate_key,
    set_categories,
)
from permits.policy.models import PolicyVersion
from permits.policy.rules import ORGANISATION_KINDS
from permits.policy.service import policy_at, policy_version
from permits.review.pages import AdminDep, pages, parse_day
from permits.timezone import LOCAL
from permits.trust.models import IssuerKey
from permits.web import i18n
from permits.web.flash import flash, redirect
from permits.web.forms import FormState, add_error_messages
from permits.web.routing import page_router

router = page_router(prefix="/admin")
add_error_messages(
    {
        "category_not_for_kind": "An organisation of this kind may not issue this category.",
        "code_invalid": "A code is 2-16 capital letters, digits and dashes.",
        "organisation_exists": "An organisation with this code exists.",
        "municipality_unknown": "No such municipality.",
        "key_count_changed": "The number of permits changed: check it again.",
        "in_past": "A new version takes effect now or later, never before.",
        "before_latest": "A newer version cannot take effect before the latest one.",
        "window_invalid": "A window starts before it ends.",
        "windows_overlap": "Windows overlap.",
        "time_invalid": "Times are HH:MM.",
        "no_change": "Nothing would change.",
        "out_of_range": "This number is out of range.",
        "policy_confirm_count": "Confirm the number of permits this change would shorten.",
        "checkpoint_invalid": "This value is not valid.",
        "checkpoint_exists": "A checkpoint with this code exists.",
    }
)


async def _form(request: Request) -> FormState:
    return FormState.from_pairs((await request.form()).multi_items())


# ---- anomalies -------------------------------------------------------------------------


@router.get("/anomalies")
def anomalies_page(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Every anomaly list, each entry linking to the permits concerned."""
    try:
        days = max(1, min(int(request.query_params.get("days", "7")), 92))
    except ValueError:
        days = 7
    report = scan_anomalies(session, caller=caller, now=now, since=now - timedelta(days=days))
    return pages.render(request, "admin/anomalies.html", {"report": report, "days": days})


# ---- organisations and keys ------------------------------------------------------------


def _organisations_context(
    session: SessionDep, caller: Any, now: datetime, lang: str
) -> dict[str, Any]:
    policy = policy_at(session, now)
    gettext = i18n.translator(lang, pages.domains).gettext
    return {
        "kind_options": [(k, gettext(k)) for k in ORGANISATION_KINDS],
        "rows": organisations_overview(session, caller=caller, now=now),
        "policy": policy,
        "category_options": [(c.slug, c.names.get(lang)) for c in policy.categories.values()],
        "municipality_options": [(str(m.code), m.names.get(lang)) for m in policy.municipalities],
    }


@router.get("/organisations")
def organisations_page(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Organisations, their kinds and categories, their keys; forms to register and manage."""
    lang = pages.translator(request).language
    return pages.render(
        request,
        "admin/organisations.html",
        {"form": FormState(), **_organisations_context(session, caller, now, lang)},
    )


@router.post("/organisations")
async def register_page(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep, keystore: KeyStoreDep
) -> Response:
    """Register an organisation and give it its first key."""
    form = await _form(request)
    gettext = pages.gettext(request)
    try:
        municipality = int(form.value("municipality") or "0")
    except ValueError:
        municipality = 0
    chosen = form.getlist("categories")
    try:
        organisation = register_issuer(
            session,
            caller=caller,
            code=form.value("code"),
            kind=form.value("kind"),
            names={k: form.value(f"name_{k}") for k in ("ka", "az", "en")},
            municipality=municipality,
            address=form.value("address"),
            categories=chosen or None,
            keystore=keystore,
            now=now,
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        form.add_errors(exc.as_field_errors(), gettext)
        lang = pages.translator(request).language
        return pages.render(
            request,
            "admin/organisations.html",
            {"form": form, **_organisations_context(session, caller, now, lang)},
            status_code=exc.status_code,
        )
    flash(request, gettext("%(code)s registered.") % {"code": organisation.code}, "success")
    return redirect(request, f"/admin/organisations#org-{organisation.code}")


@router.post("/organisations/{code}/categories")
async def categories_page(
    request: Request, code: str, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Set the categories an organisation may issue (none ticked: all its kind may)."""
    form = await _form(request)
    chosen = form.getlist("categories")
    organisation = set_categories(
        session, caller=caller, code=code, categories=chosen or None, now=now
    )
    flash(
        request,
        pages.gettext(request)("Categories of %(code)s saved.") % {"code": organisation.code},
        "success",
    )
    return redirect(request, f"/admin/organisations#org-{organisation.code}")


@router.post("/organisations/{code}/keys")
def new_key_page(
    request: Request,
    code: str,
    session: SessionDep,
    caller: AdminDep,
    now: NowDep,
    keystore: KeyStoreDep,
) -> Response:
    """Create a new key for an organisation, waiting for approval."""
    key = request_key(session, caller=caller, code=code, keystore=keystore, now=now)
    flash(request, pages.gettext(request)("New key %(kid)s waits for approval.") % {"kid": key.kid})
    return redirect(request, f"/admin/organisations#org-{code.upper()}")


@router.post("/organisations/{code}/rotate")
def rotate_page(
    request: Request,
    code: str,
    session: SessionDep,
    caller: AdminDep,
    now: NowDep,
    keystore: KeyStoreDep,
) -> Response:
    """Rotate: a new active key at once; the old one is retired and keeps verifying."""
    key = rotate_key(session, caller=caller, code=code, keystore=keystore, now=now)
    flash(
        request,
        pages.gettext(request)("Key %(kid)s is now active; the previous key is retired.")
        % {"kid": key.kid},
        "success",
    )
    return redirect(request, f"/admin/organisations#org-{code.upper()}")


@router.post("/keys/{kid}/approve")
def approve_page(
    request: Request, kid: str, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Approve a pending key."""
    key = approve_key(session, caller=caller, kid=kid, now=now)
    flash(request, pages.gettext(request)("Key %(kid)s approved.") % {"kid": key.kid}, "success")
    return redirect(request, "/admin/organisations")


def _key_context(session: SessionDep, kid: str, now: datetime) -> dict[str, Any]:
    from permits.organisations.models import Organisation

    key = session.exec(select(IssuerKey).where(IssuerKey.kid == kid.lower())).first()
    if key is None:
        raise NotFound(f"no key {kid}")
    organisation = session.get(Organisation, key.organisation_id)
    return {
        "key": key,
        "organisation": organisation,
        "touched": live_permits_of_key(session, kid=key.kid, now=now),
    }


@router.get("/keys/{kid}/revoke")
def revoke_key_form(
    request: Request, kid: str, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Before revoking a key: how many live permits it signed (they will stop verifying)."""
    caller.require_any({"regional_admin"})
    return pages.render(
        request, "admin/key_revoke.html", {"form": FormState(), **_key_context(session, kid, now)}
    )


@router.post("/keys/{kid}/revoke")
async def revoke_key_page(
    request: Request,
    kid: str,
    session: SessionDep,
    caller: AdminDep,
    now: NowDep,
    keystore: KeyStoreDep,
) -> Response:
    """Revoke a compromised key when the confirmation names the count of its permits."""
    form = await _form(request)
    gettext = pages.gettext(request)
    try:
        if form.value("typed_count").strip() != form.value("confirm_count"):
            raise ValidationFailed(
                [FieldError("typed_count", "count_not_confirmed", "type the number to confirm")]
            )
        key, touched = revoke_key(
            session,
            caller=caller,
            kid=kid,
            reason=form.value("reason"),
            confirmed_count=int(form.value("confirm_count") or "-1"),
            keystore=keystore,
            now=now,
        )
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        form.add_errors(exc.as_field_errors(), gettext)
        return pages.render(
            request,
            "admin/key_revoke.html",
            {"form": form, **_key_context(session, kid, now)},
            status_code=exc.status_code,
        )
    flash(
        request,
        gettext(
            "Key %(kid)s revoked: %(count)s permits stop verifying at the checkpoints' next sync."
        )
        % {"kid": key.kid, "count": touched},
        "success",
    )
    return redirect(request, "/admin/lists")


# ---- published lists -------------------------------------------------------------------


@router.get("/lists")
def lists_page(
    request: Request, session: SessionDep, caller: AdminDep, settings: SettingsDep
) -> Response:
    """The signed list files as published, and a button to publish them now."""
    files = describe_published(session, out_dir=settings.lists_dir)
    return pages.render(
        request, "admin/lists.html", {"files": files, "folder": str(settings.lists_dir)}
    )


@router.post("/lists")
def publish_page(
    request: Request,
    session: SessionDep,
    caller: AdminDep,
    now: NowDep,
    keystore: KeyStoreDep,
    settings: SettingsDep,
) -> Response:
    """Sign and write the current trust and revocation lists as static files."""
    files = publish_lists(
        session, caller=caller, keystore=keystore, out_dir=settings.lists_dir, now=now
    )
    versions = ", ".join(f"{f.path.name} v{f.version}" for f in files if f.version)
    flash(request, pages.gettext(request)("Lists published: %(v)s") % {"v": versions}, "success")
    return redirect(request, "/admin/lists")


# ---- policy ----------------------------------------------------------------------------


@router.get("/policy")
def policy_page(request: Request, session: SessionDep, caller: AdminDep, now: NowDep) -> Response:
    """Policy versions (with how many permits each issued), the rules of each category, and
    the limits the anomaly scan uses."""
    return _policy_render(request, session, now, None)


def _policy_render(
    request: Request,
    session: SessionDep,
    now: datetime,
    form: FormState | None,
    status_code: int = 200,
) -> Response:
    versions = session.exec(select(PolicyVersion).order_by(col(PolicyVersion.version).desc())).all()
    latest_row, latest = latest_version(session)
    if form is None:
        form = FormState()
        for name in LIMIT_FIELDS:
            form.set(name, str(getattr(latest.limits, name)))
        start = (now + timedelta(hours=1)).astimezone(LOCAL)
        form.set("effective_from", start.strftime("%Y-%m-%dT%H:00"))
    return pages.render(
        request,
        "admin/policy.html",
        {
            "versions": versions,
            "counts": permits_by_version(session),
            "in_force": policy_at(session, now).version,
            "latest": latest,
            "latest_row": latest_row,
            "form": form,
        },
        status_code=status_code,
    )


@router.post("/policy-limits")
async def limits_submit(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Store new [limits] (anomaly thresholds, list staleness) as the next policy version."""
    form = await _form(request)
    gettext = pages.gettext(request)
    try:
        text = form.value("effective_from").strip()
        try:
            effective = datetime.fromisoformat(text).replace(tzinfo=LOCAL)
        except ValueError as exc:
            raise ValidationFailed(
                [FieldError("effective_from", "invalid", "a date and time")]
            ) from exc
        row = apply_limits_change(
            session,
            caller=caller,
            values={name: form.value(name) for name in LIMIT_FIELDS},
            effective_from=effective,
            note=form.value("note"),
            now=now,
        )
    except ValidationFailed as exc:
        session.rollback()
        for error in exc.errors:
            form.add_error("", f"{error.field}: " + gettext(error.message))
        return _policy_render(request, session, now, form, status_code=422)
    flash(
        request,
        gettext("Policy version %(v)s saved; in force from %(at)s.")
        % {"v": row.version, "at": row.effective_from.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")},
        "success",
    )
    return redirect(request, "/admin/policy")


@router.get("/policy/versions/{version}")
def policy_version_page(
    request: Request, version: int, session: SessionDep, caller: AdminDep
) -> Response:
    """One policy version as stored (never edited)."""
    row = session.get(PolicyVersion, version)
    if row is None:
        raise NotFound(f"no policy version {version}")
    return pages.render(
        request,
        "admin/policy_version.html",
        {"row": row, "document": policy_version(session, version)},
    )


def _edit_from_form(form: FormState) -> tuple[CategoryEdit, datetime | None]:
    errors = []
    windows = []
    for start, end in zip(form.getlist("window_start"), form.getlist("window_end"), strict=False):
        if start.strip() or end.strip():
            windows.append((start.strip(), end.strip()))
    end_day = None
    try:
        end_day = parse_day(form.value("regulation_end"), "regulation_end")
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    effective = None
    try:
        text = form.value("effective_from").strip()
        effective = datetime.fromisoformat(text).replace(tzinfo=LOCAL) if text else None
    except ValueError:
        errors.append(FieldError("effective_from", "invalid", "a date and time"))
    if effective is None and not errors:
        errors.append(FieldError("effective_from", "required", "required"))
    numbers = {}
    for name in ("max_persons", "max_validity_days"):
        try:
            numbers[name] = int(form.value(name))
        except ValueError:
            errors.append(FieldError(name, "not_a_number", "a number"))
    if errors:
        raise ValidationFailed(errors)
    regulation_end = end_day.replace(hour=23, minute=59, second=59) if end_day is not None else None
    return (
        CategoryEdit(
            tuple(windows), regulation_end, numbers["max_persons"], numbers["max_validity_days"]
        ),
        effective,
    )


def _fill(form: FormState, edit: CategoryEdit) -> None:
    form.set("window_start", [w[0] for w in edit.daily_windows] + [""])
    form.set("window_end", [w[1] for w in edit.daily_windows] + [""])
    form.set(
        "regulation_end",
        edit.regulation_end.astimezone(LOCAL).date().isoformat() if edit.regulation_end else "",
    )
    form.set("max_persons", str(edit.max_persons))
    form.set("max_validity_days", str(edit.max_validity_days))


@router.get("/policy/{category}")
def policy_edit_page(
    request: Request, category: str, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """The form to change one category's rules as a new version."""
    _, latest = latest_version(session)
    rules = latest.category(category)
    if rules is None:
        raise NotFound(f"no category {category}")
    form = FormState()
    _fill(form, CategoryEdit.of(rules))
    form.set(
        "effective_from", (now + timedelta(hours=1)).astimezone(LOCAL).strftime("%Y-%m-%dT%H:00")
    )
    return pages.render(
        request,
        "admin/policy_edit.html",
        {"form": form, "rules": rules, "proposal": None, "category": category},
    )


@router.post("/policy/{category}")
async def policy_submit(
    request: Request, category: str, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Preview the change (how many issued permits it would shorten), then store it as a new
    version when confirmed with that number."""
    form = await _form(request)
    gettext = pages.gettext(request)
    _, latest = latest_version(session)
    rules = latest.category(category)
    if rules is None:
        raise NotFound(f"no category {category}")
    proposal = None
    try:
        edit, effective = _edit_from_form(form)
        assert effective is not None
        proposal = propose_category_change(
            session,
            caller=caller,
            category=category,
            edit=edit,
            effective_from=effective,
            note=form.value("note"),
            now=now,
        )
        if form.value("action") == "save":
            confirmed = form.value("typed_count").strip()
            row, _ = apply_category_change(
                session,
                caller=caller,
                category=category,
                edit=edit,
                effective_from=effective,
                note=form.value("note"),
                confirmed_count=int(confirmed) if confirmed.isdigit() else None,
                now=now,
            )
            flash(
                request,
                gettext("Policy version %(v)s saved; in force from %(at)s.")
                % {
                    "v": row.version,
                    "at": row.effective_from.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M"),
                },
                "success",
            )
            return redirect(request, "/admin/policy")
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        form.add_errors(
            exc.as_field_errors(),
            gettext,
            field_name=lambda f: f.split("[")[0].replace("daily_windows", "window_start"),
        )
    return pages.render(
        request,
        "admin/policy_edit.html",
        {"form": form, "rules": rules, "proposal": proposal, "category": category},
        status_code=422 if form.has_errors else 200,
    )


# ---- checkpoints -----------------------------------------------------------------------


@router.get("/checkpoints")
def checkpoints_page(request: Request, session: SessionDep, caller: AdminDep) -> Response:
    """The checkpoint registry (codes, names, positions) and a form to add one."""
    return pages.render(
        request,
        "admin/checkpoints.html",
        {"checkpoints": all_checkpoints(session), "form": FormState()},
    )


@router.post("/checkpoints")
async def checkpoint_submit(
    request: Request, session: SessionDep, caller: AdminDep, now: NowDep
) -> Response:
    """Register a checkpoint."""
    form = await _form(request)
    data: dict[str, Any] = {
        "code": form.value("code"),
        "names": {k: form.value(f"name_{k}") for k in ("ka", "az", "en")},
        "municipality": form.value("municipality"),
        "latitude": form.value("latitude"),
        "longitude": form.value("longitude"),
    }
    try:
        register_checkpoint(session, data=data, now=now, actor=caller)
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        form.add_errors(
            exc.as_field_errors(),
            pages.gettext(request),
            field_name=lambda f: f.replace("names.", "name_"),
        )
        return pages.render(
            request,
            "admin/checkpoints.html",
            {"checkpoints": all_checkpoints(session), "form": form},
            status_code=exc.status_code,
        )
    flash(request, pages.gettext(request)("Checkpoint added."), "success")
    return redirect(request, "/admin/checkpoints")


# ---- audit -----------------------------------------------------------------------------


@router.get("/audit")
def audit_page(request: Request, session: SessionDep, caller: AdminDep) -> Response:
    """The audit trail with filters; `verify=1` checks the whole chain and points at the first
    broken link."""
    params = request.query_params
    report = check_chain(session, caller=caller) if params.get("verify") else None
    around = None
    if report is not None and not report.intact:
        around = report.first_broken_seq
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    listing = audit_events(
        session,
        caller=caller,
        action=params.get("action") or None,
        actor=params.get("actor") or None,
        subject=params.get("subject") or None,
        around_seq=around,
        page=page,
    )
    form = FormState()
    for key in ("action", "actor", "subject"):
        form.set(key, params.get(key, ""))
    return pages.render(
        request,
        "admin/audit.html",
        {
            "report": report,
            "listing": listing,
            "form": form,
            "pages": max(1, -(-listing.total // listing.per_page)),
        },
    )
