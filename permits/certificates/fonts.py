"""The certificate fonts: DejaVu Sans (Georgian Mkhedruli and every Azerbaijani letter), from
the npm package `dejavu-fonts-ttf` that `make setup` installs. System fonts are never used.

A glyph missing from a TrueType font renders as a silent blank in reportlab, so every text
drawn goes through `printable`, which turns a character the font lacks into a visible U+FFFD
(the tests check that the font covers every character the labels and test data use).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from permits.errors import ServiceUnavailable

ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_DIR = ROOT / "node_modules" / "dejavu-fonts-ttf" / "ttf"
REPLACEMENT = "\ufffd"


@dataclass(frozen=True, slots=True)
class Face:
    """One font face: its reportlab name and its file name."""

    name: str
    file: str


REGULAR = Face("CertSans", "DejaVuSans.ttf")
BOLD = Face("CertSans-Bold", "DejaVuSans-Bold.ttf")
MONO = Face("CertMono-Bold", "DejaVuSansMono-Bold.ttf")
FACES = (REGULAR, BOLD, MONO)

_lock = threading.Lock()
_registered = False


def fonts_dir() -> Path:
    """Return the folder holding the TTF files (PERMITS_FONTS_DIR overrides the npm package)."""
    override = os.environ.get("PERMITS_FONTS_DIR")
    return Path(override) if override else DEFAULT_DIR


def font_path(face: Face) -> Path:
    """Return the TTF file of `face`; raise ServiceUnavailable when it is not installed."""
    path = fonts_dir() / face.file
    if not path.is_file():
        raise ServiceUnavailable(
            f"the certificate font {path} is missing: run `make setup` (npm package "
            "dejavu-fonts-ttf)",
            code="fonts_missing",
        )
    return path


def register_fonts() -> None:
    """Register the faces with reportlab once per process."""
    global _registered
    if _registered:
        return
    with _lock:
        if not _registered:
            for face in FACES:
                pdfmetrics.registerFont(TTFont(face.name, str(font_path(face))))
            _registered = True


@lru_cache(maxsize=8)
def coverage(face: Face) -> frozenset[int]:
    """Return the code points `face` has a glyph for (its character map)."""
    register_fonts()
    font = pdfmetrics.getFont(face.name)
    return frozenset(font.face.charToGlyph)


def printable(text: str, face: Face = REGULAR) -> str:
    """Return `text` with every character `face` cannot draw replaced by U+FFFD (visible);
    line breaks are kept."""
    cmap = coverage(face)
    if all(ord(ch) in cmap or ch == "\n" for ch in text):
        return text
    return "".join(ch if ord(ch) in cmap or ch == "\n" else REPLACEMENT for ch in text)


def width(text: str, face: Face, size: float) -> float:
    """Return the advance width of `text` in `face` at `size` (points or pixels)."""
    register_fonts()
    return float(pdfmetrics.stringWidth(text, face.name, size))


@lru_cache(maxsize=256)
def pillow_font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    """Return the Pillow font of `face` at `size` pixels (cached)."""
    return ImageFont.truetype(str(font_path(face)), size)
