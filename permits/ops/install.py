"""Wires the operations parts into an application (called once by `create_app`)."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import configure_mappers

from permits.ops.headers import SecurityHeadersMiddleware
from permits.ops.health import router as health_router
from permits.ops.logs import install_log_redaction
from permits.ops.static import mount_static_lists
from permits.settings import Settings


def install_operations(app: FastAPI, settings: Settings) -> None:
    """Add security headers to every response, /readyz, the static lists under /lists/,
    and the redaction of secrets from access logs.

    Also configures the ORM mappers now: a fresh worker process whose first request builds
    a model with `model_construct` (the issuing hot path) would otherwise meet unconfigured
    attributes and fail.
    """
    import permits.tables  # noqa: F401 - every model, so that every mapper is configured

    configure_mappers()
    install_log_redaction()
    app.add_middleware(
        SecurityHeadersMiddleware, https=settings.public_base_url.startswith("https://")
    )
    app.include_router(health_router)
    mount_static_lists(app, settings.lists_dir)
