"""A small asyncio HTTP/1.1 load client: keep-alive connections, one request in flight each.

The benchmarks' client must cost far less CPU than the server it measures (they share
this machine's two cores), so it writes requests as prepared bytes and reads only the status
line and Content-Length of each answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Tally:
    """Statuses, latencies (seconds) and kept bodies of one kind of request."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    def count(self) -> int:
        """Requests answered."""
        return sum(self.statuses.values())

    def percentile(self, share: float) -> float:
        """The latency below which `share` (0..1) of the answers came, in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def request_bytes(
    method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    """Return one HTTP/1.1 request as bytes, ready to write on a keep-alive connection."""
    parts = urlsplit(url)
    lines = [
        f"{method} {parts.path or '/'}{'?' + parts.query if parts.query else ''} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
    ]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes
) -> tuple[int, bytes]:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    url: str,
    *,
    connections: int,
    seconds: float,
    make_request: Callable[[int], bytes],
    tally: Tally,
    keep_body: Callable[[int, bytes], bool] = lambda _status, _body: False,
) -> None:
    """Send requests made by `make_request(i)` on `connections` connections for `seconds`.

    Every answer's status and latency goes in `tally`; bodies for which `keep_body` is true
    are kept.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    deadline = time.monotonic() + seconds
    counter = iter(range(10**12))

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while time.monotonic() < deadline:
                data = make_request(next(counter))
                started = time.perf_counter()
                status, body = await _exchange(reader, writer, data)
                tally.latencies.append(time.perf_counter() - started)
                tally.statuses[status] = tally.statuses.get(status, 0) + 1
                if keep_body(status, body):
                    tally.bodies.append(body)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
