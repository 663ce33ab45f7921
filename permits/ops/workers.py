"""Several uvicorn worker processes, each accepting on a socket of its own.

uvicorn's own multi-process mode shares one listening socket between its workers, and a
worker that wakes for it accepts every connection waiting: sixteen keep-alive connections
opened together (a clinic's system, a load test) all land on one worker, and one process
- one core, with Python's interpreter lock - then serves them while the other idles. Here
each worker binds its own socket with SO_REUSEPORT, and the kernel spreads new connections
across them by their addresses, as nginx's `reuseport` does.

The supervisor starts the workers, starts again one that dies (and gives up when workers
die at once on start, as a broken configuration would make them), and on SIGINT or SIGTERM
asks every worker to finish its requests and stop. A worker stops by itself should the
supervisor be killed.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("permits.ops.workers")

POLL_SECONDS = 0.5
QUICK_DEATH_SECONDS = 5.0  # a worker dying this soon after its start counts as a failed start
MAX_QUICK_DEATHS = 5  # failed starts in a row before the supervisor gives up
STOP_SECONDS = 30.0  # how long stopping workers may take before they are killed


def bound_socket(host: str, port: int) -> socket.socket:
    """Return a TCP socket bound to `host`:`port` with SO_REUSEPORT (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def listening_socket(host: str, port: int, *, backlog: int = 2048) -> socket.socket:
    """Return a TCP socket bound to `host`:`port` with SO_REUSEPORT and listening, so that
    several processes can each hold one and the kernel balances connections between them."""
    sock = bound_socket(host, port)
    sock.listen(backlog)
    return sock


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)  # the supervisor is gone (killed): leave no orphan serving


def _worker(app: str, host: str, port: int, options: dict[str, Any], parent: int) -> None:
    import uvicorn

    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    sock = listening_socket(host, port, backlog=options.get("backlog", 2048))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    server.run(sockets=[sock])


def serve_workers(app: str, *, host: str, port: int, workers: int, **options: Any) -> None:
    """Serve the ASGI app at import path `app` with `workers` processes, each on its own
    SO_REUSEPORT socket, until SIGINT or SIGTERM; `options` go to uvicorn.Config.

    One worker is plain `uvicorn.run`. Raises OSError when another program holds the port,
    and RuntimeError when the workers keep dying as they start (an app that fails to
    import, say).
    """
    import uvicorn

    if workers <= 1:
        uvicorn.run(app, host=host, port=port, **options)
        return
    bound_socket(host, port).close()  # the port is free (or ours): fail here, not N times
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(
            target=_worker, args=(app, host, port, options, os.getpid()), daemon=False
        )
        process.start()
        return process, time.monotonic()

    def stop(_signal: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    running = [start() for _ in range(workers)]
    quick_deaths = 0
    try:
        while not stopping.wait(POLL_SECONDS):
            for index, (process, started) in enumerate(running):
                if process.is_alive() or stopping.is_set():
                    continue
                process.join()
                quick = time.monotonic() - started < QUICK_DEATH_SECONDS
                quick_deaths = quick_deaths + 1 if quick else 0
                if quick_deaths >= MAX_QUICK_DEATHS:
                    raise RuntimeError(
                        f"workers keep dying at start (exit code {process.exitcode}): "
                        "see the messages above"
                    )
                log.warning(
                    "worker %s stopped (exit code %s): starting another",
                    process.pid,
                    process.exitcode,
                )
                running[index] = start()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        _stop_all([process for process, _started in running])


def _stop_all(processes: list[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGTERM)  # uvicorn finishes its requests, then stops
    deadline = time.monotonic() + STOP_SECONDS
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
