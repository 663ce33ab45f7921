"""uvicorn's httptools protocol, writing each answer to the socket once instead of twice.

uvicorn writes an answer's status line and headers when the app sends `http.response.start`,
and its body when the app sends `http.response.body`: two `send` system calls, two TCP
segments and, on the client's side, often two wake-ups, for an answer of a few hundred bytes.
An online check is such an answer, a thousand times a second, and sampling the workers put
about a tenth of their samples in uvicorn's `send`.

`CoalescingHttpToolsProtocol` hands uvicorn a transport that keeps what is written during one
turn of the event loop and writes it to the socket in one call at the end of that turn (at
once before closing, and as soon as FLUSH_AT bytes are kept, so that a large streamed answer
is neither held in memory nor kept from uvicorn's flow control). uvicorn's parsing,
keep-alive, flow control and timeouts are unchanged: the real transport still tells the
protocol when to pause and resume.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

FLUSH_AT = 65536
"""Bytes kept before they are written without waiting for the end of the event-loop turn."""


class _CoalescingTransport:
    """A transport whose writes in one turn of the event loop reach the socket together."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._kept = 0

    def write(self, data: bytes) -> None:
        """Keep `data`; it is written, after what was written before it, at the end of this
        turn of the event loop, or now once FLUSH_AT bytes are kept."""
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))
        self._kept += len(data)
        if self._kept >= FLUSH_AT:
            self._flush()

    def writelines(self, chunks: Any) -> None:
        """Keep each of `chunks`, as write does."""
        for chunk in chunks:
            self.write(chunk)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        self._kept = 0
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        """Write what is kept, then close (as asyncio's close sends what is buffered)."""
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        """Drop what is kept and close at once."""
        self._pending.clear()
        self._kept = 0
        self._transport.abort()

    def get_write_buffer_size(self) -> int:
        """Bytes kept here and in the real transport's buffer."""
        return self._kept + self._transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol on a transport that writes once per event-loop turn."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the connection as uvicorn does, on a coalescing view of `transport`."""
        super().connection_made(_CoalescingTransport(transport, self.loop))  # type: ignore[arg-type]
