"""Several workers, each on a socket of its own (`permits.ops.workers`): connections opened
together are spread across the workers, a worker that dies is started again, and the
workers stop with their supervisor, whether it is asked to stop or killed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
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


def _workers(server: ServerProcess) -> set[int]:
    """The serving workers: children of the supervisor (not the spawn helper) with a socket."""
    assert server.process is not None
    return {pid for pid in _children(server.process.pid) if _listens(pid, server.port)}


def _listens(pid: int, port: int) -> bool:
    """True when process `pid` holds a listening socket on `port`."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[3] == "0A" and int(parts[1].split(":")[1], 16) == port:
            inodes.add(parts[9])
    try:
        links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
    except OSError:
        return False
    return any(link == f"socket:[{inode}]" for link in links for inode in inodes)


def _wait(condition: object, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
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
        holders: dict[int, int] = {}
        for pid in _workers(server):
            holders[pid] = len(
                [fd for fd in os.listdir(f"/proc/{pid}/fd") if _is_connected_to(pid, fd, server)]
            )
        assert len(holders) == WORKERS
        assert sum(holders.values()) == len(connections)
        assert min(holders.values()) >= 4, holders  # 32 over 2: all on one would be 0 and 32
    finally:
        for connection in connections:
            connection.close()


def _is_connected_to(pid: int, fd: str, server: ServerProcess) -> bool:
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return False
    if not link.startswith("socket:["):
        return False
    inode = link[len("socket:[") : -1]
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        parts = line.split()
        if parts[9] == inode and parts[3] == "01":  # ESTABLISHED
            return int(parts[1].split(":")[1], 16) == server.port
    return False


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
