"""HTTP routes for permits: thin wrappers over the issuance service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from pydantic import BaseModel
from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.api.deps import (
    BearerTokenDep,
    CallerDep,
    KeyStoreDep,
    NowDep,
    PermitWritesDep,
    ReadFirstSessionDep,
    SessionDep,
    as_caller,
)
from permits.errors import PermitsError
from permits.issuance import service
from permits.issuance.present import permit_public
from permits.issuance.qr import qr_png, qr_svg
from permits.issuance.schemas import (
    BatchIn,
    BatchOut,
    BatchResultOut,
    FieldErrorOut,
    PermitCreate,
    PermitPage,
    PermitPublic,
    ReceiptIn,
    RevokeIn,
)

router = APIRouter(prefix="/permits", tags=["permits"])
JSON = "application/json"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=PermitPublic)
async def issue(
    body: PermitCreate,
    request: Request,
    token: BearerTokenDep,
    keystore: KeyStoreDep,
    now: NowDep,
    group_commit: PermitWritesDep,
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Issue and sign a permit for the caller's organisation (200 instead of 201 when the
    Idempotency-Key was used before: the permit issued then comes back, nothing is signed)."""

    def work(session: Session, caller: Caller) -> Response:
        issued = service.issue_permit(
            session,
            caller=caller,
            request=body,
            keystore=keystore,
            now=now,
            idempotency_key=idempotency_key,
            group_commit=group_commit,
        )
        replay = "idempotent_replay" in issued.warnings
        return _json(
            permit_public(issued, now=now),
            status.HTTP_200_OK if replay else status.HTTP_201_CREATED,
        )

    return await as_caller(request, token, work, pool=request.app.state.issuing_pool)


@router.post("/batch", response_model=BatchOut)
def issue_batch(
    body: BatchIn,
    session: ReadFirstSessionDep,
    caller: CallerDep,
    keystore: KeyStoreDep,
    now: NowDep,
) -> Response:
    """Issue many permits in one request and one transaction (a clinic system's roster).

    Each item is judged on its own: the valid ones are signed and stored, each refused one
    is reported with its field errors and stores nothing, and an item whose idempotency key
    was used before returns the permit issued then.
    """
    outcomes = service.issue_permits(
        session,
        caller=caller,
        requests=[(item.permit, item.idempotency_key) for item in body.items],
        keystore=keystore,
        now=now,
    )
    results = []
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, PermitsError):
            errors = [
                FieldErrorOut(field=e.field, code=e.code, message=e.message)
                for e in outcome.as_field_errors()
            ]
            results.append(BatchResultOut(index=index, status=outcome.status_code, errors=errors))
        else:
            replay = "idempotent_replay" in outcome.warnings
            results.append(
                BatchResultOut(
                    index=index,
                    status=200 if replay else 201,
                    permit=permit_public(outcome, now=now),
                )
            )
    refused = sum(1 for result in results if result.status >= 400)
    return _json(BatchOut(issued=len(results) - refused, refused=refused, results=results), 200)


def _json(model: BaseModel, status_code: int) -> Response:
    """A JSON answer written straight from the model (already validated, not checked twice)."""
    return Response(model.model_dump_json(), status_code=status_code, media_type=JSON)


@router.get("", response_model=PermitPage)
def search(
    session: SessionDep,
    caller: CallerDep,
    now: NowDep,
    personal_number: Annotated[str | None, Query(max_length=40)] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
    plate: Annotated[str | None, Query(max_length=20)] = None,
    issuer: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(active|expired|revoked|replaced)$")
    ] = None,
    issued_from: datetime | None = None,
    issued_to: datetime | None = None,
    control_code: Annotated[str | None, Query(max_length=20)] = None,
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PermitPage:
    """Search the permits the caller may see (its organisation's; all for the region)."""
    filters = service.SearchFilters(
        personal_number=personal_number,
        name=name,
        plate=plate,
        issuer=issuer,
        category=category,
        status=status_,
        issued_from=issued_from,
        issued_to=issued_to,
        control_code=control_code,
    )
    items, total = service.search_permits(
        session, caller=caller, filters=filters, now=now, page=page, per_page=per_page
    )
    return PermitPage(
        items=[permit_public(i, now=now) for i in items], total=total, page=page, per_page=per_page
    )


@router.get("/{permit_id}", response_model=PermitPublic)
def get(permit_id: uuid.UUID, session: SessionDep, caller: CallerDep, now: NowDep) -> PermitPublic:
    """Return one permit."""
    return permit_public(service.get_permit(session, caller=caller, permit_id=permit_id), now=now)


@router.get(
    "/{permit_id}/qr.png", response_class=Response, responses={200: {"content": {"image/png": {}}}}
)
def qr_as_png(permit_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> Response:
    """Return the permit's QR code as a PNG."""
    issued = service.get_permit(session, caller=caller, permit_id=permit_id)
    return Response(qr_png(issued.permit.qr_text), media_type="image/png")


@router.get(
    "/{permit_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}},
)
def qr_as_svg(permit_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> Response:
    """Return the permit's QR code as an SVG."""
    issued = service.get_permit(session, caller=caller, permit_id=permit_id)
    return Response(qr_svg(issued.permit.qr_text), media_type="image/svg+xml")


@router.post("/{permit_id}/revoke", response_model=PermitPublic)
def revoke(
    permit_id: uuid.UUID, body: RevokeIn, session: SessionDep, caller: CallerDep, now: NowDep
) -> PermitPublic:
    """Revoke a permit with a reason."""
    service.revoke_permit(session, caller=caller, permit_id=permit_id, reason=body.reason, now=now)
    return permit_public(service.get_permit(session, caller=caller, permit_id=permit_id), now=now)


@router.post(
    "/{permit_id}/replace", status_code=status.HTTP_201_CREATED, response_model=PermitPublic
)
def replace(
    permit_id: uuid.UUID,
    body: PermitCreate,
    session: SessionDep,
    caller: CallerDep,
    keystore: KeyStoreDep,
    now: NowDep,
) -> PermitPublic:
    """Issue a new permit in place of this one; the old one is invalid from now."""
    issued = service.replace_permit(
        session, caller=caller, permit_id=permit_id, request=body, keystore=keystore, now=now
    )
    return permit_public(issued, now=now)


@router.post("/{permit_id}/receipt", response_model=PermitPublic)
def receipt(
    permit_id: uuid.UUID, body: ReceiptIn, session: SessionDep, caller: CallerDep, now: NowDep
) -> PermitPublic:
    """Record that the clinic received the delivered items."""
    service.record_receipt(
        session,
        caller=caller,
        permit_id=permit_id,
        received_by=body.received_by,
        received_at=body.received_at,
        now=now,
    )
    return permit_public(service.get_permit(session, caller=caller, permit_id=permit_id), now=now)
