"""Refuse the NUL character in any request's text before a route sees it.

PostgreSQL cannot store NUL (U+0000) in a text column: such a value would pass every
schema and then fail inside the transaction, as a 500. This middleware answers 422 instead,
naming each field that holds one (the JSON path or the query parameter), in the API's one
error shape; a path that holds one names nothing that exists (404). Forms are checked where
pages read them (`permits.web.deps`).
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from permits.api.body import is_json, read_body, replay
from permits.api.errors import error_body
from permits.errors import FieldError

NUL = "\x00"
NUL_CODE = "nul_character"
NUL_MESSAGE = "must not contain the NUL character (U+0000)"
NO_SUCH = "no such resource"
MAX_INSPECTED = 16 * 1024 * 1024  # larger JSON bodies pass on to the app's own limits


def nul_fields(value: Any, path: str = "") -> list[str]:
    """Return the paths (as the API names fields: `checks[0].checkpoint`) of every string,
    key included, in a decoded JSON value that contains NUL."""
    found: list[str] = []
    if isinstance(value, str):
        if NUL in value:
            found.append(path)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                found.append(name.replace(NUL, "?"))
            else:
                found.extend(nul_fields(item, name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(nul_fields(item, f"{path}[{index}]"))
    return found


class RefuseNulMiddleware:
    """Answers 422 to a request whose query string or JSON body holds NUL (404 for a path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if NUL in scope.get("path", ""):
            await _answer(scope, receive, send, 404, [FieldError("path", "not_found", NO_SUCH)])
            return
        fields: list[str] = []
        query = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            fields += [
                name.replace(NUL, "?")
                for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                if NUL in name or NUL in value
            ]
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"")
        if not is_json(content_type):
            if fields:
                await _refuse(scope, receive, send, fields)
                return
            await self.app(scope, receive, send)
            return
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_INSPECTED:
            if fields:
                await _refuse(scope, receive, send, fields)
            else:
                await self.app(scope, receive, send)  # the app's own size limit answers
            return
        messages, body = await read_body(receive, limit=MAX_INSPECTED)
        if body is None:  # longer than it said: not ours to judge
            await self.app(scope, replay(messages, receive), send)
            return
        if b"\\u0000" in body:
            with contextlib.suppress(ValueError):  # not JSON: the route's own parsing says so
                fields += nul_fields(json.loads(body))
        if fields:
            await _refuse(scope, receive, send, fields)
            return
        await self.app(scope, replay(messages, receive), send)


async def _refuse(scope: Scope, receive: Receive, send: Send, fields: list[str]) -> None:
    errors = [FieldError(field, NUL_CODE, NUL_MESSAGE) for field in fields]
    await _answer(scope, receive, send, 422, errors)


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, errors: list[FieldError]
) -> None:
    await JSONResponse(error_body(errors), status_code=status)(scope, receive, send)
