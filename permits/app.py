"""The FastAPI application: built by `create_app`, which wires settings, database and keys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from fastapi import APIRouter, FastAPI
from sqlalchemy.engine import Engine

from permits import __version__
from permits.api.docs import install_api_docs
from permits.api.errors import install_error_handlers
from permits.api.nul_guard import RefuseNulMiddleware
from permits.certificates.routes import api_router as certificates_router
from permits.certificates.routes import holder_router
from permits.checkpoint.routes import router as checkpoint_router
from permits.checks.routes import router as checks_router
from permits.checks.scan_path import ScanPathMiddleware
from permits.checks.service import VerifierCache
from permits.db import make_engine, reader
from permits.group_commit import GroupCommit
from permits.issuance.routes import router as permits_router
from permits.ops.install import install_operations
from permits.ops.priority import ChecksFirstMiddleware, issuing_pool
from permits.settings import Settings, get_settings
from permits.timezone import utcnow
from permits.trust.keystore import KeyStore, keystore_for
from permits.trust.routes import router as lists_router
from permits.web.install import install_web
from permits.workspace.routes import router as workspace_router


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the write lanes' threads from the event loop's thread, at the worker's own CPU
    priority (one started from issuing's pool would take its lower one)."""
    app.state.permit_writes.start()
    app.state.check_writes.start()
    yield


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    keystore: KeyStore | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Return the application. Tests pass their own engine, key store and clock."""
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="permits",
        version=__version__,
        description="Signed movement permits: issue, sign, verify offline, revoke.",
        docs_url=None,  # served by permits.api.docs from our own files, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url, echo=settings.sql_echo)
    app.state.read_engine = reader(app.state.engine)  # built once: it costs ~40 µs a call
    app.state.keystore = keystore or keystore_for(settings)
    app.state.clock = clock
    # Two lanes, so that an officer's check never waits behind a group of issued permits.
    # Issuing's threads yield the CPU to checks on a busy machine (permits.ops.priority).
    app.state.issuing_pool = issuing_pool(settings.issuing_nice)
    app.state.permit_writes = GroupCommit(app.state.engine, name="permits")
    app.state.check_writes = GroupCommit(app.state.engine, name="checks")
    app.state.verifier_cache = VerifierCache(
        app.state.keystore, timedelta(seconds=settings.list_refresh_seconds)
    )
    install_error_handlers(app)
    app.add_middleware(ScanPathMiddleware)  # scanned codes skip FastAPI's own steps
    app.add_middleware(RefuseNulMiddleware)  # before a NUL reaches PostgreSQL: 422, by field
    app.add_middleware(  # issuing waits, unread, behind checks on a busy worker
        ChecksFirstMiddleware, while_checking=settings.issuing_while_checking
    )
    install_api_docs(app)
    api = APIRouter(prefix="/api/v1")
    api.include_router(permits_router)
    api.include_router(lists_router)
    api.include_router(checks_router)
    api.include_router(certificates_router)  # certificate PDF, phone image, batches
    app.include_router(api)
    app.include_router(checkpoint_router)  # the checkpoint verifier app at /verify/
    app.include_router(holder_router)  # the holder page at /h/<token>, no login

    install_operations(app, settings)
    install_web(app)  # pages: /static/web, /language, /login, /logout, /account/password
    app.include_router(workspace_router)
    from permits.review.pages import install_admin

    install_admin(app)  # the regional administration's pages under /admin

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok", "version": __version__}

    return app
