"""Grouping timestamps by local (Asia/Tbilisi) hour and day, in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from permits.timezone import LOCAL

ZONE = "Asia/Tbilisi"
OFFSET = "+4 hours"  # Tbilisi keeps UTC+4 all year (no daylight saving)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def local_hour(session: Session, column: Any) -> ColumnElement[Any]:
    """An SQL expression for the local hour that `column` (a UTC timestamp) falls in."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("hour", func.timezone(ZONE, column))
    return func.strftime("%Y-%m-%d %H:00:00", column, OFFSET)


def local_day(session: Session, column: Any) -> ColumnElement[Any]:
    """An SQL expression for the local day that `column` (a UTC timestamp) falls in."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("day", func.timezone(ZONE, column))
    return func.strftime("%Y-%m-%d 00:00:00", column, OFFSET)


def as_local(value: Any) -> datetime:
    """Turn what `local_hour`/`local_day` returned into an aware local datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=LOCAL) if value.tzinfo is None else value.astimezone(LOCAL)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=LOCAL)
    raise TypeError(f"not a time bucket: {value!r}")
