"""Real server processes and a cuttable TCP proxy, for fault tests and the load benchmarks.

`ServerProcess` starts `permits serve` (SQLite: one process; PostgreSQL: `--production`
with several workers) in its own process group, so a test can SIGKILL all of it at once, as
a crash would. `TcpProxy` stands between the server and PostgreSQL: cutting it takes the
database away from the server without touching the shared PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PERMITS = ROOT / ".venv" / "bin" / "permits"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """`permits serve` in a process group of its own, logging to a file."""

    folder: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    workers: int | None = 1  # None: the server's own default
    production: bool = False
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """The file that collects the server's output (all starts)."""
        return self.folder / "server.log"

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def start(self, *, timeout: float = 90.0) -> ServerProcess:
        """Start the server and wait until /healthz answers."""
        command = [str(PERMITS), "serve", "--port", str(self.port)]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        if self.production:
            command += ["--production", "--publish-every", "1"]
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n--- start {self.starts + 1}: {' '.join(command)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                command,
                cwd=self.folder,
                env={**os.environ, **self.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while True:
            if self.answers("/healthz"):
                return self
            if self.process.poll() is not None or time.monotonic() > deadline:
                output = self.log()
                self.stop()
                raise RuntimeError(f"the server did not start:\n{output[-4000:]}")
            time.sleep(0.2)

    def answers(self, path: str) -> bool:
        """True when GET `path` answers 200."""
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=2) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the whole process group (supervisor and workers), as a crash would."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reap_group()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it lingers)."""
        if self.process is None:
            return
        if self.process.poll() is not None:
            self._reap_group()
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self._reap_group()

    def _reap_group(self) -> None:
        """Wait until no process of the group is left (workers exit after their parent)."""
        assert self.process is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.killpg(self.process.pid, signal.SIGKILL)


def server_env(
    *,
    database_url: str,
    keys_dir: Path,
    lists_dir: Path,
    passphrase: str,
    kdf_rounds: int = 1000,
    env: str = "test",
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a server process on this database and key folder."""
    return {
        "PERMITS_ENV": env,
        "PERMITS_DATABASE_URL": database_url,
        "PERMITS_KEYS_DIR": str(keys_dir),
        "PERMITS_LISTS_DIR": str(lists_dir),
        "PERMITS_KEY_PASSPHRASE": passphrase,
        "PERMITS_KEY_KDF_ROUNDS": str(kdf_rounds),
        "PERMITS_LIST_REFRESH_SECONDS": "3600",
        **(extra or {}),
    }


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 to `upstream`, which a test can cut and restore.

    cut(): every open connection is closed and new ones are refused (the database is gone).
    blackhole(): new connections are accepted but nothing is forwarded (a dead network).
    restore(): forwarding again, on the same port.
    """

    def __init__(self, upstream: tuple[str, int], port: int | None = None) -> None:
        self.upstream = upstream
        self.port = port or free_port()
        self._mode = "forward"
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> TcpProxy:
        """Start listening and forwarding."""
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._thread.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
                self._sockets.add(client)
            if mode == "blackhole":
                continue  # hold it open, forward nothing
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                self._close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._sockets.add(server)
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            self._close(source)
            self._close(target)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def _drop_everything(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            self._close(sock)

    def cut(self) -> None:
        """Close every connection and refuse new ones."""
        with self._lock:
            self._mode = "cut"
        self._drop_everything()

    def blackhole(self) -> None:
        """Close every connection; accept new ones but never forward a byte."""
        self._drop_everything()
        with self._lock:
            self._mode = "blackhole"
        self._listen()

    def restore(self) -> None:
        """Forward again (after cut or blackhole)."""
        self._drop_everything()
        with self._lock:
            self._mode = "forward"
        self._listen()

    def close(self) -> None:
        """Stop for good."""
        self.cut()
