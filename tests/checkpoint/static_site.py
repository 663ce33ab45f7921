"""The checkpoint app built as plain static files (permits.checkpoint.build) and served by a
plain HTTP server, with the golden vectors' lists: what any web server can host."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from permits.checkpoint.build import build

VECTORS = Path(__file__).parents[1] / "vectors"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output clean."""


@contextmanager
def static_site(out_dir: Path, vectors: Path = VECTORS) -> Iterator[str]:
    """Build the app into `out_dir` pinned to the vectors' root key, put the vectors' signed
    lists under lists/, serve the folder on a free loopback port and yield its URL."""
    build(
        out_dir,
        root_key_pem=vectors / "root-public-key.pem",
        lists_url="lists/",
        api_url="api/",
    )
    (out_dir / "lists").mkdir(exist_ok=True)
    for name in ("trust-list.cose", "revocation-list.cose"):
        shutil.copy(vectors / name, out_dir / "lists" / name)
    handler = functools.partial(_QuietHandler, directory=str(out_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
