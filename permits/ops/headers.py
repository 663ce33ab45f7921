"""Security headers on every response, added by a small ASGI middleware.

A route that sets one of these headers itself (e.g. a page that needs a wider
Content-Security-Policy) keeps its own value: the middleware only fills in what is missing.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Everything from our own origin only; no inline script; images also as data:/blob: (QR
# codes, camera frames); WebAssembly allowed to compile (the checkpoint's QR decoder); no
# plugins; no framing by any other site; forms post back to us only.
DEFAULT_CSP = (
    "default-src 'self'; "
    "script-src 'self' 'wasm-unsafe-eval'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self'; "
    "connect-src 'self'; "
    "media-src 'self' blob:; "
    "worker-src 'self'; "
    "manifest-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

HSTS = "max-age=63072000; includeSubDomains"

BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(), geolocation=(), payment=()"),
)

# Responses that may carry personal data are never cached by browsers or proxies.
NO_STORE_TYPES = (b"application/json", b"text/html")


class SecurityHeadersMiddleware:
    """Adds the security headers to every HTTP response that does not set them itself.

    HSTS is sent only when the request came over HTTPS (directly, or as the settings'
    public URL says when behind a TLS-terminating proxy).
    """

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                message["headers"] = with_security_headers(headers, https=https)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(
    headers: Iterable[tuple[bytes, bytes]], *, https: bool
) -> list[tuple[bytes, bytes]]:
    """Return `headers` with every missing security header added (names are lower-case)."""
    out = list(headers)
    present = {name.lower() for name, _ in out}
    wanted = list(BASE_HEADERS)
    wanted.append((b"content-security-policy", DEFAULT_CSP.encode()))
    if https:
        wanted.append((b"strict-transport-security", HSTS.encode()))
    content_type = next((value for name, value in out if name.lower() == b"content-type"), b"")
    if content_type.startswith(NO_STORE_TYPES):
        wanted.append((b"cache-control", b"no-store"))
    for name, value in wanted:
        if name not in present:
            out.append((name, value))
    return out
