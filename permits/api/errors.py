"""One error shape for every failure: {"errors": [{"field", "code", "message"}]}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from permits.errors import FieldError, PermitsError

log = logging.getLogger("permits.api")


def _body(errors: list[FieldError]) -> dict[str, Any]:
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
            _body(exc.as_field_errors()), status_code=exc.status_code, headers=headers
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
        return JSONResponse(_body(errors), status_code=422)

    @app.exception_handler(OperationalError)
    async def _database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s: %s", type(exc.orig).__name__, exc.orig)
        return JSONResponse(
            _body(
                [
                    FieldError(
                        "",
                        "database_unavailable",
                        "the database is not reachable; try again shortly",
                    )
                ]
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(DBAPIError)
    async def _database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        if exc.connection_invalidated:
            return await _database_down(_request, exc)  # type: ignore[arg-type]
        raise exc
