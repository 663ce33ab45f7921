"""Typed dependencies for pages: who is logged in (`PageUserDep`, `PageCallerDep`), role
checks (`page_caller_with`), the CSRF check (`csrf_protect`) and the page marker.

`PageCallerDep` gives the same `Caller` as the API's bearer tokens (with all of the
user's roles), so domain functions serve pages and API alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session

from permits.accounts.caller import Caller
from permits.accounts.sessions import (
    TOUCH_EVERY,
    SessionExpired,
    SessionUser,
    session_user,
    touch_session,
)
from permits.accounts.tokens import caller_for_token
from permits.api.deps import SAFE_METHODS, NowDep
from permits.api.nul_guard import NUL, NUL_CODE, NUL_MESSAGE
from permits.db import write_session
from permits.errors import FieldError, NotAuthenticated, ValidationFailed
from permits.web.errors import CsrfFailed, LoginRequired, PasswordChangeRequired, PayloadTooLarge
from permits.web.security import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    csrf_valid,
    same_origin,
)

MAX_BODY_BYTES = 12 * 1024 * 1024  # the largest form or upload any page accepts


async def mark_page(request: Request) -> None:
    """Mark the request as a page, so errors answer with HTML (or a redirect to log in)."""
    request.state.web_page = True


async def csrf_protect(request: Request) -> None:
    """Refuse a form that writes (POST, PUT, PATCH, DELETE) without this browser's CSRF token
    (form field `csrf_token` or header X-CSRF-Token) or sent from another site.

    Also refuses bodies over `MAX_BODY_BYTES` before reading them, and keeps the posted text
    fields in `request.state.form_snapshot` (so an expired session can keep a draft).
    """
    if request.method in SAFE_METHODS:
        return
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
        raise PayloadTooLarge("the request is too large")
    token = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    fields: list[tuple[str, str]] = []
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        token = token or next((v for k, v in fields if k == CSRF_FIELD), None)
        with_nul = [k.replace(NUL, "?") for k, v in fields if NUL in k or NUL in v]
        if with_nul:  # PostgreSQL cannot store it: refuse by field, before anything runs
            raise ValidationFailed([FieldError(name, NUL_CODE, NUL_MESSAGE) for name in with_nul])
    if not same_origin(request) or not csrf_valid(request, token):
        raise CsrfFailed("this form has expired or did not come from this site; reload the page")
    request.state.form_snapshot = fields
    request.state.csrf_checked = True


def _engine(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.engine


def current_session_user(request: Request, now: datetime) -> SessionUser | None:
    """Return the logged-in user of this request, or None (reads in a session of its own)."""
    cached = getattr(request.state, "page_user", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    with Session(_engine(request)) as session:
        try:
            user = session_user(session, token=token, now=now)
        except SessionExpired:
            return None
    if now - user.last_seen_at >= TOUCH_EVERY:
        with write_session(_engine(request)) as session:
            touch_session(session, session_id=user.session_id, now=now)
    request.state.page_user = user
    return user


def get_page_user(request: Request, now: NowDep) -> SessionUser:
    """The logged-in user (even one who must still change a one-time password).

    Raises LoginRequired (the browser goes to the login page) when the session is missing,
    ended or timed out.
    """
    user = current_session_user(request, now)
    if user is None:
        raise LoginRequired("log in to continue")
    return user


PageUserDep = Annotated[SessionUser, Depends(get_page_user)]


def get_page_caller(user: PageUserDep) -> Caller:
    """The caller behind a page: the logged-in user with all of their roles.

    Raises PasswordChangeRequired while a one-time password has not been changed.
    """
    if user.must_change_password:
        raise PasswordChangeRequired("choose your own password first")
    return user.caller


PageCallerDep = Annotated[Caller, Depends(get_page_caller)]


def page_caller_with(roles: frozenset[str] | set[str]) -> Callable[[Caller], Caller]:
    """A dependency giving the page's caller if they hold one of `roles` (else NotPermitted).

    Usage: `IssuerDep = Annotated[Caller, Depends(page_caller_with(ISSUING_ROLES))]`.
    """
    wanted = frozenset(roles)

    def dependency(caller: PageCallerDep) -> Caller:
        caller.require_any(wanted)
        return caller

    return dependency


def get_any_caller(request: Request, now: NowDep) -> Caller:
    """The caller by API bearer token or, for reading (GET), by browser session.

    For downloads that both clinic systems and the pages link to (a PDF, a QR image).
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        with Session(_engine(request)) as session:
            return caller_for_token(session, token.strip())
    if request.method in SAFE_METHODS:
        user = current_session_user(request, now)
        if user is not None and not user.must_change_password:
            return user.caller
    raise NotAuthenticated("log in, or send an API token as 'Authorization: Bearer <token>'")


AnyCallerDep = Annotated[Caller, Depends(get_any_caller)]
