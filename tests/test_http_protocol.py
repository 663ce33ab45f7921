"""The production server's HTTP protocol writes each answer to the socket once.

A real uvicorn server (in a thread) serves a small Starlette app with
`CoalescingHttpToolsProtocol`; a recorder between the protocol and the real transport counts
the writes that reach the socket. uvicorn's own protocol, behind the same recorder, shows
what the test would see without the change: two writes for one answer.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from permits.ops.http_protocol import FLUSH_AT, CoalescingHttpToolsProtocol
from tests.browser import LiveServer

BIG_CHUNK = b"x" * 65536
BIG_CHUNKS = 64  # 4 MiB: more than the socket takes at once, so uvicorn must pause writing


async def small(_request: Any) -> JSONResponse:
    return JSONResponse({"status": "valid", "text": "ნებართვა icazə"})


async def big(_request: Any) -> StreamingResponse:
    async def chunks() -> Any:
        for _ in range(BIG_CHUNKS):
            yield BIG_CHUNK

    return StreamingResponse(chunks(), media_type="application/octet-stream")


APP = Starlette(routes=[Route("/small", small), Route("/big", big)])


WRITES: list[int] = []
"""The sizes of the writes that reached the real transports, in order."""


class _Recorder:
    """Sits on the real transport and counts the writes that reach it."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport

    def write(self, data: bytes) -> None:
        WRITES.append(len(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class RecordedCoalescing(CoalescingHttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Recorder(transport))  # type: ignore[arg-type]


class RecordedUvicorn(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_Recorder(transport))  # type: ignore[arg-type]


def _serve(protocol: type) -> LiveServer:
    return LiveServer(APP, http=protocol, lifespan="off").start()


def _read_answer(sock: socket.socket, buffer: bytearray) -> tuple[bytes, bytes]:
    """Read one answer with a Content-Length or chunked body; return (head, body)."""
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    buffer[:] = rest
    headers = {
        line.split(b":", 1)[0].strip().lower(): line.split(b":", 1)[1].strip()
        for line in head.split(b"\r\n")[1:]
    }
    if b"content-length" in headers:
        length = int(headers[b"content-length"])
        while len(buffer) < length:
            buffer += sock.recv(65536)
        body = bytes(buffer[:length])
        del buffer[:length]
        return head, body
    body = bytearray()
    while True:  # chunked
        while b"\r\n" not in buffer:
            buffer += sock.recv(65536)
        size_line, _, _ = bytes(buffer).partition(b"\r\n")
        size = int(size_line, 16)
        while len(buffer) < len(size_line) + 2 + size + 2:
            buffer += sock.recv(65536)
        body += buffer[len(size_line) + 2 : len(size_line) + 2 + size]
        del buffer[: len(size_line) + 2 + size + 2]
        if size == 0:
            return head, bytes(body)


def _exchange(url: str, requests: list[bytes]) -> list[tuple[bytes, bytes]]:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"".join(requests))  # pipelined, as a keep-alive client may
        buffer = bytearray()
        return [_read_answer(sock, buffer) for _ in requests]


def _get(path: str, *, close: bool = False) -> bytes:
    extra = b"Connection: close\r\n" if close else b""
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\n" + extra + b"\r\n"


@pytest.mark.parametrize(
    ("protocol", "writes_per_answer"), [(RecordedCoalescing, 1), (RecordedUvicorn, 2)]
)
def test_small_answers_reach_the_socket_in_one_write(
    protocol: type, writes_per_answer: int
) -> None:
    server = _serve(protocol)
    try:
        WRITES.clear()
        answers = _exchange(server.url, [_get("/small")])
        answers += _exchange(server.url, [_get("/small"), _get("/small", close=True)])
    finally:
        server.stop()
    assert len(answers) == 3
    for head, body in answers:
        assert head.startswith(b"HTTP/1.1 200 OK")
        assert body == '{"status":"valid","text":"ნებართვა icazə"}'.encode()
    assert len(WRITES) == 3 * writes_per_answer


def test_a_large_streamed_answer_arrives_whole_and_in_order() -> None:
    """Flow control still works: 4 MiB streamed in chunks, then a small answer on the same
    connection, then a close the server honours after writing everything."""
    server = _serve(RecordedCoalescing)
    try:
        WRITES.clear()
        answers = _exchange(server.url, [_get("/big"), _get("/small"), _get("/big", close=True)])
    finally:
        server.stop()
    (_h1, first), (_h2, second), (h3, third) = answers
    assert first == third == BIG_CHUNK * BIG_CHUNKS
    # Written as it comes, not kept whole: no write much above FLUSH_AT (one chunk's framing).
    assert len(WRITES) >= 2 * BIG_CHUNKS
    assert max(WRITES) < FLUSH_AT + 1024
    assert second.startswith(b'{"status":"valid"')
    assert b"connection: close" in h3.lower()
