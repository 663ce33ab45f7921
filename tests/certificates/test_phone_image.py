"""The phone image's encoding: a valid permit's image is 4-bit grey (16 levels, a small file for
messaging apps), the PNG writer round-trips every mode it writes, and the QR modules are
scaled exactly as nearest-neighbour scaling would."""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from PIL import Image
from sqlmodel import Session

from permits.certificates import phone, service
from permits.certificates.qrcode import qr_matrix
from tests.certificates.readback import png_image, read_qr_texts


def _header(png: bytes) -> tuple[int, int, int, int]:
    """Width, height, bit depth and colour type from the PNG's IHDR chunk."""
    assert png[12:16] == b"IHDR"
    width, height, bits, colour_type = struct.unpack(">IIBB", png[16:26])
    return width, height, bits, colour_type


def _random_image(mode: str, size: tuple[int, int], top: int) -> Image.Image:
    rng = random.Random(7)
    channels = len(mode)
    data = bytes(rng.randrange(top) for _ in range(size[0] * size[1] * channels))
    return Image.frombytes(mode, size, data)


def test_valid_image_is_4_bit_grey_and_small(
    session: Session, issued: dict[str, dict[str, Any]], clock: Any
) -> None:
    permit = issued["doctor_visit"]
    view = service.certificate_view(session, caller=None, ref=permit["id"], now=clock())
    png = phone.phone_png(view)
    width, _height, bits, colour_type = _header(png)
    assert (width, bits, colour_type) == (1080, 4, 0)
    assert len(png) < 130_000  # 8-bit grey was about 165 KB, 4-bit is about 90 KB
    image = png_image(png)
    assert set(image.convert("L").tobytes()) <= {17 * level for level in range(16)}
    assert len(set(image.convert("L").tobytes())) > 8  # the letters' edges stay smooth
    assert read_qr_texts(image) == [permit["qr_text"]]


def test_image_of_a_permit_no_longer_valid_stays_in_colour(
    session: Session, issued: dict[str, dict[str, Any]], clock: Any
) -> None:
    permit = issued["medical_staff"]
    clock.advance(days=30)  # expired: not valid, so drawn in colour without its QR code
    view = service.certificate_view(session, caller=None, ref=permit["id"], now=clock())
    png = phone.phone_png(view)
    assert _header(png)[2:] == (8, 2)
    assert read_qr_texts(png_image(png)) == []


@pytest.mark.parametrize(
    ("mode", "grey_bits", "top"), [("L", 4, 16), ("L", 8, 256), ("RGB", 8, 256)]
)
def test_encode_png_round_trips(mode: str, grey_bits: int, top: int) -> None:
    image = _random_image(mode, (37, 11), top)
    decoded = png_image(phone.encode_png(image, grey_bits=grey_bits))
    scale = 17 if grey_bits == 4 else 1
    assert decoded.size == image.size
    assert decoded.convert(mode).tobytes() == bytes(v * scale for v in image.tobytes())


def test_encode_png_with_a_filter_column_drops_that_column() -> None:
    body = _random_image("L", (40, 9), 16)
    image = Image.new("L", (42, 9), 0)
    image.paste(body, (2, 0))
    decoded = png_image(phone.encode_png(image, grey_bits=4, filter_column=True))
    assert decoded.size == (40, 9)
    assert decoded.convert("L").tobytes() == bytes(v * 17 for v in body.tobytes())


@pytest.mark.parametrize(("dark", "light", "module"), [(0, 15, 7), (200, 3, 5), (0, 255, 1)])
def test_qr_modules_scale_like_nearest_neighbour(dark: int, light: int, module: int) -> None:
    matrix = qr_matrix("MP1:" + "7K3M9QXTR" * 12)
    scaled = phone._qr_image(matrix.rows, module, dark=dark, light=light)
    modules = Image.frombytes(
        "L", (matrix.size, matrix.size), b"".join(matrix.rows).translate(bytes([light, dark]) * 128)
    )
    side = matrix.size * module
    expected = modules.resize((side, side), Image.Resampling.NEAREST)
    assert scaled.tobytes() == expected.tobytes()
    with pytest.raises(ValueError, match="two different grey levels"):
        phone._qr_image(matrix.rows, module, dark=9, light=9)
