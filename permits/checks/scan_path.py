"""The busy path of online checks, `POST /api/v1/verify` with a scanned code, served
without FastAPI's routing, dependency solving and response validation.

At a checkpoint that verifies online every car is one such request; profiled under load,
everything between uvicorn and the route's own code took about as many samples as the check lane's
database work, and twice as many as the signature check. This ASGI middleware answers
exactly the requests the route itself sends down its scanned-code path (a JSON body of
`qr_text` and `checkpoint` that `VerifyIn` accepts, no control code, a bearer token) and
hands every other request, unread, to the app: the route then answers it as before, errors
and all. It sits inside the app's other middlewares, so a scan still gets the security
headers, the NUL guard, the body limit and the 500 handler, and it renders errors with the
app's own exception handlers. The answer is the route's `VerifyOut`: the same JSON, status
and headers as the route's.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from permits.api.body import JSON, is_json, read_body, replay
from permits.checks.routes import scanned_answer
from permits.checks.schemas import CHECKPOINT_MAX as _CHECKPOINT_MAX
from permits.checks.schemas import QR_TEXT_MAX as _QR_MAX

PATH = "/api/v1/verify"
_MAX_BODY = 2 * (_QR_MAX + _CHECKPOINT_MAX) + 200  # a larger body is not a plain scan


class ScanPathMiddleware:
    """Answers scanned-code verifications itself; passes every other request on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        token, declared = _token_and_length(scope["headers"])
        if token is None or declared is None or declared > _MAX_BODY:
            await self.app(scope, receive, send)
            return
        messages, body = await read_body(receive, limit=_MAX_BODY)
        scan = _plain_scan(body) if body is not None else None
        if scan is None:
            await self.app(scope, replay(messages, receive), send)
            return
        app = scope["app"]
        try:
            answer = await scanned_answer(
                app.state, token=token, qr_text=scan[0], checkpoint=scan[1]
            )
        except Exception as exc:
            handler = _handler_for(app, exc)
            if handler is None:
                raise
            response = handler(Request(scope, replay(messages, receive)), exc)
            if inspect.isawaitable(response):  # Starlette allows sync handlers too
                response = await response
            await response(scope, receive, send)
            return
        content = answer.model_dump_json().encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(content)).encode()),
                    (b"content-type", JSON),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _token_and_length(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, int | None]:
    """The bearer token (as `bearer_token` reads it) and the declared body length, or None
    for each that is missing or not what a plain JSON scan sends."""
    token: str | None = None
    length: int | None = None
    json_body = False
    seen: set[bytes] = set()
    for name, value in headers:
        if name in seen:
            continue  # the first of a repeated header counts, as in Starlette's Headers.get
        seen.add(name)
        if name == b"authorization":
            scheme, _, rest = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and rest.strip():
                token = rest.strip()
        elif name == b"content-length":
            length = int(value) if value.isdigit() else None
        elif name == b"content-type":
            json_body = is_json(value)
    return token, (length if json_body else None)


def _plain_scan(body: bytes) -> tuple[str, str] | None:
    """(qr_text, checkpoint) when `body` is what `VerifyIn` accepts and the route sends down
    its scanned-code path; None for anything else (the route then judges it)."""
    try:
        value: Any = json.loads(body.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(value, dict) or not value.keys() <= {"qr_text", "checkpoint", "control_code"}:
        return None
    qr_text, checkpoint = value.get("qr_text"), value.get("checkpoint")
    if value.get("control_code") not in (None, ""):
        return None
    if not isinstance(qr_text, str) or not isinstance(checkpoint, str):
        return None
    if not (0 < len(qr_text) <= _QR_MAX and qr_text.isascii()):
        return None
    if not 0 < len(checkpoint) <= _CHECKPOINT_MAX or not checkpoint.isprintable():
        return None
    try:
        checkpoint.encode("utf-8")  # a lone surrogate from a \\ud800 escape goes the long way
    except UnicodeEncodeError:
        return None
    return qr_text, checkpoint


def _handler_for(app: Any, exc: Exception) -> Any:
    """The app's exception handler for `exc`'s class or its nearest base, as Starlette
    looks it up; None when the app has none (the error then reaches the 500 handler)."""
    handlers = app.exception_handlers
    for cls in type(exc).__mro__:
        if cls in handlers:
            return handlers[cls]
    return None
