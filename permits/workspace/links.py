"""Where a permit's papers are: the certificate PDF and the phone image (built by the
certificates area), the QR image, and the holder link.

The certificate routes are looked up among the application's routes, so the pages link to
them as soon as they exist; until then the phone image falls back to the QR code image.
"""

from __future__ import annotations

import uuid

from fastapi import Request

from permits.issuance.models import Permit
from permits.settings import Settings
from permits.web.routing import app_routes

# (path template, what it is) of the certificates area, in order of preference
PDF_PATHS = (
    "/workspace/permits/{permit_id}/certificate.pdf",
    "/api/v1/permits/{permit_id}/certificate.pdf",
)
IMAGE_PATHS = (
    "/workspace/permits/{permit_id}/phone.png",
    "/api/v1/permits/{permit_id}/phone.png",
)
BATCH_PDF_PATHS = ("/api/v1/certificates/batch.pdf", "/workspace/certificates/batch.pdf")
BATCH_ZIP_PATHS = ("/api/v1/certificates/batch.zip", "/workspace/certificates/batch.zip")


def _route_paths(request: Request) -> set[str]:
    cached = getattr(request.app.state, "route_paths", None)
    if cached is None:
        cached = {path for _methods, path in app_routes(request.app)}
        request.app.state.route_paths = cached
    return cached


def first_route(request: Request, candidates: tuple[str, ...]) -> str | None:
    """The first of `candidates` the application serves, or None."""
    paths = _route_paths(request)
    return next((c for c in candidates if c in paths), None)


def certificate_pdf_url(request: Request, permit_id: uuid.UUID) -> str | None:
    """The printable certificate of a permit, or None while no route serves it."""
    path = first_route(request, PDF_PATHS)
    return path.format(permit_id=permit_id) if path else None


def phone_image_url(request: Request, permit_id: uuid.UUID) -> str:
    """The image to send to a phone (the QR code image until the certificates area's)."""
    path = first_route(request, IMAGE_PATHS)
    if path:
        return path.format(permit_id=permit_id)
    return f"/workspace/permits/{permit_id}/qr.png"


def holder_link(request: Request, permit: Permit) -> str:
    """The full holder link of a permit (its holder page, opened without logging in)."""
    settings: Settings = request.app.state.settings
    return settings.public_base_url.rstrip("/") + f"/h/{permit.holder_token}"
