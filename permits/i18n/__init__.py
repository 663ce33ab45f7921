"""Translations: gettext catalogs (Babel) for Georgian (ka), Azerbaijani (az) and English (en).

Catalogs live in locales/<lang>/LC_MESSAGES/<domain>.po, one domain per area (messages for
shared labels; certificates, workspace, admin ... for each part), compiled to .mo files by
`python -m permits.i18n.compile` (run by `make setup`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LANGUAGES = ("ka", "az", "en")
DEFAULT_LANGUAGE = "ka"
LOCALES = Path(__file__).with_name("locales")


@lru_cache(maxsize=64)
def translations(language: str, domain: str = "messages") -> NullTranslations:
    """Return the compiled catalog of `domain` in `language` (English msgids when none)."""
    if language not in LANGUAGES:
        language = "en"
    loaded = Translations.load(str(LOCALES), [language], domain=domain)
    return loaded


def gettext(language: str, message: str, domain: str = "messages") -> str:
    """Translate `message` into `language`."""
    return translations(language, domain).gettext(message)


def pick_language(accept_language: str | None, preferred: str | None = None) -> str:
    """Choose ka, az or en: an explicit preference first, then the Accept-Language header."""
    if preferred in LANGUAGES:
        return str(preferred)
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE
