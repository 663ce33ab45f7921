"""The language of a page: chosen per request (cookie, then Accept-Language, then Georgian),
and a translator that looks a message up in the page's gettext domains in order."""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from functools import lru_cache

from fastapi import Request

from permits.i18n import LANGUAGES, pick_language, translations

LANGUAGE_COOKIE = "permits_lang"
# Every page can use the layout's words (web) and the shared labels (messages).
BASE_DOMAINS = ("web", "messages")
LANGUAGE_NAMES = {"ka": "ქართული", "az": "Azərbaycanca", "en": "English"}


class Translator:
    """gettext over several domains: the first catalog that translates a message wins."""

    def __init__(self, language: str, domains: Sequence[str] = ()) -> None:
        self.language = language if language in LANGUAGES else "en"
        ordered = [*domains, *(d for d in BASE_DOMAINS if d not in domains)]
        self.domains = tuple(ordered)
        self._catalogs = [translations(self.language, d) for d in self.domains]

    def gettext(self, message: str) -> str:
        """Translate `message` (the English text is its own key)."""
        for catalog in self._catalogs:
            translated = catalog.gettext(message)
            if translated != message:
                return translated
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Translate a message with a singular and a plural form for `n`."""
        for catalog in self._catalogs:
            translated = catalog.ngettext(singular, plural, n)
            if translated not in (singular, plural):
                return translated
        return singular if n == 1 else plural


@lru_cache(maxsize=64)
def translator(language: str, domains: tuple[str, ...] = ()) -> Translator:
    """Return the (cached) translator for `language` over `domains` plus the base domains."""
    return Translator(language, domains)


def request_language(request: Request) -> str:
    """The language of this request: the language cookie, else Accept-Language, else ka."""
    cached = getattr(request.state, "language", None)
    if cached in LANGUAGES:
        return str(cached)
    language = pick_language(
        request.headers.get("accept-language"), request.cookies.get(LANGUAGE_COOKIE)
    )
    request.state.language = language
    return language


# The translator of the page being rendered (set around each render; read by the
# template globals _, gettext and ngettext, so imported macros translate too).
current: ContextVar[Translator] = ContextVar("current_translator")
