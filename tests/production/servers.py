"""Real servers for the production tests: gunicorn with deploy/gunicorn.conf.py, and Debian's
nginx with the site's snippets from deploy/nginx, each on a free loopback port and stopped
(with every process it started) when the test ends."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
LOOPBACK = "127.0.0.1"
START_TIMEOUT = 30.0


def served_env(database_url: str, **extra: str) -> dict[str, str]:
    """The served app's environment: production settings (no test-only error propagation) on
    the test's database, on the frozen clock's first day (tests/production/served.py)."""
    return {
        "REMS_ENV": "production",
        "SECRET_KEY": "production-tests-secret-key",
        "DATABASE_URL": database_url,
        "TRUSTED_HOSTS": "rems.test,127.0.0.1",  # nginx's server_name, and straight at gunicorn
        "REMS_TEST_CLOCK": "2026-11-24T09:00:00+00:00",
        "REMS_API_RATE_LIMIT": "100000 per minute",  # the load is one token's, on purpose
        **extra,
    }


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def get(
    port: int, path: str, timeout: float, source: str | None = None, **headers: str
) -> tuple[int, bytes]:
    """One GET on a fresh connection (from the `source` address if given): (status, body)."""
    bind = (source, 0) if source else None
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout, source_address=bind)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_answering(port: int, process: subprocess.Popen, log: Path) -> None:
    """Until GET /api/v1/ping answers 200 (the server's log is shown if it never does)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            if get(port, "/api/v1/ping", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not answer within {START_TIMEOUT:.0f}s:\n{log.read_text()}")


def wait_until_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    """Until the port accepts a connection (the server's log is shown if it never does)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()}")
        try:
            socket.create_connection((LOOPBACK, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server did not listen within {START_TIMEOUT:.0f}s:\n{log.read_text()}")


@dataclass
class Gunicorn:
    """A running gunicorn: its port and master process."""

    port: int
    process: subprocess.Popen

    def worker_pids(self) -> list[int]:
        """The master's current worker processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@contextmanager
def gunicorn(
    directory: Path, env: dict[str, str], *, workers: int = 2, worker_class: str = "gthread"
) -> Iterator[Gunicorn]:
    """gunicorn with the shipped settings, bound to a free loopback port."""
    port = free_port()
    log = directory / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"),
        "--bind", f"{LOOPBACK}:{port}", "--workers", str(workers),
        "--worker-class", worker_class, "--no-control-socket", "tests.production.served:app",
    ]  # fmt: skip
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=output
        )
    try:
        wait_until_answering(port, process, log)
        yield Gunicorn(port, process)
    finally:
        _stop(process)


NGINX_MAIN = """
{user}
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include snippets/rems-limits.conf;
    upstream rems_app {{ server {upstream}; }}
    server {{
        listen {listen};
        server_name rems.test;
        include snippets/rems-proxy.conf;
    }}
}}
"""


@contextmanager
def nginx(
    directory: Path, upstream_port: int, *, read_timeout: str | None = None, upstream_up=True
) -> Iterator[int]:
    """Debian's nginx with deploy/nginx's snippets, in front of the upstream port (with a
    shorter `proxy_read_timeout` if given, so a test need not wait the shipped 60 s). Ready
    once it answers through the upstream, or (`upstream_up=False`) once it listens."""
    conf_dir = directory / "nginx"
    shutil.copytree(DEPLOY / "nginx" / "snippets", conf_dir / "snippets")
    if read_timeout is not None:
        proxy = conf_dir / "snippets" / "rems-proxy.conf"
        shipped = proxy.read_text()
        assert "proxy_read_timeout 60s;" in shipped
        proxy.write_text(
            shipped.replace("proxy_read_timeout 60s;", f"proxy_read_timeout {read_timeout};")
        )
    port = free_port()
    user = "user root root;" if os.geteuid() == 0 else ""
    main = NGINX_MAIN.format(
        user=user, dir=conf_dir, upstream=f"{LOOPBACK}:{upstream_port}", listen=f"{LOOPBACK}:{port}"
    )
    (conf_dir / "nginx.conf").write_text(main)
    log = conf_dir / "error.log"
    log.touch()
    command = [nginx_binary(), "-p", f"{conf_dir}/", "-c", str(conf_dir / "nginx.conf"),
               "-e", str(log)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        (wait_until_answering if upstream_up else wait_until_listening)(port, process, log)
        yield port
    finally:
        _stop(process)


def nginx_binary() -> str:
    """Debian's nginx (in /usr/sbin, which a non-root PATH may lack)."""
    return shutil.which("nginx") or "/usr/sbin/nginx"


def _stop(process: subprocess.Popen) -> None:
    """A graceful stop, then a forced one."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
