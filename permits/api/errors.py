"""One error shape for every failure: {"errors": [{"field", "code", "message"}]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as SQLAlchemyTimeoutError

from permits.errors import FieldError, PermitsError

log = logging.getLogger("permits.api")


DATABASE_UNAVAILABLE = "the database is not reachable; try again shortly"
DATABASE_BUSY = "the database is busy; try again shortly"
STORAGE_FULL = (
    "the database has no room left on its disk: nothing was stored; "
    "tell the administrator, then try again"
)
_FULL_MARKERS = ("disk is full", "no space left", "disk full", "could not extend file")
_BUSY_MARKERS = ("database is locked", "database is busy")


def database_problem(exc: DBAPIError) -> tuple[str, str]:
    """Return (code, message) for a database error: storage_full, database_busy or
    database_unavailable. The message never repeats the driver's text (it may name hosts)."""
    text = str(exc.orig).lower()
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate == "53100" or any(marker in text for marker in _FULL_MARKERS):
        return "storage_full", STORAGE_FULL
    if any(marker in text for marker in _BUSY_MARKERS):
        return "database_busy", DATABASE_BUSY
    return "database_unavailable", DATABASE_UNAVAILABLE


def error_body(errors: list[FieldError]) -> dict[str, Any]:
    """The API's one error shape: {"errors": [{"field", "code", "message"}, ...]}."""
    return {"errors": [{"field": e.field, "code": e.code, "message": e.message} for e in errors]}


def _field_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if item in ("body", "query", "path", "header"):
            continue
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into the one JSON shape."""

    @app.exception_handler(PermitsError)
    async def _permits_error(_request: Request, exc: PermitsError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(
            error_body(exc.as_field_errors()), status_code=exc.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldError(
                field=_field_path(tuple(e.get("loc", ()))),
                code=str(e.get("type", "invalid")),
                message=str(e.get("msg", "")),
            )
            for e in exc.errors()
        ]
        return JSONResponse(error_body(errors), status_code=422)

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        code, message = database_problem(exc)
        log.warning("%s: %s: %s", code, type(exc.orig).__name__, exc.orig)
        return JSONResponse(
            error_body([FieldError("", code, message)]),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(SQLAlchemyTimeoutError)
    async def _pool_exhausted(_request: Request, exc: SQLAlchemyTimeoutError) -> JSONResponse:
        log.warning("database_busy: no free connection: %s", type(exc).__name__)
        return JSONResponse(
            error_body([FieldError("", "database_busy", DATABASE_BUSY)]),
            status_code=503,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database_down(_request, exc)  # type: ignore[arg-type]
        raise exc
