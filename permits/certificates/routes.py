"""HTTP routes for certificates: thin wrappers over `permits.certificates.service`.

`api_router` goes under /api/v1: downloads (GET) take an API token or a logged-in browser
session, batches (POST) an API token; the permit must be the caller's organisation's, or
any for the regional administration; `holder_router` serves /h/<token>
with no login: the unguessable token is the key.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from permits.api.deps import CallerDep, NowDep, SessionDep, SettingsDep
from permits.certificates import service
from permits.certificates.holder import content_security_policy, holder_html, not_found_html
from permits.certificates.holder import service_worker as service_worker_source
from permits.errors import NotFound
from permits.web.deps import AnyCallerDep

api_router = APIRouter(tags=["certificates"])
holder_router = APIRouter(tags=["holder page"], include_in_schema=True)

PermitRef = Annotated[str, Field(min_length=1, max_length=64)]
Languages = Annotated[
    str | None,
    Query(
        max_length=20,
        description="ka,az (the default) or ka,az,en; the organisation's setting when absent",
    ),
]


class BatchIn(BaseModel):
    """Permits to render together, by id or serial, in the order given."""

    model_config = ConfigDict(extra="forbid")
    permits: list[PermitRef] = Field(min_length=1, max_length=service.MAX_BATCH)
    languages: str | None = Field(default=None, max_length=20)


class HolderLink(BaseModel):
    """The holder's own link: no login, keep it private like the paper itself."""

    url: str
    path: str


def _file(rendered: service.Rendered, *, inline: bool = True) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{rendered.filename}"',
            "Cache-Control": "no-store",
        },
    )


def _read_batch(
    session: Session, caller: CallerDep, body: BatchIn, now: NowDep
) -> list[service.CertificateView]:
    views = service.certificate_views(
        session, caller=caller, refs=body.permits, languages=body.languages, now=now
    )
    # Rendering many pages takes seconds: end the transaction first, so nothing waits on it.
    session.rollback()
    return views


@api_router.get(
    "/permits/{permit_id}/certificate.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def certificate_pdf(
    permit_id: str,
    session: SessionDep,
    caller: AnyCallerDep,
    now: NowDep,
    languages: Languages = None,
) -> Response:
    """The printable A4 certificate of a permit (by id or serial)."""
    view = service.certificate_view(
        session, caller=caller, ref=permit_id[:64], languages=languages, now=now
    )
    return _file(service.render_pdf(view))


@api_router.get(
    "/permits/{permit_id}/phone.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def certificate_png(
    permit_id: str,
    session: SessionDep,
    caller: AnyCallerDep,
    now: NowDep,
    languages: Languages = None,
) -> Response:
    """The phone image of a permit (by id or serial), about 1080 px wide."""
    view = service.certificate_view(
        session, caller=caller, ref=permit_id[:64], languages=languages, now=now
    )
    return _file(service.render_png(view))


@api_router.get("/permits/{permit_id}/holder-link", response_model=HolderLink)
def holder_link(
    permit_id: str,
    session: SessionDep,
    caller: AnyCallerDep,
    now: NowDep,
    settings: SettingsDep,
) -> HolderLink:
    """The link to send the holder: their permit on their phone, offline once opened."""
    view = service.certificate_view(session, caller=caller, ref=permit_id[:64], now=now)
    return HolderLink(
        url=settings.public_base_url.rstrip("/") + view.holder_path, path=view.holder_path
    )


@api_router.post(
    "/certificates/batch.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def batch_pdf(body: BatchIn, session: SessionDep, caller: CallerDep, now: NowDep) -> Response:
    """One PDF with a page for each permit named (a clinic's whole roster)."""
    views = _read_batch(session, caller, body, now)
    return _file(service.render_batch_pdf(views), inline=False)


@api_router.post(
    "/certificates/batch.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def batch_zip(body: BatchIn, session: SessionDep, caller: CallerDep, now: NowDep) -> Response:
    """A ZIP of the phone images of every permit named, one PNG each, named by serial."""
    views = _read_batch(session, caller, body, now)
    return _file(service.render_batch_zip(views), inline=False)


_HOLDER_HEADERS = {
    "Cache-Control": "no-store, private",  # the service worker keeps its own copy
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


@holder_router.get("/h/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The holder pages' service worker (scope /h/)."""
    return Response(
        service_worker_source(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


@holder_router.get("/h/{token}", response_class=HTMLResponse)
def holder_page(
    token: str, request: Request, session: SessionDep, now: NowDep, languages: Languages = None
) -> Response:
    """The holder's page: the permit and its QR code, no login; offline once opened."""
    headers = {**_HOLDER_HEADERS, "Content-Security-Policy": content_security_policy()}
    try:
        view = service.holder_view(session, token=token, languages=languages, now=now)
    except NotFound:
        return HTMLResponse(
            not_found_html(), status_code=status.HTTP_404_NOT_FOUND, headers=headers
        )
    return HTMLResponse(holder_html(view, token=token, now=now), headers=headers)


@holder_router.get(
    "/h/{token}/certificate.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}},
)
def holder_image(
    token: str, session: SessionDep, now: NowDep, languages: Languages = None
) -> Response:
    """The holder's phone image, to save or send (same key as the page)."""
    view = service.holder_view(session, token=token, languages=languages, now=now)
    return Response(
        service.render_png(view).content,
        media_type="image/png",
        headers={**_HOLDER_HEADERS, "Content-Disposition": f'inline; filename="{view.serial}.png"'},
    )
