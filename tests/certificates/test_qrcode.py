"""The QR matrix: the same modules and mask as segno's own search (ISO 18004's penalty
rules), the penalty scored as segno scores it, and the mask choice being the cheapest."""

from __future__ import annotations

import random

import pytest
import segno
from hypothesis import given, settings
from hypothesis import strategies as st
from segno import consts, encoder

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


def _n3_of(matrix: list[bytearray]) -> int:
    """Our N3 over rows and columns of a square matrix, as _penalty calls it."""
    score = 0
    for lines in (matrix, [bytearray(col) for col in zip(*matrix, strict=True)]):
        padded = b"\x02" + b"\x02".join(bytes(line) for line in lines) + b"\x02"
        low_bits = int.from_bytes(b"\x01" * len(padded), "big")
        score += qrcode._n3(int.from_bytes(padded, "big"), low_bits)
    return score


# Pieces that make finder-like patterns, and chains of them 4 and 6 modules apart, common.
_PIECES = [b"\x01\x00\x01\x01\x01\x00\x01", b"\x00\x00\x00\x00", b"\x01", b"\x00", b"\x01\x01"]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=7, max_value=40), st.data())
def test_n3_counts_patterns_exactly_as_segno(size: int, data: st.DataObject) -> None:
    rows = []
    for _ in range(size):
        row = b"".join(data.draw(st.lists(st.sampled_from(_PIECES), min_size=size, max_size=size)))
        rows.append(bytearray(row[:size].ljust(size, b"\x00")))
    assert _n3_of(rows) == encoder.mask_scores(rows, size, size)[2]


def _segno_codewords(text: str) -> tuple[int, bytes]:
    """segno's own steps from text to data codewords (version, codewords)."""
    error = consts.ERROR_LEVEL_Q
    segments = encoder.prepare_data(text, consts.MODE_ALPHANUMERIC, None)
    version = encoder.find_version(segments, error, eci=False, micro=False)
    buff = encoder.Buffer()
    for segment in segments:
        encoder.write_segment(buff, segment, None, encoder.version_range(version), False)
    capacity: int = consts.SYMBOL_CAPACITY[version][error]  # type: ignore[index]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    bits = buff.getbits()
    count = capacity // 8
    return version, int("".join(map(str, bits[: 8 * count])), 2).to_bytes(count, "big")


def test_data_codewords_equal_segnos_at_every_length() -> None:
    # Every length up to version 26 at ECC Q: each version's boundaries, where the terminator
    # is cut short and the padding falls on a codeword boundary, come up.
    rng = random.Random(11)
    for length in range(1, 1100):
        text = "".join(rng.choice(ALPHANUMERIC) for _ in range(length))
        assert qrcode._data_codewords(text, consts.ERROR_LEVEL_Q) == _segno_codewords(text), length


def test_data_codewords_refuse_what_alphanumeric_mode_cannot_carry() -> None:
    with pytest.raises(ValueError, match="alphanumeric"):
        qrcode._data_codewords("mp1:lower case", consts.ERROR_LEVEL_Q)
    with pytest.raises(ValueError, match="too long"):
        qrcode._data_codewords("A" * 5000, consts.ERROR_LEVEL_Q)
