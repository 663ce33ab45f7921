"""Names and identity documents of the people named on a permit."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_PERSONAL_NUMBER = re.compile(r"^[0-9]{11}$")
_FOREIGN_DOCUMENT = re.compile(r"^[A-Z0-9]{5,20}$")
NAME_MAX = 60


def clean_name(text: str) -> str | None:
    """Collapse whitespace; return None unless the name has a letter and no control characters.

    Names are kept as typed otherwise (HTML is escaped where names are shown, not here).
    """
    value = _SPACES.sub(" ", text).strip()
    if not value or len(value) > NAME_MAX:
        return None
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        return None
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        return None
    return unicodedata.normalize("NFC", value)


def clean_personal_number(text: str) -> str | None:
    """Return the 11-digit Georgian personal number without spaces, or None if it is not one."""
    value = re.sub(r"\s", "", text)
    return value if _PERSONAL_NUMBER.match(value) else None


def clean_foreign_document(text: str) -> str | None:
    """Return a foreign document number (5-20 letters and digits, upper case), or None."""
    value = re.sub(r"[\s\-]", "", text).upper()
    return value if _FOREIGN_DOCUMENT.match(value) else None
