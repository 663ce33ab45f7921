"""The holder page: what the link /h/<token> shows on the holder's phone, with no login.

One standalone HTML document (its own small CSS, the QR code inline as SVG, no outside
files), and a service worker scoped to /h/ that keeps the last copy so the page opens
offline at a checkpoint. Online, the page always comes from the server, so a revocation
shows as soon as the phone has a connection.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from permits.certificates.qrcode import QUIET_ZONE, qr_matrix, qr_svg_path
from permits.certificates.view import CertificateView
from permits.certificates.words import moment_words, tr

TEMPLATES = Path(__file__).resolve().parent.parent.parent / "templates" / "certificates"
CACHE_NAME = "permits-holder-v1"


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def holder_script() -> str:
    """The page's one inline script (registers the service worker, keeps the screen on)."""
    return (TEMPLATES / "holder.js").read_text(encoding="utf-8").replace("{{CACHE}}", CACHE_NAME)


@lru_cache(maxsize=1)
def service_worker() -> str:
    """The service worker's source."""
    return (TEMPLATES / "holder-sw.js").read_text(encoding="utf-8").replace("{{CACHE}}", CACHE_NAME)


def content_security_policy() -> str:
    """The holder page's CSP: nothing from outside, only its own inline style and script."""
    digest = base64.b64encode(hashlib.sha256(holder_script().encode()).digest()).decode()
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"script-src 'sha256-{digest}'; connect-src 'self'; worker-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


def holder_html(view: CertificateView, *, token: str, now: datetime) -> str:
    """Render the holder page of `view` as seen at `now`."""
    qr = None
    if view.valid:
        matrix = qr_matrix(view.qr_text)
        qr = {"side": matrix.size + 2 * QUIET_ZONE, "path": qr_svg_path(matrix)}
    status_word = {"revoked": "REVOKED", "replaced": "REPLACED", "expired": "EXPIRED"}
    notes: list[str] = []
    if not view.valid:
        notes = list(view.each("This certificate must not be used for movement."))
        if view.replaced_by_serial:
            notes += view.each(
                "Replaced by the certificate {serial}.", serial=view.replaced_by_serial
            )
    return (
        _environment()
        .get_template("holder.html")
        .render(
            view=view,
            lang=view.languages[0],
            qr=qr,
            status_words=view.each(status_word[view.status]) if not view.valid else (),
            not_valid=view.each("NOT VALID"),
            notes=notes,
            checked=[
                tr(
                    lang,
                    "Checked with the issuer's server at {time}.",
                    time=moment_words(now, lang),
                )
                for lang in view.languages
            ],
            rendered_at=int(now.timestamp()),
            image_url=f"/h/{token}/certificate.png",
            script=holder_script(),
        )
    )


def not_found_html() -> str:
    """The page for a link that names no certificate."""
    return _environment().get_template("holder-missing.html").render()
