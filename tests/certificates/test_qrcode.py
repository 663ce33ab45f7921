"""The QR matrix: the same modules and mask as segno's own search (ISO 18004's penalty
rules), the penalty scored as segno scores it, and the mask choice being the cheapest."""

from __future__ import annotations

import random

import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from segno import encoder

from permits.certificates import qrcode
from permits.issuance.qr import ERROR_LEVEL

ALPHANUMERIC = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def _segno(text: str) -> segno.QRCode:
    return segno.make_qr(text, error=ERROR_LEVEL, boost_error=False, mode="alphanumeric")


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHANUMERIC, min_size=1, max_size=700))
def test_same_matrix_and_mask_as_segno(text: str) -> None:
    expected = _segno(text)
    ours = qrcode.qr_matrix.__wrapped__(text)
    assert ours.version == expected.version
    assert ours.mask == expected.mask
    assert ours.rows == tuple(bytes(row) for row in expected.matrix)


def test_penalty_of_every_mask_equals_segnos() -> None:
    rng = random.Random(7)
    for _ in range(12):
        text = "MP1:" + "".join(rng.choice(ALPHANUMERIC) for _ in range(rng.randint(20, 400)))
        version, unmasked = qrcode._unmasked(text)
        layout = qrcode._layout(version)
        size = layout.size
        length = size * (size + 1) - 1
        base = int.from_bytes(unmasked, "big") & layout.keep
        raw = base.to_bytes(length, "big")
        rows = [raw[i * (size + 1) : i * (size + 1) + size] for i in range(size)]
        base_t = int.from_bytes(b"\x00".join(bytes(c) for c in zip(*rows, strict=True)), "big")
        for mask in range(8):
            masked = (base ^ layout.patterns[mask]).to_bytes(length, "big")
            matrix = [
                bytearray(masked[i * (size + 1) : i * (size + 1) + size]) for i in range(size)
            ]
            expected = encoder.evaluate_mask(matrix, size, size)
            ours = qrcode._penalty(
                base ^ layout.patterns[mask], base_t ^ layout.patterns_t[mask], layout
            )
            assert ours == expected, (text, mask)


def test_cache_returns_the_same_object() -> None:
    text = "MP1:CACHE TEST 123"
    assert qrcode.qr_matrix(text) is qrcode.qr_matrix(text)


def test_svg_path_draws_every_dark_module() -> None:
    matrix = qrcode.qr_matrix("MP1:SVG")
    dark = sum(row.count(1) for row in matrix.rows)
    assert sum(length for _, _, length in matrix.dark_runs()) == dark
    assert qrcode.qr_svg_path(matrix).count("z") == len(matrix.dark_runs())
