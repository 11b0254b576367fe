"""A private, real redis-server for the tests that need a shared rate-limit store."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def real_clock_environment() -> dict[str, str]:
    """This environment without libfaketime: the suite's moved-clock run preloads it, and
    child processes that wait on timers (redis-server, an app with its in-process limiter)
    can deadlock under it. These children answer about counts, never about dates."""
    preloaded = ("LD_PRELOAD", "FAKETIME", "DONT_FAKE_MONOTONIC")
    return {k: v for k, v in os.environ.items() if not k.startswith(preloaded)}


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server: its URL, and its process (to stall and resume it)."""

    url: str
    process: subprocess.Popen

    @contextlib.contextmanager
    def stalled(self) -> Iterator[None]:
        """SIGSTOP the server for the block (it keeps its port, answers nothing), then SIGCONT."""
        os.kill(self.process.pid, signal.SIGSTOP)
        try:
            yield
        finally:
            os.kill(self.process.pid, signal.SIGCONT)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(directory: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free port, in `directory`; stopped afterwards.

    The server runs on the real clock: the suite's moved-clock run (libfaketime preloaded)
    must not reach it, because a jemalloc-linked redis-server deadlocks under libfaketime.
    Readiness is polled against a deadline, so a server that never starts fails the test
    instead of hanging the run.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed (Debian package redis-server)")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=real_clock_environment(),
    )  # fmt: skip
    try:
        _wait_for_port(port, server, seconds=20)
        yield RedisServer(f"redis://127.0.0.1:{port}/0", server)
    finally:
        os.kill(server.pid, signal.SIGCONT)  # a stalled server cannot act on SIGTERM
        server.terminate()
        server.wait(timeout=10)


def _wait_for_port(port: int, server: subprocess.Popen, *, seconds: float) -> None:
    for _ in range(int(seconds * 20)):
        if server.poll() is not None:
            pytest.fail(f"redis-server exited with status {server.returncode}")
        with socket.socket() as probe:
            probe.settimeout(0.05)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        with contextlib.suppress(subprocess.TimeoutExpired):  # a short wait that notices an exit
            server.wait(timeout=0.05)
    pytest.fail(f"redis-server did not answer on port {port} within {seconds} s")
