"""The permit's QR code as a matrix of modules, built fast with the standard's own mask choice.

segno spends about three quarters of its time choosing the data mask: it applies each of
the eight masks module by module and scores each result in pure Python (ISO/IEC 18004
7.8.3). Here the codewords are written as segno writes them (one integer for the bit
stream), placed with segno's layout, and the eight candidates are scored on whole rows at
once (each row is one Python integer holding one byte per module), which picks the same
mask segno would pick (the tests compare the matrices over many inputs) in a fraction of
the time. The result is cached per QR text: a permit's QR text never changes, and the
PDF, the phone image and the holder page of one permit draw the same code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, zip_longest
from operator import itemgetter
from typing import Any

from segno import consts, encoder

QUIET_ZONE = 4
"""Modules of light margin the standard requires around a QR code."""


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
    low_bits: int  # 0x01 in every byte of the lines padded by one byte at each end
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
        low_bits=_int(b"\x01" * (size * (size + 1) + 1)),
        separators=_int(b"\x02".join([b"\x00" * size] * size)),
        patterns=tuple(patterns),
        patterns_t=tuple(patterns_t),
    )


def _n1(lines: int, low_bits: int) -> int:
    """Feature N1 (runs of five or more modules of one colour score length - 2) of lines
    held one byte a module, with a 0x02 byte between lines and at both ends.

    `low_bits` has 0x01 in every byte. A run of length L >= 5 holds L - 4 windows of five
    equal modules and scores L - 2: the windows plus two for each run of windows.
    """
    differ = lines ^ (lines >> 8)
    differ = (differ | (differ >> 1)) & low_bits
    same = low_bits ^ differ
    windows = same & (same >> 8) & (same >> 16) & (same >> 24)
    return windows.bit_count() + 2 * (windows & ~(windows >> 8)).bit_count()


def _n3(padded: int, low_bits: int) -> int:
    """Feature N3 (finder-like 1:1:3:1:1 patterns, 40 each) of lines held one byte a module,
    with a 0x02 byte between lines and at both ends, counted exactly as segno counts them.

    segno scans each line for dark-light-dark-dark-dark-light-dark; an occurrence scores when
    the four modules before it or the four after it (cut at the line's ends) are light, and the
    scan then resumes 7 modules on if it scored, 4 if not. Two occurrences overlap only 4 or 6
    modules apart, so an occurrence is skipped exactly when a counted one sits 4 or 6 before
    it. All of that is done here on whole integers, byte-wise, at once for every line.
    """
    dark = padded & low_bits
    edge = (padded >> 1) & low_bits  # the 0x02 bytes: the lines' ends
    light = low_bits ^ (dark | edge)
    found = (
        dark
        & (light << 8)
        & (dark << 16)
        & (dark << 24)
        & (dark << 32)
        & (light << 40)
        & (dark << 48)
        & low_bits
    )
    if not found:
        return 0
    # Before: modules idx-1 .. idx-4 light, or an end met first. After: idx+7 .. idx+10.
    before = after = -1
    ended_before = ended_after = 0
    for step in range(4):
        ended_before |= edge >> (8 * (step + 1))
        before &= (light >> (8 * (step + 1))) | ended_before
        ended_after |= edge << (8 * (step + 7))
        after &= (light << (8 * (step + 7))) | ended_after
    scores = found & (before | after)
    # Skipped: an occurrence 4 or 6 after a counted one. Iterate to the fixed point (each
    # round settles one more link of a chain; chains are short).
    counted = scores
    while True:
        skipped = (counted >> 32) | (counted >> 48)
        settled = scores & ~skipped
        if settled == counted:
            return 40 * counted.bit_count()
        counted = settled


def _penalty(rows: int, cols: int, layout: _Layout) -> int:
    """The ISO 18004 penalty (features N1..N4) of one masked candidate."""
    size = layout.size
    length = size * (size + 1) - 1
    pad = 8 * (length + 1)
    score = 0
    for lines in (rows | layout.separators, cols | layout.separators):
        padded = (2 << pad) | (lines << 8) | 2
        score += _n1(padded, layout.low_bits)
        score += _n3(padded, layout.low_bits)
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


@lru_cache(maxsize=41)
def _placement(version: int) -> tuple[Callable[[bytes], tuple[int, ...]], int]:
    """Where each bit of the final message goes (ISO 18004 7.7.3, as segno places it).

    Returns a function that takes the message bits followed by the empty symbol (function
    patterns, reserved areas) as one byte string and gathers the unmasked symbol, rows
    joined by a separator byte; and the number of message bits it expects.
    """
    size = encoder.calc_matrix_size(version)
    template = encoder.make_matrix(size, size)
    encoder.add_finder_patterns(template, size, size)
    encoder.add_alignment_patterns(template, size, size)
    stride = size + 1
    order: list[int] = []
    taken = [bytearray(row) for row in template]
    for right in range(size - 1, 0, -2):
        if right <= 6:
            right -= 1
        for vertical in range(size):
            for z in range(2):
                j = right - z
                upwards = (right & 2) == 0
                upwards ^= j < 6
                i = (size - 1 - vertical) if upwards else vertical
                if taken[i][j] == 0x2:
                    taken[i][j] = 0
                    order.append(i * stride + j)
    bits = len(order)
    empty = _joined([bytes(0 if v == 0x2 else v for v in row) for row in template])
    gather = [bits + cell for cell in range(len(empty))]
    for index, cell in enumerate(order):
        gather[cell] = index
    _EMPTY[version] = empty
    return itemgetter(*gather), bits


_EMPTY: dict[int, bytes] = {}
_SYMBOL_CAPACITY: Any = consts.SYMBOL_CAPACITY
_ECC: Any = consts.ECC
_BITS = tuple(bytes((value >> shift) & 1 for shift in range(7, -1, -1)) for value in range(256))


@lru_cache(maxsize=64)
def _remainder_table(num_error_words: int) -> tuple[int, ...]:
    """For each leading coefficient, the generator polynomial times it, as one integer."""
    gen_log: Any = consts.GALIOS_LOG
    gen_exp: Any = consts.GALIOS_EXP
    gen: Any = consts.GEN_POLY[num_error_words]
    table = [0]
    for coefficient in range(1, 256):
        log = gen_log[coefficient]
        table.append(
            int.from_bytes(bytes(gen_exp[log + gen[n]] for n in range(num_error_words)), "big")
        )
    return tuple(table)


def _blocks(version: int, error: int, codewords: bytes) -> tuple[list[bytes], list[bytes]]:
    """The data blocks and their Reed-Solomon error correction blocks (ISO 18004 7.5.2), as
    segno's make_blocks computes them, one shift-register step per codeword."""
    data_blocks: list[bytes] = []
    error_blocks: list[bytes] = []
    position = 0
    for info in _ECC[version][error]:
        num_error_words = info.num_total - info.num_data
        table = _remainder_table(num_error_words)
        shift = 8 * (num_error_words - 1)
        mask = (1 << (8 * num_error_words)) - 1
        for _ in range(info.num_blocks):
            block = codewords[position : position + info.num_data]
            position += info.num_data
            remainder = 0
            for value in block:
                remainder = ((remainder << 8) & mask) ^ table[value ^ (remainder >> shift)]
            data_blocks.append(block)
            error_blocks.append(remainder.to_bytes(num_error_words, "big"))
    return data_blocks, error_blocks


_ALPHANUMERIC = {
    ch: value for value, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
}
_MODE_ALPHANUMERIC = 0b0010
_PAD_CODEWORDS = b"\xec\x11"


def _count_bits(version: int) -> int:
    """Bits of the character count indicator in alphanumeric mode (ISO 18004 table 3)."""
    return 9 if version < 10 else 11 if version < 27 else 13


def _data_codewords(qr_text: str, error: int) -> tuple[int, bytes]:
    """The smallest version at `error` that holds `qr_text` as one alphanumeric segment, and
    its data codewords (ISO 18004 7.4): mode, count, the text 11 bits a pair, terminator,
    padding, pad codewords, bit for bit as segno writes them. ValueError for another
    character or a text too long for any version."""
    try:
        values = [_ALPHANUMERIC[ch] for ch in qr_text]
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a QR alphanumeric character") from exc
    data = 0
    for index in range(0, len(values) - 1, 2):
        data = (data << 11) | (values[index] * 45 + values[index + 1])
    data_bits = 11 * (len(values) // 2)
    if len(values) % 2:
        data = (data << 6) | values[-1]
        data_bits += 6
    for version in range(1, 41):
        capacity = _SYMBOL_CAPACITY[version][error]
        count_bits = _count_bits(version)
        length = 4 + count_bits + data_bits
        if length <= capacity:
            break
    else:
        raise ValueError("the text is too long for any QR code version")
    stream = (((_MODE_ALPHANUMERIC << count_bits) | len(values)) << data_bits) | data
    terminator = min(capacity - length, 4)
    padding = 8 - (length + terminator) % 8  # segno writes 8 when already on a boundary
    length += terminator + padding
    stream <<= terminator + padding
    pads = max(0, capacity // 8 - length // 8)
    codewords = stream.to_bytes(length // 8, "big") + (_PAD_CODEWORDS * (pads // 2 + 1))[:pads]
    return version, codewords[: capacity // 8]


def _unmasked(qr_text: str) -> tuple[int, bytes]:
    """Encode `qr_text` into the unmasked symbol (ISO 18004 7.4 to 7.7): the bit stream and
    the error correction as segno computes them, then the codewords placed in one gather."""
    error = consts.ERROR_LEVEL_Q
    version, codewords = _data_codewords(qr_text, error)
    # ISO 18004 7.6: data codewords interleaved, then error correction codewords interleaved
    # (segno's make_final_message, with one table look-up per codeword for its 8 bits).
    data_blocks, error_blocks = _blocks(version, error, codewords)
    message = b"".join(
        _BITS[codeword]
        for blocks in (data_blocks, error_blocks)
        for codeword in chain.from_iterable(zip_longest(*blocks))
        if codeword is not None
    )
    gather, bits = _placement(version)
    message = message[:bits].ljust(bits, b"\x00")  # the remainder bits are light
    return version, bytes(gather(message + _EMPTY[version]))


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
    base = _int(unmasked) & layout.keep
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
