"""The phone image: a PNG about 1080 px wide to send through a messaging app and show at a
checkpoint. A big QR code, the control code, the plate, the persons, the time of validity and
the issuer, in the certificate's languages, sized to read on a 5-inch screen.

Valid permits are drawn in 16 grey levels and stored at 4 bits a pixel (the PNG encodes six
times faster than colour and the file is half the size of 8-bit grey; contrast is what
matters in sunlight, and 16 levels are plenty for the edges of letters); a permit that is
not active is drawn in colour, without its QR code, and says so in large type.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from zlib import crc32

from PIL import Image, ImageDraw

from permits.certificates.fonts import BOLD, REGULAR, Face, pillow_font
from permits.certificates.qrcode import QUIET_ZONE, qr_matrix
from permits.certificates.textfit import Fitted, fit
from permits.certificates.view import CertificateView

try:  # ISA-L's deflate is several times faster than zlib's at level 1, same format
    from isal.isal_zlib import compress as deflate
except ImportError:  # pragma: no cover - isal is a dependency; zlib is the fallback
    from zlib import compress as deflate

# Pillow returns each freed image block to the system and asks for a fresh one (page faults
# and zeroing) for the next image; keeping a few freed blocks for reuse makes a roster's
# images about a tenth faster, for a few megabytes held (one block is one image, ~3 MB here).
_KEEP_FREED_BLOCKS = 4
if Image.core.get_blocks_max() < _KEEP_FREED_BLOCKS:
    Image.core.set_blocks_max(_KEEP_FREED_BLOCKS)

WIDTH = 1080
PAD = 48
INNER = WIDTH - 2 * PAD
QR_MAX = WIDTH - 2 * 36  # the QR block with its quiet zone
WIDTH_SLACK = 0.97  # FreeType's hinted advances may run a little wider than the TTF metrics

# Grey levels for valid permits (0 black to 15 white: PNG scales them to 0-255 when it shows
# them), colours for the others.
GREY_BITS = 4
VALID_COLOURS = {"ink": 0, "muted": 5, "rule": 10, "bar": 2, "on_bar": 15, "paper": 15}
ALERT_COLOURS = {
    "ink": (17, 17, 17),
    "muted": (80, 80, 80),
    "rule": (170, 170, 170),
    "bar": (176, 0, 32),
    "on_bar": (255, 255, 255),
    "paper": (255, 255, 255),
}


@dataclass(frozen=True, slots=True)
class _Text:
    fitted: Fitted
    face: Face
    colour: str
    top: int
    align: str = "left"
    x: int = PAD
    width: int = INNER


class _Layout:
    """Collects texts and shapes top to bottom, then draws them on an image of the right size."""

    def __init__(self) -> None:
        self.y = 0
        self.texts: list[_Text] = []
        self.rects: list[tuple[tuple[int, int, int, int], str, int]] = []

    def text(
        self,
        text: str,
        *,
        face: Face = REGULAR,
        size: int,
        min_size: int,
        max_lines: int = 2,
        colour: str = "ink",
        align: str = "left",
        gap: int = 8,
        x: int = PAD,
        width: int = INNER,
    ) -> None:
        leading_factor = 1.2
        fitted = fit(
            text,
            face,
            box_width=width * WIDTH_SLACK,
            box_height=max_lines * size * leading_factor,
            size=size,
            min_size=min_size,
            line_factor=leading_factor,
            step=2,
        )
        fitted = Fitted(fitted.lines, int(fitted.size), round(fitted.leading), fitted.cut)
        self.texts.append(_Text(fitted, face, colour, self.y, align, x, width))
        self.y += int(fitted.height) + gap

    def rect(self, box: tuple[int, int, int, int], colour: str, outline: int = 0) -> None:
        self.rects.append((box, colour, outline))


def _words(view: CertificateView, message: str) -> str:
    return " / ".join(dict.fromkeys(view.each(message)))


def _layout(view: CertificateView) -> tuple[_Layout, tuple[int, int, int] | None]:
    """Lay the image out; return the layout and the QR block (left, top, module) if any."""
    lay = _Layout()
    # Header bar: what the permit is for.
    lay.y = 36
    lay.text(
        f"{view.label('Certificate')} · {view.label('Movement permit')}",
        size=30,
        min_size=22,
        max_lines=1,
        colour="on_bar",
    )
    for index, name in enumerate(dict.fromkeys(view.category_names)):
        lay.text(
            name,
            face=BOLD,
            size=60 if index == 0 else 46,
            min_size=32,
            colour="on_bar",
            gap=4,
        )
    lay.y += 28
    lay.rects.insert(0, ((0, 0, WIDTH, lay.y), "bar", 0))
    lay.y += 24
    qr_block = None
    if view.valid:
        matrix = qr_matrix(view.qr_text)
        module = QR_MAX // (matrix.size + 2 * QUIET_ZONE)
        side = module * (matrix.size + 2 * QUIET_ZONE)
        qr_block = ((WIDTH - side) // 2, lay.y, module)
        lay.y += side + 8
    else:
        top = lay.y
        lay.y += 40
        status = {"revoked": "REVOKED", "replaced": "REPLACED"}.get(view.status, "EXPIRED")
        for word in dict.fromkeys(view.each(status)):
            lay.text(word, face=BOLD, size=96, min_size=48, colour="bar", align="center")
        lay.text(
            _words(view, "NOT VALID"), face=BOLD, size=64, min_size=36, colour="bar", align="center"
        )
        lay.y += 12
        notes = list(view.each("This certificate must not be used for movement."))
        if view.replaced_by_serial:
            notes += view.each(
                "Replaced by the certificate {serial}.", serial=view.replaced_by_serial
            )
        lay.text(" ".join(notes), face=BOLD, size=40, min_size=28, max_lines=5, align="center")
        lay.y += 32
        lay.rect((PAD, top, WIDTH - PAD, lay.y), "bar", outline=10)
        lay.y += 24
    lay.text(
        view.label("Control code"), size=30, min_size=22, colour="muted", align="center", gap=0
    )
    lay.text(view.control_code, face=BOLD, size=92, min_size=60, max_lines=1, align="center")
    lay.y += 12
    # The plate, as on the car.
    if view.plate:
        top = lay.y
        lay.y += 22
        inside_x, inside_width = PAD + 84, INNER - 168
        lay.text(
            view.plate,
            face=BOLD,
            size=100,
            min_size=48,
            max_lines=1,
            align="center",
            gap=4,
            x=inside_x,
            width=inside_width,
        )
        vehicle = " · ".join(
            part for part in (" / ".join(view.vehicle_kind or ()), view.make_model or "") if part
        )
        if view.plate_freeform:
            vehicle = f"{vehicle} · {view.label('free-form plate')}"
        lay.text(
            vehicle,
            size=34,
            min_size=24,
            colour="muted",
            align="center",
            x=inside_x,
            width=inside_width,
        )
        lay.y += 12
        lay.rect((PAD + 60, top, WIDTH - PAD - 60, lay.y), "ink", outline=6)
        lay.y += 28
    # Persons.
    for person in view.persons:
        lay.text(" / ".join(person.role), size=32, min_size=24, max_lines=1, colour="muted", gap=0)
        lay.text(person.name, face=BOLD, size=56, min_size=34, gap=0)
        document = person.document
        if person.foreign_document:
            document = f"{document} · {view.label('Foreign document')}"
        lay.text(f"{view.label('PN')}: {document}", face=BOLD, size=44, min_size=26, gap=18)
    lay.rects.append(((PAD, lay.y, WIDTH - PAD, lay.y + 3), "rule", 0))
    lay.y += 20
    # When.
    lay.text(view.label("Time of validity"), size=30, min_size=22, colour="muted", gap=2)
    for line in view.schedule:
        lay.text(line, face=BOLD, size=42, min_size=28, max_lines=3, gap=10)
    lay.rects.append(((PAD, lay.y, WIDTH - PAD, lay.y + 3), "rule", 0))
    lay.y += 20
    # Who issued it.
    lay.text(view.label("Issued by"), size=30, min_size=22, colour="muted", gap=2)
    for name in dict.fromkeys(view.issuer_names):
        lay.text(name, face=BOLD, size=36, min_size=24, gap=4)
    lay.text(f"{view.label('Serial number')}: {view.serial}", size=32, min_size=22, gap=18)
    for sentence in dict.fromkeys(
        view.each("Digitally signed by the issuer: check the QR code with the police app.")
    ):
        lay.text(sentence, size=28, min_size=22, colour="muted", gap=4)
    lay.y += 36
    return lay, qr_block


def _render(text: str, face: Face, size: int) -> tuple[Image.Image, int, int]:
    """The text rendered whole by FreeType, as an alpha mask, and its offset from the
    line's top left corner."""
    font = pillow_font(face, size)
    left, top, right, bottom = (int(v) for v in font.getbbox(text))
    mask = Image.new("L", (max(1, right - left), max(1, bottom - top)), 0)
    ImageDraw.Draw(mask).text((-left, -top), text, font=font, fill=255)
    return mask, left, top


@dataclass(frozen=True, slots=True)
class _Glyph:
    mask: Image.Image | None  # None for a blank (a space)
    left: int  # the mask's offset from the pen position and the line's top
    top: int
    advance: float
    width: int = 0  # the mask's size (read once: Pillow's size properties cost a call each)
    height: int = 0


@lru_cache(maxsize=8192)
def _glyph(char: str, file: str, size: int) -> _Glyph:
    face = _FACES[file]
    left, top, right, bottom = pillow_font(face, size).getbbox(char)
    if right <= left or bottom <= top:
        return _Glyph(None, 0, 0, pillow_font(face, size).getlength(char))
    mask, left, top = _render(char, face, size)
    advance = pillow_font(face, size).getlength(char)
    return _Glyph(mask, left, top, advance, mask.width, mask.height)


@lru_cache(maxsize=16384)
def _kerning(pair: str, file: str, size: int) -> float:
    font = pillow_font(_FACES[file], size)
    return font.getlength(pair) - font.getlength(pair[0]) - font.getlength(pair[1])


_FACES = {face.file: face for face in (REGULAR, BOLD)}


def _composable(text: str) -> bool:
    """True when `text` can be set glyph by glyph: Latin, Georgian, digits and punctuation,
    no combining marks (those need the shaping engine)."""
    return all(
        point < 0x300 or 0x10A0 <= point <= 0x10FF or 0x1C90 <= point <= 0x1CBF
        for point in map(ord, text)
    )


@lru_cache(maxsize=512)
def _text_mask(text: str, face: Face, size: int) -> tuple[Image.Image, int, int]:
    """One line of text as an alpha mask, and its offset from the line's top left corner.

    Cached per line: labels, category names, issuer names and a roster's shared schedule
    repeat from one image to the next. Names, personal numbers, plates and codes do not,
    and FreeType rendering a whole line at these sizes is the costliest step of the image:
    such lines are set from glyphs rendered once per face and size, placed with the font's
    advances and kerning. Text with combining marks, or in a script that needs shaping, is
    rendered whole.
    """
    if face.file not in _FACES or not _composable(text):
        return _render(text, face, size)
    pieces = []
    pen = 0.0
    previous = ""
    left = top = 1 << 30
    right = bottom = -(1 << 30)
    for char in text:
        if previous:
            pen += _kerning(previous + char, face.file, size)
        glyph = _glyph(char, face.file, size)
        if glyph.mask is not None:
            x = round(pen) + glyph.left
            pieces.append((glyph.mask.im, x, glyph.top, glyph.width, glyph.height))
            left, right = min(left, x), max(right, x + glyph.width)
            top, bottom = min(top, glyph.top), max(bottom, glyph.top + glyph.height)
        pen += glyph.advance
        previous = char
    if not pieces:
        return _render(text, face, size)
    line = Image.new("L", (right - left, bottom - top), 0)
    core = line.im  # the pixels: Image.paste's checks cost more than the paste here
    for mask, x, y, width, height in pieces:
        box = (x - left, y - top, x - left + width, y - top + height)
        core.paste(255, box, mask)  # "over": overlapping glyphs both show
    return line, left, top


def _qr_image(rows: tuple[bytes, ...], module: int, *, dark: int, light: int) -> Image.Image:
    """The QR modules (no quiet zone) at `module` pixels each, as an L image.

    Built as bytes: each row's modules become their grey levels, each level a run of
    `module` bytes (two C-speed replaces), each row repeated `module` times. Pillow's
    nearest-neighbour resize computes every pixel's source and costs several times more.
    `dark` and `light` must differ.
    """
    if dark == light:
        raise ValueError("a QR code needs two different grey levels")
    light_byte, dark_byte = bytes([light]), bytes([dark])
    levels = light_byte + dark_byte + bytes(254)  # module 0 is light, 1 is dark
    lines = [
        row.translate(levels)
        .replace(light_byte, light_byte * module)  # runs of the light level only ...
        .replace(dark_byte, dark_byte * module)  # ... so this finds single dark bytes
        for row in rows
    ]
    side = len(rows) * module
    return Image.frombytes("L", (side, side), b"".join([ln for ln in lines for _ in range(module)]))


def _draw(view: CertificateView) -> tuple[Image.Image, int]:
    """Draw the image; return it and its left margin (the pixels of a column of filter
    bytes, see `encode_png`, or 0)."""
    lay, qr_block = _layout(view)
    colours: dict[str, int] | dict[str, tuple[int, int, int]]
    if view.valid:
        colours = VALID_COLOURS
        margin = 8 // GREY_BITS  # one byte of the packed row
        image = Image.new("L", (WIDTH + margin, lay.y), colours["paper"])
        image.paste(0, (0, 0, margin, lay.y))
    else:
        colours = ALERT_COLOURS
        margin = 0
        image = Image.new("RGB", (WIDTH, lay.y), colours["paper"])
    draw = ImageDraw.Draw(image)
    for (x0, y0, x1, y1), colour, outline in lay.rects:
        box = (x0 + margin, y0, x1 + margin - 1, y1)
        if outline:
            draw.rectangle(box, outline=colours[colour], width=outline)
        else:
            draw.rectangle(box, fill=colours[colour])
    if qr_block is not None:
        left, top, module = qr_block
        scaled = _qr_image(
            qr_matrix(view.qr_text).rows,
            module,
            dark=VALID_COLOURS["ink"],  # only a valid permit's image has a QR code
            light=VALID_COLOURS["paper"],
        )
        image.paste(scaled, (margin + left + QUIET_ZONE * module, top + QUIET_ZONE * module))
    core = image.im  # as in `_text_mask`: the boxes are computed here, no checks needed
    for item in lay.texts:
        y = item.top
        for line in item.fitted.lines:
            mask, dx, dy = _text_mask(line, item.face, int(item.fitted.size))
            width, height = mask.size
            x = item.x + margin + dx
            if item.align == "center":
                x += (item.width - (width + dx)) // 2
            core.paste(colours[item.colour], (x, y + dy, x + width, y + dy + height), mask.im)
            y += int(item.fitted.leading)
    return image, margin


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc32(kind + data))


def encode_png(image: Image.Image, *, grey_bits: int = 8, filter_column: bool = False) -> bytes:
    """Encode an L or RGB image as PNG: no row filter and fast deflate (ISA-L when installed).

    Pillow's encoder tries every row filter, which costs more than all the drawing here;
    flat areas and text compress well without one. An L image whose values are below 16 can
    be stored with `grey_bits=4`, two pixels a byte. With `filter_column`, the L image's
    first byte of each packed row (its first 8 // grey_bits pixels) is zero and stands for
    the rows' filter bytes (no copy needed).
    """
    if image.mode == "L" and grey_bits == 4:
        colour_type, bits, raw_mode = 0, 4, "L;4"
    else:
        colour_type, bits, raw_mode = {"L": (0, 8, "L"), "RGB": (2, 8, "RGB")}[image.mode]
    width, height = image.size
    raw = image.tobytes("raw", raw_mode)
    if filter_column:
        width -= 8 // bits
        rows = raw
    else:
        stride = len(raw) // height
        rows = b"".join(b"\x00" + raw[i * stride : (i + 1) * stride] for i in range(height))
    header = struct.pack(">IIBBBBB", width, height, bits, colour_type, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", deflate(rows, 1)),
            _chunk(b"IEND", b""),
        )
    )


def phone_png(view: CertificateView) -> bytes:
    """Return the phone image of the certificate as PNG bytes."""
    image, margin = _draw(view)
    if margin:  # a valid permit's grey image
        return encode_png(image, grey_bits=GREY_BITS, filter_column=True)
    return encode_png(image)


def phone_pngs(views: Iterable[CertificateView]) -> Iterable[tuple[CertificateView, bytes]]:
    """Yield each view with its phone image, one at a time (for a ZIP of many)."""
    for view in views:
        yield view, phone_png(view)
