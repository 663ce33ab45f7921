"""Several workers, each on a socket of its own (`permits.ops.workers`): connections opened
together are spread across the workers, a worker that dies is started again, and the
workers stop with their supervisor, whether it is asked to stop or killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.resilience.conftest import Deployment
from tests.resilience.processes import PERMITS, ServerProcess

WORKERS = 2


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (the workers, for the supervisor)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


LISTEN, ESTABLISHED = "0A", "01"  # socket states as /proc/net/tcp writes them


def _sockets(port: int, state: str) -> set[str]:
    """The inodes of this machine's IPv4 TCP sockets on local `port` in `state`."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == state and int(parts[1].split(":")[1], 16) == port:
            found.add(parts[9])
    return found


def _held(pid: int, inodes: set[str]) -> int:
    """How many of the sockets `inodes` process `pid` holds open."""
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return 0
    return sum(link.startswith("socket:[") and link[8:-1] in inodes for link in links)


def _workers(server: ServerProcess) -> set[int]:
    """The serving workers: children of the supervisor (not the spawn helper) with a socket."""
    assert server.process is not None
    listening = _sockets(server.port, LISTEN)
    return {pid for pid in _children(server.process.pid) if _held(pid, listening)}


def _wait(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not serving
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture
def server(deployment: Deployment) -> ServerProcess:
    """The deployment's server with two workers, serving (the deployment stops it)."""
    deployment.server.workers = WORKERS
    deployment.server.start()
    _wait(lambda: len(_workers(deployment.server)) == WORKERS, "the workers' sockets")
    return deployment.server


def test_connections_opened_together_reach_every_worker(server: ServerProcess) -> None:
    connections = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(32)]
    try:
        time.sleep(0.5)  # let the workers accept
        connected = _sockets(server.port, ESTABLISHED)
        holders = {pid: _held(pid, connected) for pid in _workers(server)}
        assert len(holders) == WORKERS
        assert sum(holders.values()) == len(connections)
        assert min(holders.values()) >= 4, holders  # 32 over 2: all on one would be 0 and 32
    finally:
        for connection in connections:
            connection.close()


@pytest.mark.postgres
def test_production_serves_with_one_worker_a_core(deployment: Deployment) -> None:
    """Without --workers, `permits serve --production` starts one worker for each core this
    process may use (two workers on two cores answered more than four: docs/scaling.md)."""
    cores = len(os.sched_getaffinity(0))
    deployment.server.workers = None
    deployment.server.start()
    assert f"with {cores} workers" in deployment.server.log()
    if cores > 1:
        _wait(lambda: len(_workers(deployment.server)) == cores, f"{cores} workers' sockets")
        time.sleep(1.0)  # and no more than that
        assert len(_workers(deployment.server)) == cores


def test_a_worker_that_dies_is_replaced(server: ServerProcess) -> None:
    before = _workers(server)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    _wait(
        lambda: len(_workers(server)) == WORKERS and victim not in _workers(server),
        "a new worker",
    )
    assert server.answers("/healthz")


def test_the_workers_stop_with_their_supervisor(server: ServerProcess) -> None:
    assert server.process is not None
    workers = _workers(server)
    os.kill(server.process.pid, signal.SIGTERM)  # the supervisor only, not its group
    server.process.wait(timeout=60)
    _wait(lambda: not any(_alive(pid) for pid in workers), "the workers to stop")


def test_the_workers_stop_when_their_supervisor_is_killed(server: ServerProcess) -> None:
    assert server.process is not None
    workers = _workers(server)
    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=30)
    _wait(lambda: not any(_alive(pid) for pid in workers), "orphaned workers to stop")


def test_a_taken_port_is_a_clear_error(deployment: Deployment, tmp_path: Path) -> None:
    with socket.socket() as other:  # another program, without SO_REUSEPORT
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        env = {**os.environ, **deployment.server.env}
        result = subprocess.run(
            [str(PERMITS), "serve", "--port", str(port), "--workers", str(WORKERS)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode != 0
    assert "Address already in use" in result.stdout + result.stderr


def test_workers_that_die_as_they_start_stop_the_supervisor() -> None:
    """An app that cannot be imported: the supervisor gives up instead of restarting forever."""
    from permits.ops.workers import serve_workers
    from tests.resilience.processes import free_port

    with pytest.raises(RuntimeError, match="keep dying at start"):
        serve_workers(
            "permits.no_such_module:app", host="127.0.0.1", port=free_port(), workers=WORKERS
        )
