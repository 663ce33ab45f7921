"""Reading rendered certificates back as a person and a scanner would: PDF pages rasterised
with pdfium, QR codes decoded with zxing-cpp (not our code), text extracted with pdfium."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image


def pdf_pages(pdf: bytes, *, dpi: int = 150) -> list[Image.Image]:
    """Rasterise every page of `pdf` at `dpi`."""
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72).to_pil() for page in document]
    finally:
        document.close()


def read_qr_texts(image: Image.Image) -> list[str]:
    """Every QR code zxing-cpp finds in `image`, as text."""
    return [
        result.text
        for result in zxingcpp.read_barcodes(image)
        if result.format == zxingcpp.BarcodeFormat.QRCode and result.valid
    ]


def png_image(png: bytes) -> Image.Image:
    """Open PNG bytes as an image."""
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


@dataclass(frozen=True)
class TextRun:
    """A run of text pdfium found on a page, with its box (points, origin bottom left)."""

    text: str
    left: float
    bottom: float
    right: float
    top: float


def pdf_text(pdf: bytes, page_index: int = 0) -> str:
    """All text of one page, as pdfium extracts it, runs of white space (line ends) as one."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[page_index]
        textpage = page.get_textpage()
        return " ".join(str(textpage.get_text_range()).split())
    finally:
        document.close()


def pdf_char_boxes(
    pdf: bytes, page_index: int = 0
) -> tuple[list[tuple[str, int, tuple[float, float, float, float]]], tuple[float, float]]:
    """Every visible character of a page with its index in the page's text and its box
    (left, bottom, right, top); and the page size."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[page_index]
        textpage = page.get_textpage()
        chars = []
        text = textpage.get_text_range()
        for index in range(textpage.count_chars()):
            ch = text[index] if index < len(text) else ""
            if not ch.strip():
                continue
            chars.append((ch, index, textpage.get_charbox(index)))
        return chars, (page.get_width(), page.get_height())
    finally:
        document.close()
