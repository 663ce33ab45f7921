"""Rendering a permit's QR text as an image (ECC Q: readable when a corner is dirty or creased)."""

from __future__ import annotations

import io

import segno

ERROR_LEVEL = "q"


def make_qr(qr_text: str) -> segno.QRCode:
    """Return the QR code for `qr_text` at ECC level Q, alphanumeric mode, best mask."""
    return segno.make_qr(qr_text, error=ERROR_LEVEL, boost_error=False, mode="alphanumeric")


def qr_png(qr_text: str, *, scale: int = 8, border: int = 4) -> bytes:
    """Return a PNG of the QR code with a quiet zone of `border` modules."""
    out = io.BytesIO()
    make_qr(qr_text).save(out, kind="png", scale=scale, border=border)
    return out.getvalue()


def qr_svg(qr_text: str, *, scale: int = 4, border: int = 4) -> bytes:
    """Return an SVG of the QR code with a quiet zone of `border` modules."""
    out = io.BytesIO()
    make_qr(qr_text).save(out, kind="svg", scale=scale, border=border, xmldecl=False)
    return out.getvalue()
