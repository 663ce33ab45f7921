"""Wiring the web layer into the application: static files, the language switch, the
account pages and HTML answers for page errors."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from permits.i18n import LANGUAGES
from permits.web.flash import redirect
from permits.web.i18n import LANGUAGE_COOKIE
from permits.web.routing import install_page_errors, page_router, safe_next
from permits.web.security import set_cookie
from permits.web.templating import STATIC_DIR, STATIC_PATH

language_router = page_router()


@language_router.get("/language/{code}")
def switch_language(request: Request, code: str, next: str = "/") -> Response:
    """Remember the chosen language (ka, az or en) in a cookie and go back to the page."""
    response = redirect(request, safe_next(next))
    if code in LANGUAGES:
        set_cookie(request, response, LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600)
    return response


def install_web(app: FastAPI) -> None:
    """Add the web layer to `app` (after the API's error handlers are installed)."""
    from permits.accounts.pages import router as account_router

    app.mount(STATIC_PATH, StaticFiles(directory=STATIC_DIR), name="web-static")
    app.include_router(language_router)
    app.include_router(account_router)
    install_page_errors(app)
