"""Fitting text into a box: wrap at spaces, shrink down to a minimum size, and as a last
resort cut the last line with an ellipsis. A fitted text never leaves its box."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from permits.certificates.fonts import Face, printable, width

ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Fitted:
    """Lines of text at one size, with the line height used; `cut` when text was dropped."""

    lines: tuple[str, ...]
    size: float
    leading: float
    cut: bool = False

    @property
    def height(self) -> float:
        """The height the lines take."""
        return len(self.lines) * self.leading


def _break_word(word: str, face: Face, limit: float) -> list[str]:
    pieces, current = [], ""
    for ch in word:
        if current and width(current + ch, face, 1) > limit:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, face: Face, size: float, max_width: float) -> list[str]:
    """Break `text` into lines no wider than `max_width` at `size` (long words break anywhere)."""
    limit = max_width / size
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if width(candidate, face, 1) <= limit:
                current = candidate
                continue
            if current:
                lines.append(current)
            if width(word, face, 1) <= limit:
                current = word
            else:
                *full, current = _break_word(word, face, limit)
                lines.extend(full)
        lines.append(current)
    return lines


@lru_cache(maxsize=8192)
def fit(
    text: str,
    face: Face,
    *,
    box_width: float,
    box_height: float,
    size: float,
    min_size: float,
    line_factor: float = 1.2,
    step: float = 0.5,
) -> Fitted:
    """Return `text` wrapped at the largest size from `size` down to `min_size` at which it fits
    `box_width` x `box_height`; at `min_size` the lines that do not fit are dropped and the
    last kept line ends in an ellipsis. At least one line is always returned.

    Cached: labels, category and issuer names repeat on every certificate of a batch."""
    text = printable(" ".join(text.split(" ")), face)
    current = size
    while True:
        lines = wrap(text, face, current, box_width)
        leading = current * line_factor
        if len(lines) * leading <= box_height + 0.01:
            return Fitted(tuple(lines), current, leading)
        if current - step < min_size - 1e-9:
            break
        current -= step
    current = min_size
    leading = current * line_factor
    lines = wrap(text, face, current, box_width)
    keep = max(1, int((box_height + 0.01) // leading))
    kept = lines[:keep]
    last = kept[-1]
    while last and width(last + ELLIPSIS, face, current) > box_width:
        last = last[:-1]
    kept[-1] = last.rstrip() + ELLIPSIS
    return Fitted(tuple(kept), current, leading, cut=True)
