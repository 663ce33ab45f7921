"""Keeping what was typed when a session expires in the middle of a form.

When a form is posted after the session ended, the layer answers with a redirect to the
login page; if the form's CSRF token was good (it was this user's own form) the typed
fields are kept, encrypted, in a short-lived cookie. Passwords, tokens and files are never
kept. After logging in, the user lands on the same page, which calls `restore_draft` and
shows the fields filled in again. A draft too large for a cookie is dropped.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from permits.web.security import CSRF_FIELD, decrypt, delete_cookie, encrypt, set_cookie

DRAFT_COOKIE = "permits_draft"
DRAFT_TTL_SECONDS = 2 * 3600
MAX_COOKIE = 3800
NEVER_KEPT = ("password", "token", CSRF_FIELD, "idempotency")


def keepable(name: str) -> bool:
    """True for a form field that may be kept in a draft."""
    lowered = name.lower()
    return not any(part in lowered for part in NEVER_KEPT)


def save_draft(
    request: Request, response: Response, path: str, fields: list[tuple[str, str]]
) -> bool:
    """Keep `fields` (name, value pairs) for `path` in the draft cookie; False if too large."""
    kept = [[name, value[:500]] for name, value in fields if keepable(name)]
    if not kept:
        return False
    value = encrypt(request, "draft", {"path": path, "fields": kept})
    if len(value) > MAX_COOKIE:
        return False
    set_cookie(request, response, DRAFT_COOKIE, value, max_age=DRAFT_TTL_SECONDS)
    return True


def restore_draft(request: Request) -> list[tuple[str, str]] | None:
    """Return the fields kept for this page's path (once; the cookie is then cleared)."""
    payload: Any = decrypt(
        request, "draft", request.cookies.get(DRAFT_COOKIE), ttl=DRAFT_TTL_SECONDS
    )
    if not isinstance(payload, dict) or payload.get("path") != request.url.path:
        return None
    request.state.draft_taken = True
    return [(str(n), str(v)) for n, v in payload.get("fields", []) if keepable(str(n))]


def clear_draft_if_taken(request: Request, response: Response) -> None:
    """Delete the draft cookie once a page has restored it."""
    if getattr(request.state, "draft_taken", False):
        delete_cookie(request, response, DRAFT_COOKIE)
