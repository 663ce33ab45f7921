"""Vehicle registration plates: normalisation and the Georgian AB-123-CD format."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Cyrillic letters that look like Latin ones on a plate.
_CYRILLIC = dict(zip("АВЕКМНОРСТУХІЈЅ", "ABEKMHOPCTYXIJS", strict=True))
_CYRILLIC.update({k.lower(): v for k, v in _CYRILLIC.items()})
# Georgian letters typed by the Georgian keyboard layout on the key of a Latin letter.
_GEORGIAN = dict(
    zip("აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ", "ABGDEVZTIKLMNOPJRSTUFQRYSCCZWWXJH", strict=True)
)
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—._/]+")
_STANDARD = re.compile(r"^[A-Z]{2}[0-9]{3}[A-Z]{2}$")
_FREEFORM = re.compile(r"^[A-Z0-9]{2,10}$")


@dataclass(frozen=True, slots=True)
class Plate:
    """A normalised plate: `value` without separators, `freeform` when not AB-123-CD."""

    value: str
    freeform: bool

    @property
    def display(self) -> str:
        """The plate as printed: AB-123-CD for a standard plate, else as normalised."""
        return format_plate(self.value)


class PlateError(ValueError):
    """The text cannot be a plate even in free form."""


def normalise_plate(text: str) -> Plate:
    """Normalise case, spaces, dashes and look-alike Cyrillic or Georgian letters.

    Returns a standard plate when the result matches AB-123-CD, else a free-form plate
    flagged as such; raises PlateError when even a free-form plate is impossible
    (empty, too long, or characters other than letters and digits).
    """
    cleaned = _SEPARATORS.sub("", text.strip())
    mapped = "".join(_CYRILLIC.get(ch) or _GEORGIAN.get(ch) or ch for ch in cleaned).upper()
    if _STANDARD.match(mapped):
        return Plate(mapped, freeform=False)
    if _FREEFORM.match(mapped):
        return Plate(mapped, freeform=True)
    raise PlateError(text)


def format_plate(value: str) -> str:
    """Show a normalised plate: AB123CD as AB-123-CD; anything else unchanged."""
    if _STANDARD.match(value):
        return f"{value[:2]}-{value[2:5]}-{value[5:]}"
    return value
