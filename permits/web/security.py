"""Cookies, CSRF tokens and small signed or encrypted cookie payloads.

CSRF: every form carries a token that is an HMAC of the browser's session cookie (or, before
login, of a random pre-session cookie) under the service's secret. A cross-site page can
make the browser send the cookie but cannot read it, so it cannot compute the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Request, Response

from permits.settings import Settings

SESSION_COOKIE = "permits_session"
PRE_SESSION_COOKIE = "permits_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def _secret(request: Request) -> bytes:
    settings: Settings = request.app.state.settings
    return settings.secret_key.get_secret_value().encode()


def derived_key(request: Request, purpose: str) -> bytes:
    """A 32-byte key for one purpose, derived from the service's secret."""
    return hmac.new(_secret(request), b"permits-web:" + purpose.encode(), hashlib.sha256).digest()


def secure_cookies(request: Request) -> bool:
    """True when cookies must be marked Secure (served over HTTPS)."""
    settings: Settings = request.app.state.settings
    return request.url.scheme == "https" or settings.public_base_url.startswith("https://")


def set_cookie(
    request: Request, response: Response, name: str, value: str, *, max_age: int | None
) -> None:
    """Set an HttpOnly, SameSite=Lax cookie for the whole site (Secure over HTTPS)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(request),
    )


def delete_cookie(request: Request, response: Response, name: str) -> None:
    """Remove a cookie set by `set_cookie`."""
    response.delete_cookie(
        name, path="/", httponly=True, samesite="lax", secure=secure_cookies(request)
    )


def _csrf_for(request: Request, basis: str) -> str:
    return hmac.new(derived_key(request, "csrf"), basis.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    """The CSRF token for forms on this page (creates the pre-session cookie if needed)."""
    session_token = request.cookies.get(SESSION_COOKIE)
    if session_token:
        return _csrf_for(request, "s:" + session_token)
    pre = request.cookies.get(PRE_SESSION_COOKIE) or getattr(request.state, "new_pre_csrf", None)
    if not pre:
        pre = secrets.token_urlsafe(24)
        request.state.new_pre_csrf = pre
    return _csrf_for(request, "p:" + pre)


def csrf_valid(request: Request, token: str | None) -> bool:
    """True when `token` is this browser's CSRF token."""
    if not token:
        return False
    session_token = request.cookies.get(SESSION_COOKIE)
    candidates = []
    if session_token:
        candidates.append(_csrf_for(request, "s:" + session_token))
    pre = request.cookies.get(PRE_SESSION_COOKIE)
    if pre:
        candidates.append(_csrf_for(request, "p:" + pre))
    return any(hmac.compare_digest(token, c) for c in candidates)


def same_origin(request: Request) -> bool:
    """False when the request names another site in Origin (or, lacking it, Referer)."""
    own = f"{request.url.scheme}://{request.url.netloc}"
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return origin == own
    referer = request.headers.get("referer")
    if referer:
        return referer == own or referer.startswith(own + "/")
    return True


def sign(request: Request, purpose: str, payload: Any) -> str:
    """Return `payload` as JSON in a cookie-safe string with an HMAC (readable, not secret)."""
    body = base64.urlsafe_b64encode(json.dumps(payload, ensure_ascii=False).encode()).decode()
    mac = hmac.new(derived_key(request, purpose), body.encode(), hashlib.sha256).hexdigest()[:32]
    return f"{body}.{mac}"


def unsign(request: Request, purpose: str, value: str | None) -> Any:
    """Return the payload of a string made by `sign`, or None if it was altered."""
    if not value or "." not in value:
        return None
    body, _, mac = value.rpartition(".")
    expected = hmac.new(derived_key(request, purpose), body.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected[:32]):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(body.encode()))
    except ValueError:
        return None


def _fernet(request: Request, purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(derived_key(request, purpose)))


def encrypt(request: Request, purpose: str, payload: Any) -> str:
    """Return `payload` as JSON, encrypted and authenticated (Fernet), for a cookie."""
    data = json.dumps(payload, ensure_ascii=False).encode()
    return _fernet(request, purpose).encrypt(data).decode()


def decrypt(request: Request, purpose: str, value: str | None, *, ttl: int) -> Any:
    """Return the payload of a string made by `encrypt` within `ttl` seconds, else None."""
    if not value:
        return None
    try:
        return json.loads(_fernet(request, purpose).decrypt(value.encode(), ttl=ttl))
    except (InvalidToken, ValueError):
        return None
