"""Rendering pages: one Jinja2 environment, per-request language, the layout's context.

An area makes a `Pages` object naming its gettext domain and renders with it:

    pages = Pages("workspace")
    return pages.render(request, "workspace/home.html", {"permits": rows})

Templates come from the project's `templates/` folder (pages) and from
`permits/web/templates/` (the layer's macros: `{% import "web/forms.html" as forms %}`).
Every template gets: `_`/`gettext`/`ngettext` in the page's language, `lang`, `user` (the
logged-in `SessionUser` or None), `caller`, `organisation_name`, `nav`, `flashes`,
`languages` (switch links), `csrf_token()`, `static()`, `url_with()` and the filters
`localtime`, `localdate`, `hhmm`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape

from permits import __version__
from permits.accounts.caller import Caller
from permits.i18n import LANGUAGES
from permits.issuance.plates import format_plate
from permits.timezone import LOCAL
from permits.web import i18n
from permits.web.drafts import clear_draft_if_taken
from permits.web.flash import take_flashes
from permits.web.security import PRE_SESSION_COOKIE, csrf_token, set_cookie

ROOT = Path(__file__).resolve().parents[2]
PAGE_TEMPLATES = ROOT / "templates"
LAYER_TEMPLATES = Path(__file__).with_name("templates")
STATIC_DIR = Path(__file__).with_name("static")
STATIC_PATH = "/static/web"

_request: ContextVar[Request] = ContextVar("current_request")


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link in the layout's navigation, shown to users holding one of `roles` (None: all)."""

    key: str
    path: str
    label: str  # English msgid, translated in `domain`
    domain: str
    roles: frozenset[str] | None = None
    order: int = 100


_NAV: dict[str, NavItem] = {}


def add_nav(item: NavItem) -> None:
    """Add (or replace, by key) a navigation link; areas call this when their routes load."""
    _NAV[item.key] = item


def nav_for(caller: Caller | None, language: str, current_path: str) -> list[dict[str, Any]]:
    """The navigation links `caller` may follow, translated, the current one marked."""
    if caller is None:
        return []
    items = sorted(_NAV.values(), key=lambda i: (i.order, i.key))
    links = []
    for item in items:
        if item.roles is not None and not caller.has_any(item.roles):
            continue
        label = i18n.translator(language, (item.domain,)).gettext(item.label)
        active = current_path == item.path or (
            item.path != "/" and current_path.startswith(item.path.rstrip("/") + "/")
        )
        links.append({"key": item.key, "path": item.path, "label": label, "active": active})
    return links


def _translator() -> i18n.Translator:
    try:
        return i18n.current.get()
    except LookupError:
        return i18n.translator("en")


def _gettext(message: str) -> str:
    # Jinja's newstyle wrapper escapes the %(name)s variables and formats
    return _translator().gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return _translator().ngettext(singular, plural, n)


def _csrf_token() -> str:
    return csrf_token(_request.get())


def static(path: str) -> str:
    """URL of a file in permits/web/static (versioned, so browsers refetch after an upgrade)."""
    return f"{STATIC_PATH}/{path}?v={__version__}"


def _url_with(**changes: Any) -> str:
    request = _request.get()
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None or value == "":
            continue
        if isinstance(value, list | tuple):
            params.extend((key, str(v)) for v in value)
        else:
            params.append((key, str(value)))
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A timestamp in Tbilisi local time."""
    if value is None:
        return ""
    return value.astimezone(LOCAL).strftime(fmt)


def localdate(value: datetime | date | None) -> str:
    """A date (of a timestamp in Tbilisi local time) as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL).strftime("%Y-%m-%d")
    return value.isoformat()


def hhmm(minutes: int) -> str:
    """Minutes after midnight as HH:MM."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one Jinja2 environment (autoescaping on; unknown variables are errors)."""
    env = Environment(
        loader=ChoiceLoader(
            [FileSystemLoader(str(PAGE_TEMPLATES)), FileSystemLoader(str(LAYER_TEMPLATES))]
        ),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        csrf_token=_csrf_token,
        static=static,
        url_with=_url_with,
        languages_list=LANGUAGES,
    )
    env.filters.update(localtime=localtime, localdate=localdate, hhmm=hhmm, plate=format_plate)
    return env


class Pages:
    """Renders an area's templates in the request's language (its domain first)."""

    def __init__(self, domain: str | None = None, *more_domains: str) -> None:
        self.domains = tuple(d for d in (domain, *more_domains) if d)

    def translator(self, request: Request) -> i18n.Translator:
        """The translator for this request's language over the area's domains."""
        return i18n.translator(i18n.request_language(request), self.domains)

    def gettext(self, request: Request) -> Callable[[str], str]:
        """A gettext function in the request's language (for flash messages and errors)."""
        return self.translator(request).gettext

    def render(
        self,
        request: Request,
        name: str,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        """Render template `name` with the layout's context plus `context`."""
        language = i18n.request_language(request)
        translator = self.translator(request)
        user = getattr(request.state, "page_user", None)
        caller = user.caller if user is not None and not user.must_change_password else None
        flashes = take_flashes(request)
        path = request.url.path
        full = path + (f"?{request.url.query}" if request.url.query else "")
        values: dict[str, Any] = {
            "request": request,
            "lang": language,
            "user": user,
            "caller": caller,
            "organisation_name": user.organisation_name(language) if user else "",
            "nav": nav_for(caller, language, path),
            "flashes": flashes,
            "languages": [
                {
                    "code": code,
                    "name": i18n.LANGUAGE_NAMES[code],
                    "url": "/language/" + code + "?" + urlencode({"next": full}),
                    "current": code == language,
                }
                for code in LANGUAGES
            ],
            "current_path": path,
        }
        values.update(context or {})
        token_t = i18n.current.set(translator)
        token_r = _request.set(request)
        try:
            body = environment().get_template(name).render(values)
        finally:
            i18n.current.reset(token_t)
            _request.reset(token_r)
        response = HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Language"] = language
        if request.cookies.get("permits_flash"):
            take_flashes(request, response)  # clears the cookie
        pre = getattr(request.state, "new_pre_csrf", None)
        if pre:
            set_cookie(request, response, PRE_SESSION_COOKIE, pre, max_age=None)
        clear_draft_if_taken(request, response)
        return response
