"""Flash messages: short notes shown once on the next page ("Permit issued", "Logged out").

A route adds them with `flash(request, text)`; `redirect` carries them in a signed cookie to
the next page, and `Pages.render` shows and clears them. Texts are translated when added.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response
from fastapi.responses import RedirectResponse

from permits.web.security import delete_cookie, set_cookie, sign, unsign

FLASH_COOKIE = "permits_flash"
KINDS = ("info", "success", "warning", "error")


@dataclass(frozen=True, slots=True)
class Flash:
    """One message and its kind: info, success, warning or error."""

    kind: str
    text: str


def flash(request: Request, text: str, kind: str = "info") -> None:
    """Queue `text` to be shown once, on this page or on the page a redirect leads to."""
    pending: list[Flash] = getattr(request.state, "flash_out", None) or []
    pending.append(Flash(kind if kind in KINDS else "info", text[:500]))
    request.state.flash_out = pending


def take_flashes(request: Request, response: Response | None = None) -> list[Flash]:
    """Return the messages for this page (from the cookie and this request) and clear them."""
    incoming = unsign(request, "flash", request.cookies.get(FLASH_COOKIE)) or []
    items = [Flash(str(k), str(t)) for k, t in incoming if k in KINDS][:10]
    items.extend(getattr(request.state, "flash_out", None) or [])
    request.state.flash_out = []
    if response is not None and request.cookies.get(FLASH_COOKIE):
        delete_cookie(request, response, FLASH_COOKIE)
    return items


def carry_flashes(request: Request, response: Response) -> None:
    """Put this request's queued messages into the cookie of `response` (for a redirect)."""
    pending: list[Flash] = getattr(request.state, "flash_out", None) or []
    if pending:
        payload = [[f.kind, f.text] for f in pending][:10]
        set_cookie(request, response, FLASH_COOKIE, sign(request, "flash", payload), max_age=300)
        request.state.flash_out = []


def redirect(request: Request, url: str, *, status_code: int = 303) -> RedirectResponse:
    """A redirect (303: the browser GETs `url`) carrying any queued flash messages."""
    response = RedirectResponse(url, status_code=status_code)
    carry_flashes(request, response)
    return response
