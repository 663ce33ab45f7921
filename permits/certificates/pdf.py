"""The printed certificate: A4, one permit a page, labels in Georgian and Azerbaijani side by
side (English too when asked), drawn straight onto a reportlab canvas.

Every text goes into a box of fixed size through `textfit.fit` (wrap, shrink, and at worst
cut with an ellipsis), and the boxes are laid out so that the longest permit the policy
allows (eight persons) still fits the page: nothing overlaps or runs off the page.
A permit that is not active gets no QR code and says so in large type.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from permits.certificates.fonts import BOLD, REGULAR, Face, register_fonts
from permits.certificates.qrcode import QUIET_ZONE, qr_matrix
from permits.certificates.textfit import Fitted, fit
from permits.certificates.view import CertificateView
from permits.certificates.words import tr

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 14 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_BLOCK = 56 * mm  # the QR code with its quiet zone: the symbol itself is always >= 40 mm
ASCENT, DESCENT = 0.93, 0.24  # DejaVu Sans, in em

INK = HexColor("#111111")
MUTED = HexColor("#4a4a4a")
RULE = HexColor("#9aa3ad")
BAR = HexColor("#e8edf3")
ACCENT = HexColor("#1d3557")
ALERT = HexColor("#b00020")


@dataclass
class Placed:
    """Where text was drawn, for the layout tests: (x0, y0, x1, y1) in points, and the box."""

    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)


class _Page:
    """Drawing helpers on one page; y is measured from the top of the page."""

    def __init__(self, canvas: Canvas, placed: Placed | None) -> None:
        self.c = canvas
        self.placed = placed

    def text(
        self,
        text: str,
        *,
        x: float,
        top: float,
        width: float,
        height: float,
        face: Face = REGULAR,
        size: float = 10,
        min_size: float = 6,
        color: Color = INK,
        align: str = "left",
    ) -> Fitted:
        fitted = fit(text, face, box_width=width, box_height=height, size=size, min_size=min_size)
        self.c.setFont(face.name, fitted.size)
        self.c.setFillColor(color)
        baseline = PAGE_HEIGHT - top - ASCENT * fitted.size
        for line in fitted.lines:
            if align == "center":
                self.c.drawCentredString(x + width / 2, baseline, line)
            elif align == "right":
                self.c.drawRightString(x + width, baseline, line)
            else:
                self.c.drawString(x, baseline, line)
            baseline -= fitted.leading
        if self.placed is not None:
            self.placed.boxes.append((x, PAGE_HEIGHT - top - height, x + width, PAGE_HEIGHT - top))
        return fitted

    def bar(self, title: str, *, top: float, height: float = 5.2 * mm) -> float:
        self.c.setFillColor(BAR)
        self.c.rect(MARGIN, PAGE_HEIGHT - top - height, CONTENT_WIDTH, height, stroke=0, fill=1)
        self.text(
            title,
            x=MARGIN + 2 * mm,
            top=top + 1.1 * mm,
            width=CONTENT_WIDTH - 4 * mm,
            height=height - 1.4 * mm,
            face=BOLD,
            size=8,
            min_size=5.5,
            color=ACCENT,
        )
        return top + height

    def labelled(
        self,
        label: str,
        value: str,
        *,
        x: float,
        top: float,
        width: float,
        height: float,
        face: Face = REGULAR,
        size: float = 10.5,
        min_size: float = 6.5,
    ) -> None:
        label_height = 6.5 * mm
        self.text(
            label, x=x, top=top, width=width, height=label_height, size=6.8, min_size=5, color=MUTED
        )
        self.text(
            value or "—",
            x=x,
            top=top + label_height,
            width=width,
            height=height - label_height,
            face=face,
            size=size,
            min_size=min_size,
        )

    def hline(self, top: float, x0: float = MARGIN, x1: float = MARGIN + CONTENT_WIDTH) -> None:
        self.c.setStrokeColor(RULE)
        self.c.setLineWidth(0.5)
        self.c.line(x0, PAGE_HEIGHT - top, x1, PAGE_HEIGHT - top)


def _draw_qr(c: Canvas, qr_text: str, *, x: float, top: float, block: float) -> None:
    matrix = qr_matrix(qr_text)
    module = block / (matrix.size + 2 * QUIET_ZONE)
    bottom = PAGE_HEIGHT - top - block
    c.setFillColor(white)
    c.rect(x, bottom, block, block, stroke=0, fill=1)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.4)
    c.rect(x, bottom, block, block, stroke=1, fill=0)
    # One path in module units: a rectangle per horizontal run of dark modules, in a
    # coordinate system whose origin is the symbol's top left corner and whose y runs down.
    origin_x = x + QUIET_ZONE * module
    origin_y = PAGE_HEIGHT - top - QUIET_ZONE * module
    runs = " ".join(f"{j} {i} {n} 1 re" for i, j, n in matrix.dark_runs())
    c.saveState()
    c.transform(module, 0, 0, -module, origin_x, origin_y)
    c.setFillColor(HexColor("#000000"))
    c.addLiteral(f"{runs} f")
    c.restoreState()


def _status_words(view: CertificateView) -> tuple[str, ...]:
    word = {"revoked": "REVOKED", "replaced": "REPLACED"}.get(view.status, "EXPIRED")
    return tuple(f"{a} — {b}" for a, b in zip(view.each(word), view.each("NOT VALID"), strict=True))


def _header(page: _Page, view: CertificateView) -> float:
    """Issuer, title, category, serial on the left; the QR code and control code on the right."""
    c = page.c
    qr_x = MARGIN + CONTENT_WIDTH - QR_BLOCK
    left_width = CONTENT_WIDTH - QR_BLOCK - 6 * mm
    top = MARGIN
    if view.valid:
        _draw_qr(c, view.qr_text, x=qr_x, top=top, block=QR_BLOCK)
    else:
        c.setStrokeColor(ALERT)
        c.setLineWidth(2.5)
        bottom = PAGE_HEIGHT - top - QR_BLOCK
        c.rect(qr_x, bottom, QR_BLOCK, QR_BLOCK, stroke=1, fill=0)
        page.text(
            "\n".join(_status_words(view)),
            x=qr_x + 3 * mm,
            top=top + 14 * mm,
            width=QR_BLOCK - 6 * mm,
            height=QR_BLOCK - 28 * mm,
            face=BOLD,
            size=11,
            min_size=6,
            color=ALERT,
            align="center",
        )
    page.text(
        view.label("Control code"),
        x=qr_x,
        top=top + QR_BLOCK + 1.5 * mm,
        width=QR_BLOCK,
        height=3.6 * mm,
        size=6.8,
        min_size=5,
        color=MUTED,
        align="center",
    )
    page.text(
        view.control_code,
        x=qr_x,
        top=top + QR_BLOCK + 5.4 * mm,
        width=QR_BLOCK,
        height=7 * mm,
        face=BOLD,
        size=17,
        min_size=10,
        align="center",
    )
    # Issuer.
    names = list(dict.fromkeys(view.issuer_names))
    name_height = 8.4 * mm if len(names) < 3 else 6.8 * mm
    page.text(
        view.label("Issued by"), x=MARGIN, top=top, width=left_width, height=3.4 * mm, size=6.8
    )
    y = top + 3.6 * mm
    for index, name in enumerate(names):
        page.text(
            name,
            x=MARGIN,
            top=y,
            width=left_width,
            height=name_height,
            face=BOLD,
            size=10.5 if index == 0 else 9.5,
            min_size=6,
        )
        y += name_height + 0.3 * mm
    place = " · ".join(p for p in (view.issuer_address, view.issuer_municipality) if p)
    page.text(place, x=MARGIN, top=y, width=left_width, height=5.6 * mm, size=8.5, min_size=5.5)
    y += 6 * mm
    page.hline(y, MARGIN, MARGIN + left_width)
    y += 1.5 * mm
    # Title and category.
    title = f"{view.label('Certificate')} · {view.label('Movement permit')}"
    page.text(
        title,
        x=MARGIN,
        top=y,
        width=left_width,
        height=4.4 * mm,
        size=9,
        min_size=5.5,
        color=ACCENT,
    )
    y += 4.8 * mm
    categories = list(dict.fromkeys(view.category_names))
    for index, name in enumerate(categories):
        height = 10 * mm if index == 0 else 7.4 * mm
        page.text(
            name,
            x=MARGIN,
            top=y,
            width=left_width,
            height=height,
            face=BOLD,
            size=17 if index == 0 else 12.5,
            min_size=7,
            color=ACCENT,
        )
        y += height + 0.3 * mm
    y += 0.7 * mm
    half = left_width / 2
    page.labelled(
        view.label("Serial number"),
        view.serial,
        x=MARGIN,
        top=y,
        width=half - 2 * mm,
        height=12 * mm,
        face=BOLD,
        size=10.5,
    )
    page.labelled(
        view.label("Issued on"),
        " / ".join(dict.fromkeys(view.issued_on)),
        x=MARGIN + half,
        top=y,
        width=half,
        height=12 * mm,
        size=8.5,
    )
    return max(y + 12.5 * mm, top + QR_BLOCK + 13 * mm) + 1 * mm


BANNER_HEIGHT = 22 * mm
FOOTER_HEIGHT = 24 * mm
CELL = 13 * mm
EXTRA_CELL = 11 * mm
SCHEDULE_LINE = 7.4 * mm
PERSONS_HEAD = 5.2 * mm + 7 * mm
ROW_MAX, ROW_MIN = 9.4 * mm, 6.4 * mm
RECEIPT_BOX = 29 * mm
DELIVERY_HEIGHT = 15 * mm + RECEIPT_BOX + 2 * mm


def _vehicle_route_height(view: CertificateView) -> float:
    extras = bool(view.route_note or view.reference_document)
    return (
        5.2 * mm
        + 1 * mm
        + 2 * (CELL + 0.5 * mm)
        + (EXTRA_CELL + 1.5 * mm if extras else 0)
        + 1 * mm
    )


def _schedule_height(view: CertificateView) -> float:
    return 5.2 * mm + 1.2 * mm + len(view.schedule) * (SCHEDULE_LINE + 0.2 * mm) + 1 * mm


def _status_banner(page: _Page, view: CertificateView, top: float) -> float:
    height = BANNER_HEIGHT
    c = page.c
    c.setFillColor(ALERT)
    c.rect(MARGIN, PAGE_HEIGHT - top - height, CONTENT_WIDTH, height, stroke=0, fill=1)
    words = _status_words(view)
    page.text(
        "   ".join(words[:2]) + ("\n" + words[2] if len(words) > 2 else ""),
        x=MARGIN + 3 * mm,
        top=top + 1.5 * mm,
        width=CONTENT_WIDTH - 6 * mm,
        height=12 * mm,
        face=BOLD,
        size=20,
        min_size=10,
        color=white,
        align="center",
    )
    notes = list(view.each("This certificate must not be used for movement."))
    if view.replaced_by_serial:
        notes += view.each("Replaced by the certificate {serial}.", serial=view.replaced_by_serial)
    page.text(
        " ".join(notes),
        x=MARGIN + 3 * mm,
        top=top + 14 * mm,
        width=CONTENT_WIDTH - 6 * mm,
        height=7 * mm,
        face=BOLD,
        size=9,
        min_size=6,
        color=white,
        align="center",
    )
    return top + height + 2 * mm


def _persons(page: _Page, view: CertificateView, top: float, row_height: float) -> float:
    y = page.bar(view.label("Persons"), top=top)
    with_position = any(p.position for p in view.persons)
    widths = [0.22, 0.38, 0.2, 0.2] if with_position else [0.26, 0.46, 0.28]
    labels = ["Role", "First name, last name", "Personal number", "Position held"]
    xs = [MARGIN]
    for share in widths[:-1]:
        xs.append(xs[-1] + share * CONTENT_WIDTH)
    for x, share, message in zip(xs, widths, labels, strict=False):
        page.text(
            view.label(message),
            x=x + 1 * mm,
            top=y + 0.8 * mm,
            width=share * CONTENT_WIDTH - 2 * mm,
            height=5.8 * mm,
            size=6.8,
            min_size=5,
            color=MUTED,
        )
    y += 7 * mm
    for person in view.persons:
        page.hline(y)
        document = person.document
        if person.foreign_document:
            document = f"{document} ({view.label('Foreign document')})"
        cells = [
            (" / ".join(person.role), REGULAR, 9.0),
            (person.name, BOLD, 11.0),
            (document, BOLD, 11.0),
            (person.position or "", REGULAR, 9.0),
        ]
        for x, share, (text, face, size) in zip(xs, widths, cells, strict=False):
            page.text(
                text,
                x=x + 1 * mm,
                top=y + 0.8 * mm,
                width=share * CONTENT_WIDTH - 2 * mm,
                height=row_height - 1.2 * mm,
                face=face,
                size=size,
                min_size=6,
            )
        y += row_height
    return y + 0.5 * mm


def _vehicle_and_route(page: _Page, view: CertificateView, top: float) -> float:
    y = page.bar(f"{view.label('Vehicle')}  ·  {view.label('Route')}", top=top)
    y += 1 * mm
    third = CONTENT_WIDTH / 3
    plate = view.plate or "—"
    if view.plate and view.plate_freeform:
        plate = f"{plate} ({view.label('free-form plate')})"
    page.labelled(
        view.label("Vehicle"),
        " / ".join(view.vehicle_kind or ()),
        x=MARGIN,
        top=y,
        width=third - 3 * mm,
        height=CELL,
        size=9.5,
    )
    page.labelled(
        view.label("Make / model"),
        view.make_model or "—",
        x=MARGIN + third,
        top=y,
        width=third - 3 * mm,
        height=CELL,
        size=10.5,
    )
    page.labelled(
        view.label("State registration plate"),
        plate,
        x=MARGIN + 2 * third,
        top=y,
        width=third,
        height=CELL,
        face=BOLD,
        size=16,
        min_size=8,
    )
    y += CELL + 0.5 * mm
    page.hline(y)
    y += 1 * mm
    half = CONTENT_WIDTH / 2
    page.labelled(
        view.label("From"),
        view.route_from or "—",
        x=MARGIN,
        top=y,
        width=half - 3 * mm,
        height=CELL,
        size=9.5,
    )
    page.labelled(
        view.label("To"),
        view.route_to or "—",
        x=MARGIN + half,
        top=y,
        width=half,
        height=CELL,
        size=9.5,
    )
    y += CELL + 0.5 * mm
    extras = []
    if view.route_note:
        extras.append((view.label("Note"), view.route_note))
    if view.reference_document:
        extras.append((view.label("Reference document"), view.reference_document))
    if extras:
        page.hline(y)
        y += 1 * mm
        for index, (label, value) in enumerate(extras):
            page.labelled(
                label,
                value,
                x=MARGIN + index * half,
                top=y,
                width=half - 3 * mm,
                height=EXTRA_CELL,
                size=9.5,
            )
        y += EXTRA_CELL + 0.5 * mm
    return y + 1 * mm


def _schedule(page: _Page, view: CertificateView, top: float) -> float:
    y = page.bar(view.label("Time of validity"), top=top) + 1.2 * mm
    for line in view.schedule:
        page.text(
            line,
            x=MARGIN + 1 * mm,
            top=y,
            width=CONTENT_WIDTH - 2 * mm,
            height=SCHEDULE_LINE,
            face=BOLD,
            size=11,
            min_size=6.5,
        )
        y += SCHEDULE_LINE + 0.2 * mm
    return y + 1 * mm


def _delivery(page: _Page, view: CertificateView, top: float) -> float:
    half = CONTENT_WIDTH / 2
    y = top
    page.labelled(
        view.label("Items for the patient"),
        view.beneficiary or "—",
        x=MARGIN,
        top=y,
        width=half - 3 * mm,
        height=14 * mm,
        size=10,
    )
    page.labelled(
        view.label("Head of the institution"),
        view.head_name or "—",
        x=MARGIN + half,
        top=y,
        width=half,
        height=14 * mm,
        face=BOLD,
        size=10.5,
    )
    y += 15 * mm
    box_height = RECEIPT_BOX
    c = page.c
    c.setStrokeColor(ACCENT)
    c.setLineWidth(0.8)
    c.rect(MARGIN, PAGE_HEIGHT - y - box_height, CONTENT_WIDTH, box_height, stroke=1, fill=0)
    page.text(
        view.label("Receipt of the items by the clinic"),
        x=MARGIN + 2 * mm,
        top=y + 1.5 * mm,
        width=CONTENT_WIDTH - 4 * mm,
        height=5 * mm,
        face=BOLD,
        size=9,
        min_size=6,
        color=ACCENT,
    )
    inner = y + 8 * mm
    if view.receipt:
        page.text(
            "\n".join(view.receipt),
            x=MARGIN + 2 * mm,
            top=inner,
            width=CONTENT_WIDTH - 4 * mm,
            height=box_height - 10 * mm,
            face=BOLD,
            size=10,
            min_size=6,
        )
    else:
        widths = [0.45, 0.3, 0.25]
        x = MARGIN + 2 * mm
        for share, message in zip(
            widths,
            ["Received by (first name, last name)", "Date and hour", "Signature"],
            strict=True,
        ):
            w = share * (CONTENT_WIDTH - 4 * mm) - 3 * mm
            page.hline(inner + 14 * mm, x, x + w)
            page.text(
                view.label(message),
                x=x,
                top=inner + 15 * mm,
                width=w,
                height=6.5 * mm,
                size=6.8,
                min_size=5,
                color=MUTED,
            )
            x += w + 3 * mm
    return y + box_height + 2 * mm


def _footer(page: _Page, view: CertificateView) -> None:
    top = PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT
    page.hline(top)
    issuers = dict(zip(view.languages, view.issuer_names, strict=True))
    lines = []
    for language in view.languages:
        lines.append(
            tr(
                language,
                "This certificate bears the digital signature of the issuer, {issuer}, which "
                "replaces the seal and the signature.",
                issuer=issuers[language],
            )
            + " "
            + tr(
                language,
                "To check it, scan the QR code with the police verification app, or type the "
                "control code {code} into it.",
                code=view.control_code,
            )
        )
    page.text(
        "\n".join(lines),
        x=MARGIN,
        top=top + 1.5 * mm,
        width=CONTENT_WIDTH,
        height=FOOTER_HEIGHT - 2 * mm,
        size=7.4,
        min_size=5,
        color=MUTED,
    )


def _watermark(c: Canvas, view: CertificateView) -> None:
    c.saveState()
    c.setFillColor(ALERT)
    c.setFillAlpha(0.12)
    c.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2 - 40 * mm)
    c.rotate(35)
    c.setFont(BOLD.name, 44)
    word = view.each("NOT VALID")
    c.drawCentredString(0, 20, word[0])
    c.drawCentredString(0, -34, word[1])
    c.restoreState()


def draw_certificate(canvas: Canvas, view: CertificateView, placed: Placed | None = None) -> None:
    """Draw one certificate on the canvas's current page and end the page."""
    page = _Page(canvas, placed)
    y = _header(page, view)
    if not view.valid:
        y = _status_banner(page, view, y)
    below = _vehicle_route_height(view) + _schedule_height(view)
    if view.receipt_section:
        below += DELIVERY_HEIGHT
    room = PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT - 1 * mm - y - PERSONS_HEAD - below
    rows = max(1, len(view.persons))
    row_height = max(ROW_MIN, min(ROW_MAX, room / rows))
    y = _persons(page, view, y, row_height)
    y = _vehicle_and_route(page, view, y)
    y = _schedule(page, view, y)
    if view.receipt_section:
        _delivery(page, view, y)
    _footer(page, view)
    if not view.valid:
        _watermark(canvas, view)
    canvas.showPage()


def _canvas(out: io.BytesIO, title: str, author: str) -> Canvas:
    register_fonts()
    canvas = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("permits")
    return canvas


def certificate_pdf(view: CertificateView, placed: Placed | None = None) -> bytes:
    """Return a one-page A4 PDF of the certificate."""
    out = io.BytesIO()
    canvas = _canvas(out, view.serial, view.issuer_names[0])
    draw_certificate(canvas, view, placed)
    canvas.save()
    return out.getvalue()


def batch_pdf(views: Iterable[CertificateView], *, title: str = "certificates") -> bytes:
    """Return one PDF holding every certificate of `views`, one a page, in order."""
    out = io.BytesIO()
    canvas = _canvas(out, title, "permits")
    for view in views:
        draw_certificate(canvas, view)
    canvas.save()
    return out.getvalue()
