"""Reading a request's body inside an ASGI middleware, and handing it on unread.

Middlewares that must look at a body before the app does (the NUL guard, the scan path)
read it with `read_body` and pass the app `replay(messages, receive)`, which gives it the
same messages again.
"""

from __future__ import annotations

from starlette.types import Message, Receive

JSON = b"application/json"


def is_json(content_type: bytes) -> bool:
    """True when a Content-Type header value names JSON (parameters such as charset aside)."""
    return content_type.split(b";")[0].strip().lower() == JSON


async def read_body(receive: Receive, *, limit: int) -> tuple[list[Message], bytes | None]:
    """Read the request's messages; return them, and the body they carry (as far as it came,
    if the client went away), or None when the body grew past `limit` bytes."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":  # the client went away
            break
        size += len(message.get("body", b""))
        if size > limit:
            return messages, None
        if not message.get("more_body", False):
            break
    return messages, b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")


def replay(messages: list[Message], receive: Receive) -> Receive:
    """A receive() that hands the app the messages already read, in order, then the
    client's next ones."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
