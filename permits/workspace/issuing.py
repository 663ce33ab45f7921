"""Issuing pages: one form per category, the permit's page (print, phone image, holder
link), replacing, revoking and recording a delivery receipt."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from permits.api.deps import KeyStoreDep, NowDep, SessionDep
from permits.db import write_session
from permits.errors import FieldError, NotFound, PermitsError, ValidationFailed
from permits.issuance import service
from permits.issuance.qr import qr_png, qr_svg
from permits.issuance.validation import mask_to_weekdays, validate_permit
from permits.policy.rules import CategoryRules
from permits.timezone import LOCAL, minutes_to_hhmm
from permits.web.drafts import restore_draft
from permits.web.flash import flash, redirect
from permits.web.forms import FormState, error_text
from permits.web.i18n import request_language
from permits.web.routing import page_router
from permits.web.templating import Pages
from permits.workspace import links
from permits.workspace import messages as _messages  # noqa: F401 - registers error texts
from permits.workspace.context import (
    STATUS_LABELS,
    IssuerDep,
    Labels,
    end_read,
    issuable,
    own_permit,
)
from permits.workspace.permit_form import (
    MAX_ROWS,
    CategoryForm,
    blank_form,
    form_field,
    form_from_permit,
    parse_form,
    row_count,
    rules_messages,
)

router = page_router(prefix="/workspace")
pages = Pages("workspace")


def _labels(request: Request, policy) -> Labels:  # type: ignore[no-untyped-def]
    return Labels(request_language(request), policy, pages.gettext(request))


def _category(categories: list[CategoryRules], slug: str) -> CategoryRules:
    for rules in categories:
        if rules.slug == slug:
            return rules
    raise NotFound("your organisation does not issue this category")


def _new_key() -> str:
    return "form:" + uuid.uuid4().hex


def _render_form(
    request: Request,
    *,
    rules: CategoryRules,
    labels: Labels,
    form: FormState,
    action: str,
    replacing: object = None,
    status_code: int = 200,
) -> Response:
    return pages.render(
        request,
        "workspace/issue_form.html",
        {
            "rules": rules,
            "shape": CategoryForm(rules),
            "labels": labels,
            "form": form,
            "rows": row_count(form),
            "max_rows": min(MAX_ROWS, rules.max_persons),
            "action": action,
            "replacing": replacing,
        },
        status_code=status_code,
    )


@router.get("/issue")
def choose_category(
    request: Request, caller: IssuerDep, session: SessionDep, now: NowDep
) -> Response:
    """The categories the organisation may issue."""
    _, policy, categories = issuable(session, caller, now)
    return pages.render(
        request,
        "workspace/issue_choose.html",
        {"categories": categories, "labels": _labels(request, policy)},
    )


@router.get("/issue/{category}")
def issue_form(
    request: Request,
    category: str,
    caller: IssuerDep,
    session: SessionDep,
    now: NowDep,
    template: uuid.UUID | None = None,
) -> Response:
    """The form of one category: empty, filled from an earlier permit (`?template=<id>`),
    or filled again from a draft kept when the session expired."""
    organisation, policy, categories = issuable(session, caller, now)
    rules = _category(categories, category)
    labels = _labels(request, policy)
    draft = restore_draft(request)
    if draft:
        form = FormState.from_pairs(draft)
        form.set("idempotency_key", _new_key())
    elif template is not None:
        source = own_permit(session, caller, template)
        if source.category != rules.slug:
            raise NotFound("that permit is of another category")
        form = form_from_permit(
            source,
            service.persons_of(session, source.id),
            idempotency_key=_new_key(),
            keep_dates=False,
            now=now,
        )
        message = labels.gettext("Filled in from permit %(serial)s. Check the dates.")
        flash(request, message % {"serial": source.serial})
    else:
        form = blank_form(rules, organisation=organisation, now=now, idempotency_key=_new_key())
    return _render_form(
        request, rules=rules, labels=labels, form=form, action=f"/workspace/issue/{rules.slug}"
    )


def _posted(request: Request) -> FormState:
    """The posted text fields (read and CSRF-checked by the page router)."""
    return FormState.from_pairs(getattr(request.state, "form_snapshot", []))


def _validation_errors(
    form: FormState,
    errors: list[FieldError],
    *,
    rules: CategoryRules,
    labels: Labels,
    person_rows: list[int],
) -> None:
    special = rules_messages(rules, labels.language, labels.gettext)
    for error in errors:
        text = special(error) or error_text(error, labels.gettext)
        form.add_error(form_field(error.field, person_rows) or "", text)


@router.post("/issue/{category}")
def issue_submit(
    request: Request,
    category: str,
    caller: IssuerDep,
    session: SessionDep,
    keystore: KeyStoreDep,
    now: NowDep,
) -> Response:
    """Add a person row, or check everything and issue (nothing is issued while any field is
    wrong; a form sent twice issues once)."""
    form = _posted(request)
    organisation, policy, categories = issuable(session, caller, now)
    end_read(session)
    rules = _category(categories, category)
    labels = _labels(request, policy)
    action = f"/workspace/issue/{rules.slug}"
    if form.value("action") == "add_person":
        form.set("person_count", str(min(row_count(form) + 1, MAX_ROWS, rules.max_persons)))
        return _render_form(request, rules=rules, labels=labels, form=form, action=action)
    parsed = parse_form(form, rules, now)
    key = form.value("idempotency_key")[:100] or _new_key()
    try:
        if parsed.request is None:
            raise ValidationFailed(parsed.errors)
        with write_session(request.app.state.engine) as writer:
            if parsed.errors:
                # check the rules on the rest too, so every problem is shown at once
                try:
                    validate_permit(
                        parsed.request, policy=policy, organisation=organisation, now=now
                    )
                except ValidationFailed as exc:
                    bad = {e.field for e in parsed.errors}
                    raise ValidationFailed(
                        parsed.errors + [e for e in exc.errors if e.field not in bad]
                    ) from exc
                raise ValidationFailed(parsed.errors)
            issued = service.issue_permit(
                writer,
                caller=caller,
                request=parsed.request,
                keystore=keystore,
                now=now,
                idempotency_key=key,
            )
    except ValidationFailed as exc:
        _validation_errors(
            form, exc.errors, rules=rules, labels=labels, person_rows=parsed.person_rows
        )
        return _render_form(
            request, rules=rules, labels=labels, form=form, action=action, status_code=422
        )
    except PermitsError as exc:
        _validation_errors(form, exc.as_field_errors(), rules=rules, labels=labels, person_rows=[])
        return _render_form(
            request,
            rules=rules,
            labels=labels,
            form=form,
            action=action,
            status_code=exc.status_code,
        )
    flash(
        request,
        labels.gettext("Permit %(serial)s issued.") % {"serial": issued.permit.serial},
        "success",
    )
    return redirect(request, f"/workspace/permits/{issued.permit.id}")


def _permit_view(request: Request, issued: service.IssuedPermit, labels: Labels, now: datetime):  # type: ignore[no-untyped-def]
    permit = issued.permit
    rules = labels.policy.category(permit.category)
    windows = [f"{minutes_to_hhmm(a)}–{minutes_to_hhmm(b)}" for a, b in permit.windows]
    return {
        "permit": permit,
        "persons": issued.persons,
        "status": service.effective_status(permit, now),
        "control_code": service.permit_control_code(permit),
        "category_name": labels.category(permit.category),
        "public_name": labels.public_category(permit.category),
        "windows": windows,
        "weekdays": [labels.weekday(d) for d in mask_to_weekdays(permit.weekdays)],
        "takes_receipt": bool(rules and rules.receipt),
        "pdf_url": links.certificate_pdf_url(request, permit.id),
        "image_url": links.phone_image_url(request, permit.id),
        "holder_link": links.holder_link(request, permit),
        "labels": labels,
        "status_labels": STATUS_LABELS,
    }


@router.get("/permits/{permit_id}")
def permit_page(
    request: Request, permit_id: uuid.UUID, caller: IssuerDep, session: SessionDep, now: NowDep
) -> Response:
    """One permit: its details, print, phone image, holder link, and what can be done."""
    own_permit(session, caller, permit_id)
    issued = service.get_permit(session, caller=caller, permit_id=permit_id)
    _, policy, _categories = issuable(session, caller, now)
    labels = _labels(request, policy)
    view = _permit_view(request, issued, labels, now)
    if issued.permit.replaced_by_id:
        view["replaced_by"] = own_permit(session, caller, issued.permit.replaced_by_id)
    if issued.permit.replaces_id:
        view["replaces"] = own_permit(session, caller, issued.permit.replaces_id)
    view["can_reuse"] = any(c.slug == issued.permit.category for c in _categories)
    return pages.render(request, "workspace/permit.html", view)


@router.get("/permits/{permit_id}/qr.png")
def permit_qr_png(
    request: Request, permit_id: uuid.UUID, caller: IssuerDep, session: SessionDep
) -> Response:
    """The permit's QR code as a PNG (to send to a phone)."""
    permit = own_permit(session, caller, permit_id)
    return Response(
        qr_png(permit.qr_text),
        media_type="image/png",
        headers={
            "Content-Disposition": f'attachment; filename="{permit.serial}.png"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/permits/{permit_id}/qr.svg")
def permit_qr_svg(
    request: Request, permit_id: uuid.UUID, caller: IssuerDep, session: SessionDep
) -> Response:
    """The permit's QR code as an SVG (shown on its page)."""
    permit = own_permit(session, caller, permit_id)
    return Response(
        qr_svg(permit.qr_text),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, no-store"},
    )


@router.get("/permits/{permit_id}/replace")
def replace_form(
    request: Request, permit_id: uuid.UUID, caller: IssuerDep, session: SessionDep, now: NowDep
) -> Response:
    """The form to replace a permit (lost phone, other car, corrected name), filled in."""
    permit = own_permit(session, caller, permit_id)
    _, policy, categories = issuable(session, caller, now)
    rules = _category(categories, permit.category)
    labels = _labels(request, policy)
    draft = restore_draft(request)
    if draft:
        form = FormState.from_pairs(draft)
    else:
        form = form_from_permit(
            permit,
            service.persons_of(session, permit.id),
            idempotency_key="",
            keep_dates=True,
            now=now,
        )
    return _render_form(
        request,
        rules=rules,
        labels=labels,
        form=form,
        action=f"/workspace/permits/{permit.id}/replace",
        replacing=permit,
    )


@router.post("/permits/{permit_id}/replace")
def replace_submit(
    request: Request,
    permit_id: uuid.UUID,
    caller: IssuerDep,
    session: SessionDep,
    keystore: KeyStoreDep,
    now: NowDep,
) -> Response:
    """Issue the replacement; the old permit is invalid from this moment."""
    form = _posted(request)
    permit = own_permit(session, caller, permit_id)
    _, policy, categories = issuable(session, caller, now)
    end_read(session)
    rules = _category(categories, permit.category)
    labels = _labels(request, policy)
    action = f"/workspace/permits/{permit.id}/replace"
    if form.value("action") == "add_person":
        form.set("person_count", str(min(row_count(form) + 1, MAX_ROWS, rules.max_persons)))
        return _render_form(
            request, rules=rules, labels=labels, form=form, action=action, replacing=permit
        )
    parsed = parse_form(form, rules, now)
    try:
        if parsed.request is None or parsed.errors:
            raise ValidationFailed(parsed.errors)
        with write_session(request.app.state.engine) as writer:
            issued = service.replace_permit(
                writer,
                caller=caller,
                permit_id=permit.id,
                request=parsed.request,
                keystore=keystore,
                now=now,
            )
    except PermitsError as exc:
        _validation_errors(
            form, exc.as_field_errors(), rules=rules, labels=labels, person_rows=parsed.person_rows
        )
        return _render_form(
            request,
            rules=rules,
            labels=labels,
            form=form,
            action=action,
            replacing=permit,
            status_code=exc.status_code,
        )
    flash(
        request,
        labels.gettext("Permit %(old)s is replaced by %(new)s; the old one is no longer valid.")
        % {"old": permit.serial, "new": issued.permit.serial},
        "success",
    )
    return redirect(request, f"/workspace/permits/{issued.permit.id}")


@router.post("/permits/{permit_id}/revoke")
def revoke_submit(
    request: Request,
    permit_id: uuid.UUID,
    caller: IssuerDep,
    session: SessionDep,
    now: NowDep,
    reason: Annotated[str, Form(max_length=500)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Revoke a permit with a reason (it goes on the next revocation list)."""
    permit = own_permit(session, caller, permit_id)
    end_read(session)
    _ = pages.gettext(request)
    target = back if back.startswith("/workspace/") else f"/workspace/permits/{permit.id}"
    if len(reason.strip()) < 3:
        flash(request, error_text(FieldError("reason", "reason_required", ""), _), "error")
        return redirect(request, target)
    try:
        with write_session(request.app.state.engine) as writer:
            service.revoke_permit(
                writer, caller=caller, permit_id=permit.id, reason=reason, now=now
            )
    except PermitsError as exc:
        flash(request, error_text(exc.as_field_errors()[0], _), "error")
        return redirect(request, target)
    flash(request, _("Permit %(serial)s revoked.") % {"serial": permit.serial}, "success")
    return redirect(request, target)


@router.post("/permits/{permit_id}/receipt")
def receipt_submit(
    request: Request,
    permit_id: uuid.UUID,
    caller: IssuerDep,
    session: SessionDep,
    now: NowDep,
    received_by: Annotated[str, Form(max_length=200)] = "",
    received_on: Annotated[str, Form(max_length=10)] = "",
    received_time: Annotated[str, Form(max_length=5)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """Record that the clinic received the items of a delivery-to-patient permit."""
    permit = own_permit(session, caller, permit_id)
    end_read(session)
    _ = pages.gettext(request)
    target = back if back.startswith("/workspace/") else f"/workspace/permits/{permit.id}"
    if len(received_by.strip()) < 2:
        flash(
            request, error_text(FieldError("received_by", "received_by_required", ""), _), "error"
        )
        return redirect(request, target)
    received_at = None
    if received_on.strip():
        try:
            day = datetime.fromisoformat(received_on.strip()).date()
            hour = time.fromisoformat(received_time.strip()) if received_time.strip() else time(12)
            received_at = datetime.combine(day, hour, tzinfo=LOCAL)
        except ValueError:
            flash(request, error_text(FieldError("received_on", "not_a_date", ""), _), "error")
            return redirect(request, target)
    try:
        with write_session(request.app.state.engine) as writer:
            service.record_receipt(
                writer,
                caller=caller,
                permit_id=permit.id,
                received_by=received_by,
                received_at=received_at,
                now=now,
            )
    except PermitsError as exc:
        flash(request, error_text(exc.as_field_errors()[0], _), "error")
        return redirect(request, target)
    flash(request, _("The delivery receipt is recorded."), "success")
    return redirect(request, target)
