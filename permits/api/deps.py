"""Typed dependencies for routes: the session, the clock, the key store, the caller."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from permits.accounts.caller import Caller
from permits.accounts.tokens import caller_for_token
from permits.checks.service import VerifierCache
from permits.db import writer
from permits.errors import NotAuthenticated
from permits.group_commit import GroupCommit
from permits.settings import Settings
from permits.trust.keystore import KeyStore

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")


def get_session(request: Request) -> Iterator[Session]:
    """Yield a database session for one request; closed (and rolled back if open) afterwards.

    A request that may write (any method but GET, HEAD, OPTIONS) gets a writer session.
    """
    engine = request.app.state.engine
    if request.method not in SAFE_METHODS:
        engine = writer(engine)
    with Session(engine, expire_on_commit=False) as session:
        yield session


def get_read_first_session(request: Request) -> Iterator[Session]:
    """Yield a session that starts as a reader, for services that read, validate and sign
    first and then call `permits.db.begin_write` for their writes (issuing)."""
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


# The dependencies below only read the app's state: they are `async` so that FastAPI calls
# them on the event loop instead of handing each to a worker thread (a thread hop apiece).


async def get_now(request: Request) -> datetime:
    """Return the current time from the app's clock (tests stand it at any moment)."""
    now: datetime = request.app.state.clock()
    return now


async def get_keystore(request: Request) -> KeyStore:
    """Return the app's key store."""
    keystore: KeyStore = request.app.state.keystore
    return keystore


async def get_settings_dep(request: Request) -> Settings:
    """Return the app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_verifier_cache(request: Request) -> VerifierCache:
    """Return the app's cached verifier."""
    cache: VerifierCache = request.app.state.verifier_cache
    return cache


async def get_permit_writes(request: Request) -> GroupCommit:
    """Return the app's group commit for issued permits (many requests' stored together)."""
    group_commit: GroupCommit = request.app.state.permit_writes
    return group_commit


async def get_check_writes(request: Request) -> GroupCommit:
    """Return the app's group commit for the records of online checks."""
    group_commit: GroupCommit = request.app.state.check_writes
    return group_commit


SessionDep = Annotated[Session, Depends(get_session)]
ReadFirstSessionDep = Annotated[Session, Depends(get_read_first_session)]
NowDep = Annotated[datetime, Depends(get_now)]
KeyStoreDep = Annotated[KeyStore, Depends(get_keystore)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
VerifierCacheDep = Annotated[VerifierCache, Depends(get_verifier_cache)]
PermitWritesDep = Annotated[GroupCommit, Depends(get_permit_writes)]
CheckWritesDep = Annotated[GroupCommit, Depends(get_check_writes)]


def bearer_token(request: Request) -> str:
    """Return the request's bearer token, not yet checked; raise NotAuthenticated when the
    request carries none."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    raise NotAuthenticated("send an API token as 'Authorization: Bearer <token>'")


async def get_bearer_token(request: Request) -> str:
    """As `bearer_token`, as a dependency: a route that checks the token itself (`as_caller`)
    still refuses a request without one before its body is read."""
    return bearer_token(request)


BearerTokenDep = Annotated[str, Depends(get_bearer_token)]


def get_caller(request: Request) -> Caller:
    """Return the authenticated caller (API bearer token); raise NotAuthenticated otherwise.

    The token is looked up in a read session of its own, so a request that writes does not
    hold SQLite's write lock while it authenticates.
    """
    token = bearer_token(request)
    with Session(request.app.state.engine) as session:
        return caller_for_token(session, token)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def as_caller(
    request: Request,
    token: str,
    work: Callable[[Session, Caller], T],
    *,
    pool: Executor | None = None,
) -> T:
    """Run `work(session, caller)` in one worker thread, with a read-first session of the
    app's `reader(engine)` (its reads in autocommit on PostgreSQL; its writes after `begin_write`)
    and the caller `token` stands for, looked up in it; return what `work` returned.

    For issuing (and online checks of a typed control code; scanned codes need no thread,
    `permits.checks.service.verify_scanned`): one thread hop for the whole request instead
    of one for each sync dependency, its clean-up and the route. Raises
    NotAuthenticated, before `work` runs, when the token is not valid. The thread comes from
    `pool` when given (issuing's own, at a lower CPU priority), else from the shared pool.
    """

    def run() -> T:
        with Session(request.app.state.read_engine, expire_on_commit=False) as session:
            return work(session, caller_for_token(session, token))

    if pool is None:
        return await run_in_threadpool(run)
    context = contextvars.copy_context()  # handed on, as run_in_threadpool does
    return await asyncio.get_running_loop().run_in_executor(pool, context.run, run)
