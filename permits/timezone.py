"""Local time of the region (Asia/Tbilisi) and conversions to and from it."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Tbilisi")


def as_aware(value: datetime) -> datetime:
    """Return `value` with a zone: a naive value is read as local (Asia/Tbilisi) time."""
    return value.replace(tzinfo=LOCAL) if value.tzinfo is None else value


def to_utc(value: datetime) -> datetime:
    """Return `value` in UTC (naive values are read as local time)."""
    return as_aware(value).astimezone(UTC)


def local_midnight(value: datetime) -> datetime:
    """Return the local midnight that starts the local day containing `value`."""
    local = as_aware(value).astimezone(LOCAL)
    return datetime.combine(local.date(), time(0), tzinfo=LOCAL)


def minutes_to_hhmm(minutes: int) -> str:
    """Format minutes after midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hhmm_to_minutes(text: str) -> int:
    """Parse HH:MM (00:00..23:59, or 24:00 meaning end of day) into minutes after midnight.

    Raises ValueError on anything else.
    """
    hours, sep, mins = text.strip().partition(":")
    if not sep or not hours.isdigit() or not mins.isdigit() or len(mins) != 2:
        raise ValueError(text)
    value = int(hours) * 60 + int(mins)
    if int(mins) > 59 or value > 24 * 60:
        raise ValueError(text)
    return value


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


ONE_DAY = timedelta(days=1)
