"""The permit's QR code as a matrix of modules, built fast with the standard's own mask choice.

segno spends about three quarters of its time choosing the data mask: it applies each of
the eight masks module by module and scores each result in pure Python (ISO/IEC 18004
7.8.3). Here segno's own encoder steps place the codewords, and the eight candidates are
scored on whole rows at once (each row is one Python integer holding one byte per module),
which picks the
same mask segno would pick (the tests compare the matrices over many inputs) in a fraction
of the time. The result is cached per QR text: a permit's QR text never changes, and the
PDF, the phone image and the holder page of one permit draw the same code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from segno import consts, encoder

QUIET_ZONE = 4
"""Modules of light margin the standard requires around a QR code."""

_N1_RUN = re.compile(rb"\x00{5,}|\x01{5,}")
_N3_PATTERN = b"\x01\x00\x01\x01\x01\x00\x01"


@dataclass(frozen=True, slots=True)
class QrMatrix:
    """A QR code's modules: `rows[i][j]` is 1 for a dark module (no quiet zone included)."""

    version: int
    mask: int
    rows: tuple[bytes, ...]

    @property
    def size(self) -> int:
        """Modules per side, without the quiet zone."""
        return len(self.rows)

    def dark_runs(self) -> list[tuple[int, int, int]]:
        """Return (row, first column, length) for every horizontal run of dark modules."""
        runs = []
        for i, row in enumerate(self.rows):
            for match in _DARK_RUN.finditer(row):
                runs.append((i, match.start(), match.end() - match.start()))
        return runs


_DARK_RUN = re.compile(rb"\x01+")


@dataclass(frozen=True, slots=True)
class _Layout:
    """Per-version constants, as integers holding one byte per module, rows joined by a 0x02
    separator byte (so runs and patterns never continue from one row into the next)."""

    size: int
    keep: int  # 1 except on the format and version areas (light while the masks are scored)
    ones: int  # 1 on every module, 0 on the separators
    separators: int  # 0x02 on the separators
    patterns: tuple[int, ...]  # per mask: 1 where the mask flips a module, row by row
    patterns_t: tuple[int, ...]  # the same, column by column


def _joined(lines: list[bytes] | list[bytearray]) -> bytes:
    return b"\x00".join(bytes(line) for line in lines)


def _int(data: bytes) -> int:
    return int.from_bytes(data, "big")


@lru_cache(maxsize=41)
def _layout(version: int) -> _Layout:
    size = encoder.calc_matrix_size(version)
    function = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(function, size, size)
    encoder.add_alignment_patterns(function, size, size)
    function[-8][8] = 0x1
    reserved = encoder.make_matrix(size, size, reserve_regions=True)
    plain = encoder.make_matrix(size, size, reserve_regions=False)
    keep = [
        bytes(0 if r == 0 and p == 0x2 else 1 for r, p in zip(rrow, prow, strict=True))
        for rrow, prow in zip(reserved, plain, strict=True)
    ]
    patterns = []
    patterns_t = []
    for fn in encoder.get_data_mask_functions(False):
        grid = [
            bytes(1 if function[i][j] > 0x1 and fn(i, j) else 0 for j in range(size))
            for i in range(size)
        ]
        patterns.append(_int(_joined(grid)))
        patterns_t.append(_int(_joined([bytes(col) for col in zip(*grid, strict=True)])))
    ones = [b"\x01" * size] * size
    return _Layout(
        size=size,
        keep=_int(_joined(keep)),
        ones=_int(_joined(ones)),
        separators=_int(b"\x02".join([b"\x00" * size] * size)),
        patterns=tuple(patterns),
        patterns_t=tuple(patterns_t),
    )


def _n1_n3(lines: bytes, size: int) -> int:
    """Features N1 (runs of 5 or more) and N3 (finder-like 1:1:3:1:1 patterns) of joined lines,
    counted exactly as segno counts them."""
    runs = _N1_RUN.findall(lines)
    score = sum(map(len, runs)) - 2 * len(runs)
    stride = size + 1
    idx = lines.find(_N3_PATTERN)
    while idx != -1:
        row_start = idx - idx % stride
        row_end = row_start + size
        column = idx - row_start
        offset = idx + 7
        if (
            column in (0, size - 7)
            or not any(lines[max(idx - 4, row_start) : idx])
            or not any(lines[offset : min(offset + 4, row_end)])
        ):
            score += 40
        else:
            offset = idx + 4
        idx = lines.find(_N3_PATTERN, offset)
    return score


def _penalty(rows: int, cols: int, layout: _Layout) -> int:
    """The ISO 18004 penalty (features N1..N4) of one masked candidate."""
    size = layout.size
    length = size * (size + 1) - 1
    with_separators = rows | layout.separators
    score = _n1_n3(with_separators.to_bytes(length, "big"), size)
    score += _n1_n3((cols | layout.separators).to_bytes(length, "big"), size)
    # N2: 2x2 blocks of one colour (a pair in a row, and the same pair in the next row).
    row_shift = 8 * (size + 1)
    dark_pairs = rows & (rows >> 8)
    light = rows ^ layout.ones
    light_pairs = light & (light >> 8)
    score += 3 * (dark_pairs & (dark_pairs >> row_shift)).bit_count()
    score += 3 * (light_pairs & (light_pairs >> row_shift)).bit_count()
    # N4: the proportion of dark modules.
    percent = rows.bit_count() / (size * size)
    return score + 10 * int(abs(percent * 100 - 50) / 5)


def _unmasked(qr_text: str) -> tuple[int, tuple[bytearray, ...]]:
    """Encode `qr_text` up to the placed codewords, before any mask: segno's own steps
    (ISO 18004 7.4 to 7.7), without its module-by-module mask search."""
    error = consts.ERROR_LEVEL_Q
    segments = encoder.prepare_data(qr_text, consts.MODE_ALPHANUMERIC, None)
    version = encoder.find_version(segments, error, eci=False, micro=False)
    buff = encoder.Buffer()
    ver_range = encoder.version_range(version)
    for segment in segments:
        encoder.write_segment(buff, segment, None, ver_range, False)
    capacity = consts.SYMBOL_CAPACITY[version][error]
    encoder.write_terminator(buff, capacity, None, len(buff))
    encoder.write_padding_bits(buff, version, len(buff))
    encoder.write_pad_codewords(buff, version, capacity, len(buff))
    buff = encoder.make_final_message(version, error, buff)
    size = encoder.calc_matrix_size(version)
    matrix = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(matrix, size, size)
    encoder.add_alignment_patterns(matrix, size, size)
    encoder.add_codewords(matrix, buff, version)
    return version, matrix


@lru_cache(maxsize=4096)
def qr_matrix(qr_text: str) -> QrMatrix:
    """Return the QR code of `qr_text` (ECC Q, alphanumeric mode, the standard's best mask).

    The same modules segno's `make_qr(qr_text, error="q", mode="alphanumeric")` produces,
    built in a fraction of its time; cached per text.
    """
    version, unmasked = _unmasked(qr_text)
    layout = _layout(version)
    size = layout.size
    length = size * (size + 1) - 1
    # The unmasked symbol, with format and version areas light, as the standard scores it.
    base = _int(_joined(list(unmasked))) & layout.keep
    raw = base.to_bytes(length, "big")
    rows_bytes = [raw[i * (size + 1) : i * (size + 1) + size] for i in range(size)]
    base_t = _int(_joined([bytes(col) for col in zip(*rows_bytes, strict=True)]))
    best_mask, best_score = 0, -1
    for mask in range(8):
        score = _penalty(base ^ layout.patterns[mask], base_t ^ layout.patterns_t[mask], layout)
        if best_score < 0 or score < best_score:
            best_mask, best_score = mask, score
    final = (base ^ layout.patterns[best_mask]).to_bytes(length, "big")
    matrix = tuple(bytearray(final[i * (size + 1) : i * (size + 1) + size]) for i in range(size))
    encoder.add_format_info(matrix, version, consts.ERROR_LEVEL_Q, best_mask)
    encoder.add_version_info(matrix, version)
    return QrMatrix(version=version, mask=best_mask, rows=tuple(bytes(row) for row in matrix))


def qr_svg_path(matrix: QrMatrix, *, border: int = QUIET_ZONE) -> str:
    """Return an SVG path (one unit per module) drawing the dark modules, offset by `border`."""
    return "".join(
        f"M{j + border} {i + border}h{length}v1h-{length}z" for i, j, length in matrix.dark_runs()
    )
