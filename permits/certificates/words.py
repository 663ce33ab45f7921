"""Labels in the certificate's languages, and a permit's schedule in words.

Labels come from the gettext domain `certificates` (roles, vehicles and weekdays from the
shared domain `messages`). A schedule reads like the decree: "every day 06:00-08:00 and
18:00-19:00, 22-27 April 2027", in each language.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

from babel.dates import get_month_names
from babel.support import Translations

from permits.errors import FieldError, ServiceUnavailable, ValidationFailed
from permits.i18n import LANGUAGES, translations
from permits.timezone import LOCAL, minutes_to_hhmm

DOMAIN = "certificates"
REQUIRED_LANGUAGES = ("ka", "az")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DASH = "-"


def _catalog(language: str, domain: str) -> Translations:
    catalog = translations(language, domain)
    if not isinstance(catalog, Translations):
        raise ServiceUnavailable(
            f"the {domain} translations for {language} are not compiled: run `make setup`",
            code="translations_missing",
        )
    return catalog


def tr(language: str, message: str, **values: str) -> str:
    """Translate a certificate label into `language` and fill in `values`."""
    text = _catalog(language, DOMAIN).gettext(message)
    return text.format(**values) if values else text


def shared(language: str, message: str) -> str:
    """Translate a shared label (a role, a vehicle kind, a weekday) into `language`."""
    return _catalog(language, "messages").gettext(message)


def resolve_languages(requested: str | None, default: str | None) -> tuple[str, ...]:
    """Return the certificate's languages: Georgian and Azerbaijani always, English when the
    request (`ka,az,en`) or else the organisation's default asks for it.

    An unknown language code raises ValidationFailed naming the field `languages`.
    """
    source = requested if requested is not None and requested.strip() else default
    codes = [part.strip().lower() for part in (source or "").split(",") if part.strip()]
    unknown = [code for code in codes if code not in LANGUAGES]
    if unknown:
        raise ValidationFailed(
            [
                FieldError(
                    "languages",
                    "language_invalid",
                    f"unknown language {unknown[0]!r}: use ka, az and optionally en",
                )
            ]
        )
    return (*REQUIRED_LANGUAGES, "en") if "en" in codes else REQUIRED_LANGUAGES


def joined(values: list[str] | tuple[str, ...], separator: str = " / ") -> str:
    """Join the forms of a label in several languages, each distinct form once."""
    return separator.join(dict.fromkeys(v for v in values if v))


def label(languages: tuple[str, ...], message: str) -> str:
    """A certificate label in every language, side by side: "სახელი, გვარი / Adı, soyadı"."""
    return joined([tr(language, message) for language in languages])


@lru_cache(maxsize=64)
def _month(language: str, month: int) -> str:
    """The month's name (Babel's lookup is costly next to the rest of a certificate)."""
    return str(get_month_names("wide", "format", locale=language)[month])


def day_words(value: date, language: str, *, year: bool = True) -> str:
    """A date as "22 April 2027" (Babel's month names; "22 აპრილი 2027", "22 aprel 2027")."""
    text = f"{value.day} {_month(language, value.month)}"
    return f"{text} {value.year}" if year else text


def date_range_words(first: date, last: date, language: str) -> str:
    """A range of days: "22-27 April 2027", "28 April - 3 May 2027", or one day."""
    if first == last:
        return day_words(first, language)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}{DASH}{day_words(last, language)}"
    if first.year == last.year:
        return f"{day_words(first, language, year=False)} - {day_words(last, language)}"
    return f"{day_words(first, language)} - {day_words(last, language)}"


def moment_words(value: datetime, language: str) -> str:
    """A moment in local time: "22 April 2027 10:00"."""
    local = value.astimezone(LOCAL)
    return f"{day_words(local.date(), language)} {local:%H:%M}"


def _weekdays(mask: int, language: str) -> str:
    days = [index for index in range(7) if mask & (1 << index)]
    names = [shared(language, WEEKDAY_NAMES[index]) for index in days]
    if len(days) >= 3 and days == list(range(days[0], days[-1] + 1)):
        return f"{names[0]}{DASH}{names[-1]}"
    return ", ".join(names)


def schedule_words(
    *,
    valid_from: datetime,
    valid_until: datetime,
    windows: list[list[int]] | list[tuple[int, int]],
    weekdays: int | None,
    language: str,
) -> str:
    """The schedule in words in `language`, for example "every day 06:00-08:00 and
    18:00-19:00, 22-27 April 2027" or "2 December 2026, 09:00-13:00".

    `valid_until` is exclusive: a permit until midnight (or 23:59) names the day before
    (or that day) as its last.
    """
    start = valid_from.astimezone(LOCAL)
    end = valid_until.astimezone(LOCAL)
    starts_at_midnight = (start.hour, start.minute) == (0, 0)
    if starts_at_midnight and (end.hour, end.minute, end.second) == (0, 0, 0):
        period = date_range_words(start.date(), (end - timedelta(days=1)).date(), language)
    elif starts_at_midnight and (end.hour, end.minute) == (23, 59):
        period = date_range_words(start.date(), end.date(), language)
    elif start.date() == end.date():
        period = f"{day_words(start.date(), language)}, {start:%H:%M}{DASH}{end:%H:%M}"
    else:
        period = f"{moment_words(start, language)} - {moment_words(end, language)}"
    days = tr(language, "every day") if weekdays is None else _weekdays(weekdays, language)
    if windows:
        conjunction = f" {tr(language, 'and')} "
        hours = conjunction.join(
            f"{minutes_to_hhmm(s)}{DASH}{minutes_to_hhmm(e)}" for s, e in windows
        )
        return f"{days} {hours}, {period}"
    if weekdays is not None:
        return f"{days}, {period}"
    return period
