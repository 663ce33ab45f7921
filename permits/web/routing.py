"""Page routers and how page errors are answered.

`page_router()` returns an APIRouter whose routes are pages: left out of the OpenAPI
document, CSRF-checked on every method that writes, and answered in HTML when they fail
(a missing or expired session becomes a redirect to the login page, keeping a draft of
what was typed; other errors become an error page in the user's language).
"""

from __future__ import annotations

import inspect
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response

from permits.api.deps import SAFE_METHODS
from permits.errors import (
    FieldError,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    PermitsError,
    ValidationFailed,
)
from permits.web.deps import csrf_protect, mark_page
from permits.web.drafts import save_draft
from permits.web.errors import PasswordChangeRequired
from permits.web.flash import carry_flashes, flash, redirect
from permits.web.forms import error_text
from permits.web.templating import Pages

LOGIN_PATH = "/login"
PASSWORD_PATH = "/account/password"  # noqa: S105 - a path, not a password
_pages = Pages()


def page_router(**kwargs: Any) -> APIRouter:
    """An APIRouter for pages (CSRF on writes, HTML errors, not in the API schema)."""
    dependencies = [Depends(mark_page), Depends(csrf_protect), *kwargs.pop("dependencies", [])]
    return APIRouter(include_in_schema=False, dependencies=dependencies, **kwargs)


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` if it is a path on this site (never another host), else `default`."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def login_url(next_path: str) -> str:
    """The login page, coming back to `next_path` afterwards."""
    return f"{LOGIN_PATH}?next={quote(safe_next(next_path), safe='/')}"


def is_page(request: Request) -> bool:
    """True when the request was routed to a page (see `page_router`)."""
    return bool(getattr(request.state, "web_page", False))


def page_error(request: Request, exc: PermitsError) -> Response:
    """Answer a failed page: a redirect to log in or to change the password, or an error
    page with the error's status code in the user's language."""
    _ = gettext = _pages.gettext(request)
    if isinstance(exc, NotAuthenticated):
        target = request.url.path
        if request.method in SAFE_METHODS and request.url.query:
            target += "?" + request.url.query
        response: Response = RedirectResponse(login_url(target), status_code=303)
        kept = False
        if request.method not in SAFE_METHODS and getattr(request.state, "csrf_checked", False):
            kept = save_draft(
                request, response, request.url.path, getattr(request.state, "form_snapshot", [])
            )
        if kept:
            message = _("Your session has ended. Log in again; what you typed is kept.")
        else:
            message = _("Log in to continue.")
        flash(request, message, "warning")
        carry_flashes(request, response)
        return response
    if isinstance(exc, PasswordChangeRequired):
        flash(request, _("Choose your own password before you continue."), "warning")
        return redirect(request, PASSWORD_PATH)
    if isinstance(exc, ValidationFailed):
        messages = [error_text(e, gettext) for e in exc.errors]
    else:
        messages = [error_text(exc.as_field_errors()[0], gettext)]
    titles = {
        403: _("Not allowed"),
        404: _("Not found"),
        409: _("Not possible now"),
        413: _("Too large"),
        422: _("Please check what you entered"),
        429: _("Too many attempts"),
    }
    title = titles.get(exc.status_code, _("Something went wrong"))
    if isinstance(exc, NotPermitted) and exc.code == "csrf_failed":
        title = _("This form has expired")
    return _pages.render(
        request,
        "web/error.html",
        {"title": title, "messages": messages, "status": exc.status_code},
        status_code=exc.status_code,
    )


def install_page_errors(app: FastAPI) -> None:
    """Route page errors to `page_error`; API errors keep their JSON handlers."""
    api_handler = app.exception_handlers.get(PermitsError)
    api_validation = app.exception_handlers.get(RequestValidationError)

    async def permits_error(request: Request, exc: Exception) -> Response:
        if is_page(request) and isinstance(exc, PermitsError):
            return page_error(request, exc)
        assert api_handler is not None
        result = api_handler(request, exc)
        return await result if inspect.isawaitable(result) else result

    async def validation_error(request: Request, exc: Exception) -> Response:
        if is_page(request) and isinstance(exc, RequestValidationError):
            bad_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
            if bad_path:
                return page_error(request, NotFound("no such page"))
            fields = ", ".join(
                str(e.get("loc", ("", ""))[-1]) for e in exc.errors() if e.get("loc")
            )
            return page_error(
                request,
                ValidationFailed([FieldError(fields, "invalid", "a value is not valid")]),
            )
        assert api_validation is not None
        outcome = api_validation(request, exc)
        return await outcome if inspect.isawaitable(outcome) else outcome

    app.add_exception_handler(PermitsError, permits_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def app_routes(app: FastAPI) -> list[tuple[frozenset[str], str]]:
    """Every (methods, full path) the application serves, including routes of included
    routers (which this FastAPI keeps inside included-router objects)."""
    from starlette.routing import Route

    found: list[tuple[frozenset[str], str]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            for context in contexts():
                inner = context.starlette_route or context.original_route
                methods = getattr(inner, "methods", None) or getattr(
                    context.original_route, "methods", None
                )
                path = context.path or getattr(inner, "path", "")
                found.append((frozenset(methods or ()), str(path)))
        elif isinstance(route, Route):
            found.append((frozenset(route.methods or ()), route.path))
    return found
