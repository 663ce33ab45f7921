"""Readiness: does this worker reach its database? (Liveness is the app's own /healthz.)"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

router = APIRouter(tags=["health"])


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 when the database answers a trivial query; 503 with a clear message otherwise.

    A load balancer sends traffic only to ready workers; the worker itself keeps running and
    becomes ready again by itself when the database returns.
    """
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse(
            {
                "status": "unavailable",
                "errors": [
                    {
                        "field": "",
                        "code": "database_unavailable",
                        "message": "the database is not reachable; try again shortly",
                    }
                ],
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "database": engine.dialect.name})
