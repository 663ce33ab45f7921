"""Grouping timestamps by local (Asia/Tbilisi) hour and day, in SQL, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from permits.timezone import LOCAL

OFFSET = "+4 hours"  # Tbilisi keeps UTC+4 all year (no daylight saving)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _local_naive(column: Any) -> Any:
    # UTC wall time plus the fixed offset: much cheaper per row than a zone look-up
    return func.timezone("UTC", column) + text(f"interval '{OFFSET}'")


def local_hour(session: Session, column: Any) -> ColumnElement[Any]:
    """An SQL expression for the local hour that `column` (a UTC timestamp) falls in."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("hour", _local_naive(column))
    return func.strftime("%Y-%m-%d %H:00:00", column, OFFSET)


def local_day(session: Session, column: Any) -> ColumnElement[Any]:
    """An SQL expression for the local day that `column` (a UTC timestamp) falls in."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("day", _local_naive(column))
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


def utc_hour(session: Session, column: Any) -> ColumnElement[Any]:
    """An SQL expression for the UTC hour that `column` falls in (Tbilisi's offset is whole
    hours, so each is exactly one local hour: see `from_utc`). The cheapest per row."""
    if _dialect(session) == "postgresql":
        return func.date_trunc("hour", func.timezone("UTC", column))
    return func.strftime("%Y-%m-%d %H:00:00", column)


def from_utc(value: Any) -> datetime:
    """Turn what `utc_hour` returned into an aware local datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"not a time bucket: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL)
