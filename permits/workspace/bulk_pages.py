"""Bulk issuance pages: upload a roster, read the per-row report, confirm, watch progress,
download the batch PDF and the ZIP of phone images."""

from __future__ import annotations

import hashlib
import io
import uuid
import zipfile
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlmodel import col, select

from permits.api.deps import KeyStoreDep, NowDep, SessionDep
from permits.db import write_session
from permits.errors import FieldError, NotFound, PermitsError
from permits.issuance.models import Permit
from permits.issuance.qr import qr_png
from permits.web.flash import flash, redirect
from permits.web.forms import FormState, error_text
from permits.web.i18n import request_language
from permits.web.routing import page_router
from permits.web.templating import Pages
from permits.workspace import bulk
from permits.workspace.context import IssuerDep, Labels, end_read, issuable
from permits.workspace.models import (
    ROW_DUPLICATE,
    ROW_EXISTING,
    ROW_INVALID,
    ROW_ISSUED,
    ROW_VALID,
    BulkJob,
    BulkRow,
)
from permits.workspace.permit_form import PRESETS
from permits.workspace.roster import ALIASES, MAX_FILE_BYTES, RosterError, read_roster

router = page_router(prefix="/workspace/bulk")
pages = Pages("workspace")
SHOWN_VALID_ROWS = 200
Text = Annotated[str, Form(max_length=200)]


def _upload_form(
    request: Request, session: Any, caller: Any, now: Any, form: FormState, status: int = 200
) -> Response:
    _org, policy, categories = issuable(session, caller, now)
    labels = Labels(request_language(request), policy, pages.gettext(request))
    jobs = session.exec(
        select(BulkJob)
        .where(BulkJob.organisation_id == caller.organisation_id)
        .order_by(col(BulkJob.created_at).desc())
        .limit(20)
    ).all()
    vehicle_kinds: list[str] = []
    for rules in categories:
        vehicle_kinds.extend(k for k in rules.vehicle_kinds if k not in vehicle_kinds)
    return pages.render(
        request,
        "workspace/bulk_upload.html",
        {
            "form": form,
            "categories": categories,
            "labels": labels,
            "jobs": jobs,
            "vehicle_kinds": vehicle_kinds,
            "columns": ALIASES,
            "max_megabytes": MAX_FILE_BYTES // (1024 * 1024),
        },
        status_code=status,
    )


@router.get("")
def upload_page(request: Request, caller: IssuerDep, session: SessionDep, now: NowDep) -> Response:
    """The upload form, with defaults for every row, and the recent uploads."""
    organisation, _policy, categories = issuable(session, caller, now)
    today = now.astimezone(bulk.LOCAL).date()
    form = FormState()
    if categories:
        preferred = [c.slug for c in categories if c.slug == "medical_staff"]
        form.set("category", preferred[0] if preferred else categories[0].slug)
    form.set("valid_from", today.isoformat())
    form.set("valid_until", (today + timedelta(days=13)).isoformat())
    form.set("from_municipality", str(organisation.municipality))
    form.set("to_municipality", str(organisation.municipality))
    form.set("to_address", organisation.address)
    form.set("vehicle_kind", "car")
    return _upload_form(request, session, caller, now, form)


@router.post("")
def upload_submit(
    request: Request,
    caller: IssuerDep,
    session: SessionDep,
    now: NowDep,
    roster: Annotated[UploadFile | None, File()] = None,
    category: Text = "",
    valid_from: Text = "",
    valid_until: Text = "",
    from_municipality: Text = "",
    to_municipality: Text = "",
    to_address: Text = "",
    vehicle_kind: Text = "car",
    preset: Text = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Read and check the roster; store the report. Nothing is issued yet."""
    _ = pages.gettext(request)
    form = FormState.from_pairs(getattr(request.state, "form_snapshot", []))
    errors: list[FieldError] = []
    try:
        start = date.fromisoformat(valid_from)
    except ValueError:
        errors.append(FieldError("valid_from", "not_a_date", ""))
        start = now.astimezone(bulk.LOCAL).date()
    try:
        end = date.fromisoformat(valid_until)
    except ValueError:
        errors.append(FieldError("valid_until", "not_a_date", ""))
        end = start
    data = b""
    filename = ""
    if roster is None or not roster.filename:
        errors.append(FieldError("roster", "file_required", ""))
    else:
        filename = roster.filename
        data = roster.file.read(MAX_FILE_BYTES + 1)
    parsed = None
    if data:
        try:
            parsed = read_roster(data, filename)
        except RosterError as exc:
            errors.append(FieldError("roster", exc.code, "", exc.params))
    elif roster is not None and roster.filename:
        errors.append(FieldError("roster", "no_rows", ""))
    if errors or parsed is None:
        for error in errors:
            form.add_error(error.field, error_text(error, _))
        return _upload_form(request, session, caller, now, form, status=422)
    days = PRESETS.get(preset, weekdays or [])
    defaults = bulk.RosterDefaults(
        valid_from=start,
        valid_until=end,
        from_municipality=int(from_municipality) if from_municipality.isdigit() else 0,
        to_municipality=int(to_municipality) if to_municipality.isdigit() else 0,
        to_address=to_address.strip(),
        vehicle_kind=vehicle_kind.strip() or "car",
        weekdays=bulk.weekdays_from(list(days)),
    )
    end_read(session)
    try:
        with write_session(request.app.state.engine) as writer:
            job = bulk.create_job(
                writer,
                caller=caller,
                roster=parsed,
                filename=filename,
                file_sha256=hashlib.sha256(data).hexdigest(),
                category=category,
                defaults=defaults,
                now=now,
            )
    except PermitsError as exc:
        for error in exc.as_field_errors():
            form.add_error(error.field if error.field == "category" else "", error_text(error, _))
        return _upload_form(request, session, caller, now, form, status=exc.status_code)
    return redirect(request, f"/workspace/bulk/{job.id}")


def _row_view(row: BulkRow, gettext: Any) -> dict[str, Any]:
    errors = [
        error_text(FieldError(e.get("field", ""), e.get("code", ""), e.get("message", "")), gettext)
        + (f" ({e['field']})" if e.get("field") else "")
        for e in row.errors
    ]
    if row.state == ROW_DUPLICATE:
        errors.append(
            error_text(FieldError("", "duplicate_row", "", {"line": row.duplicate_of}), gettext)
        )
    if row.state == ROW_EXISTING:
        errors.append(error_text(FieldError("", "already_issued", ""), gettext))
    source = row.source
    return {
        "line": row.line,
        "state": row.state,
        "name": f"{source.get('first_name', '')} {source.get('last_name', '')}".strip(),
        "document": source.get("personal_number") or source.get("foreign_document", ""),
        "plate": source.get("plate", ""),
        "messages": errors,
        "permit_id": row.permit_id,
    }


@router.get("/{job_id}")
def job_page(
    request: Request, job_id: uuid.UUID, caller: IssuerDep, session: SessionDep, now: NowDep
) -> Response:
    """The report of an upload: each row's problems; confirm; progress; the results."""
    job = bulk.own_job(session, caller, job_id)
    _org, policy, _categories = issuable(session, caller, now)
    _ = pages.gettext(request)
    problems = session.exec(
        select(BulkRow)
        .where(BulkRow.job_id == job.id)
        .where(col(BulkRow.state).in_([ROW_INVALID, ROW_DUPLICATE, ROW_EXISTING]))
        .order_by(col(BulkRow.line))
    ).all()
    fine = session.exec(
        select(BulkRow)
        .where(BulkRow.job_id == job.id)
        .where(col(BulkRow.state).in_([ROW_VALID, ROW_ISSUED]))
        .order_by(col(BulkRow.line))
        .limit(SHOWN_VALID_ROWS)
    ).all()
    labels = Labels(request_language(request), policy, _)
    percent = int(100 * job.issued_rows / job.valid_rows) if job.valid_rows else 100
    return pages.render(
        request,
        "workspace/bulk_job.html",
        {
            "job": job,
            "problems": [_row_view(r, _) for r in problems],
            "fine": [_row_view(r, _) for r in fine],
            "more_fine": max(0, job.valid_rows - len(fine)),
            "category_name": labels.category(job.category),
            "percent": percent,
            "pdf_parts": range(1, 1 + -(-(job.issued_rows + job.existing_rows) // BATCH)),
        },
        headers={"Refresh": "2"} if job.status == "issuing" else None,
    )


@router.get("/{job_id}/progress")
def job_progress(job_id: uuid.UUID, caller: IssuerDep, session: SessionDep) -> JSONResponse:
    """How far issuing has come (for the progress bar)."""
    job = bulk.own_job(session, caller, job_id)
    return JSONResponse(
        {"status": job.status, "issued": job.issued_rows, "valid": job.valid_rows},
        headers={"Cache-Control": "no-store"},
    )


@router.post("/{job_id}/confirm")
def confirm(
    request: Request,
    job_id: uuid.UUID,
    caller: IssuerDep,
    session: SessionDep,
    keystore: KeyStoreDep,
    now: NowDep,
    background: BackgroundTasks,
) -> Response:
    """Issue the valid rows (in the background; the page shows progress). A second click, or
    the same roster uploaded again, issues nothing twice."""
    job = bulk.own_job(session, caller, job_id)
    end_read(session)
    _ = pages.gettext(request)
    engine = request.app.state.engine
    with write_session(engine) as writer:
        bulk.resume(writer, caller=caller, job_id=job.id, now=now)
        started = bulk.start_issuing(writer, caller=caller, job_id=job.id, now=now)
    if started:
        background.add_task(
            bulk.issue_job,
            engine,
            caller=caller,
            job_id=job.id,
            keystore=keystore,
            clock=request.app.state.clock,
        )
        flash(request, _("Issuing has started."), "info")
    return redirect(request, f"/workspace/bulk/{job.id}")


def _job_permits(session: Any, caller: Any, job_id: uuid.UUID) -> list[Permit]:
    job = bulk.own_job(session, caller, job_id)
    ids = bulk.issued_permit_ids(session, job_id=job.id)
    permits = {p.id: p for p in session.exec(select(Permit).where(col(Permit.id).in_(ids))).all()}
    return [permits[i] for i in ids if i in permits]


BATCH = 2000  # the certificates area renders at most this many in one call


def _views(request: Request, session: Any, caller: Any, permits: list[Permit]) -> Any:
    from permits.certificates import service as certificates

    return certificates.certificate_views(
        session,
        caller=caller,
        refs=[str(p.id) for p in permits],
        languages=None,
        now=request.app.state.clock(),
    )


@router.get("/{job_id}/images.zip")
def images_zip(
    request: Request, job_id: uuid.UUID, caller: IssuerDep, session: SessionDep
) -> Response:
    """One ZIP with the phone image of every permit of the upload, named by serial."""
    permits = _job_permits(session, caller, job_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        try:
            from permits.certificates import service as certificates

            for start in range(0, len(permits), BATCH):
                views = _views(request, session, caller, permits[start : start + BATCH])
                for name, png in certificates.zip_entries(views):
                    archive.writestr(name, png)
        except ImportError:  # without the certificates area: the QR codes alone
            for permit in permits:
                archive.writestr(f"{permit.serial}.png", qr_png(permit.qr_text))
    return Response(
        buffer.getvalue(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="permits-{job_id.hex[:8]}.zip"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/{job_id}/certificates.pdf")
def batch_pdf(
    request: Request,
    job_id: uuid.UUID,
    caller: IssuerDep,
    session: SessionDep,
    part: Annotated[int, Query(ge=1, le=100)] = 1,
) -> Response:
    """One PDF with the certificates of the upload's permits (2,000 a part)."""
    from permits.certificates import service as certificates

    permits = _job_permits(session, caller, job_id)[(part - 1) * BATCH : part * BATCH]
    if not permits:
        raise NotFound("no permits in this part")
    rendered = certificates.render_batch_pdf(_views(request, session, caller, permits))
    return Response(
        rendered.content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="permits-{job_id.hex[:8]}-{part}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get("/sample/roster.csv")
def sample_roster(request: Request, caller: IssuerDep) -> Response:
    """A sample roster with the expected headings (UTF-8 with a BOM, semicolons)."""
    del caller
    lines = [
        "first_name;last_name;personal_number;position;plate;make_model;from_address",
        "ნინო;ბერიძე;01024054321;ექთანი;AA-123-BB;Toyota Prius;Marneuli, Rustaveli 5",
    ]
    return Response(
        ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="roster-sample.csv"'},
    )
