"""Reusable benchmark pieces: fresh databases, a gunicorn server, wrk (or a fallback), tables."""

from __future__ import annotations

import functools
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
USER_AGENT = "rems-bench/1"
POSTGRES_ADMIN_URL = os.environ.get(
    "REMS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
#: The database the bench creates and drops; another name lets two benches run side by side.
POSTGRES_BENCH_DB = os.environ.get("REMS_BENCH_POSTGRES_DB", "rems_bench")
#: Cheap argon2 so creating and signing in bench users is fast; no measured request hashes.
CHEAP_HASHING = {"REMS_ARGON2_TIME_COST": "1", "REMS_ARGON2_MEMORY_KIB": "8192"}
#: One token sends thousands of requests a second, a tenth of the gate's naming no patient: the
#: limits still count every request (their cost is measured) but never refuse one.
BENCH_LIMITS = {
    "REMS_API_RATE_LIMIT": "10000000 per minute",
    "REMS_PATIENT_NOT_FOUND_LIMIT": "10000000 per hour",
}
SECRET_KEY = secrets.token_hex(32)
SERVER_START_TIMEOUT = 30.0
#: Extra gunicorn options for every server (`--worker-class gthread --threads 4`, say).
GUNICORN_OPTIONS: list[str] = []
SERVER_STOP_TIMEOUT = 15.0
#: Socket errors above this share of the requests fail a measurement (any 4xx/5xx fails it).
SOCKET_ERROR_LIMIT = 0.01
#: A floor (ping) that moves more than this during a run means the machine was busy.
DRIFT_LIMIT = 0.15
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


class BenchError(RuntimeError):
    """A setup or verification step failed; the message says which and why."""


@dataclass(frozen=True)
class Options:
    """How long and how hard every measurement loads the server."""

    duration: int = 10
    connections: int = 16
    threads: int = 2


@functools.cache
def run_dir() -> Path:
    """This run's scratch directory (server logs, wrk scripts), kept for reading afterwards."""
    return Path(tempfile.mkdtemp(prefix="rems-bench-"))


# --- The app's environment and CLI ----------------------------------------------------------


def app_env(database_url: str) -> dict[str, str]:
    """The environment of the server and of every CLI call: same database, same settings."""
    env = dict(os.environ)
    env.update(CHEAP_HASHING)
    env.update(BENCH_LIMITS)
    env.update(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY, REMS_ENV="development")
    return env


def flask_cli(database_url: str, *args: str, timeout: float = 300) -> str:
    """Run `flask --app wsgi ARGS` on the database; its stdout, or BenchError with its stderr."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    completed = subprocess.run(
        command, cwd=ROOT, env=app_env(database_url), capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        label = " ".join(args[:2])  # never the rest: it may hold a password
        detail = (completed.stderr.strip() or completed.stdout.strip())[-3000:]
        raise BenchError(f"`flask {label}` exited {completed.returncode}:\n{detail}")
    return completed.stdout


def run_module(database_url: str, module: str, *args: str, timeout: float = 600) -> str:
    """Run `python -m MODULE ARGS` with the app's environment (like a CLI step); its stdout.

    The module's stderr (progress notes) passes through to the terminal; BenchError if it fails."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=ROOT, env=app_env(database_url),
        stdout=subprocess.PIPE, stderr=None, text=True, timeout=timeout, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise BenchError(f"`python -m {module}` exited {completed.returncode} (see above)")
    return completed.stdout


def create_user(database_url: str, username: str, password: str, role: str = "auditor") -> None:
    """Create an account with `flask rems create-user` (password given, so no prompt)."""
    flask_cli(
        database_url, "rems", "create-user", "--username", username,
        "--full-name", f"Bench {username}", "--email", f"{username}@bench.rems.example",
        "--role", role, "--password", password,
    )  # fmt: skip


def create_users(database_url: str, usernames: Iterable[str], password: str) -> None:
    """Create several accounts, two CLI processes at a time (one per core)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda name: create_user(database_url, name, password), usernames))


def create_token(database_url: str, username: str, name: str) -> str:
    """Issue an API token with `flask rems create-token`; its plain text."""
    output = flask_cli(database_url, "rems", "create-token", "--username", username, "--name", name)
    token = output.strip().splitlines()[-1].strip()
    if not token.startswith("rems_"):
        raise BenchError(f"create-token printed no token:\n{output}")
    return token


def audit_verify(database_url: str) -> tuple[int, str]:
    """Run `flask rems audit-verify`: (events checked, its report line); BenchError if broken."""
    line = flask_cli(database_url, "rems", "audit-verify").strip()
    found = re.search(r"(\d+) events checked", line)
    if found is None:
        raise BenchError(f"audit-verify said something unexpected: {line!r}")
    return int(found.group(1)), line


# --- Databases ------------------------------------------------------------------------------


def postgres_problem() -> str | None:
    """None when the PostgreSQL server answers; otherwise the reason it does not."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            return None
    except sa.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip()
        return reason.splitlines()[0] if reason else type(error).__name__
    finally:
        engine.dispose()


@contextmanager
def prepared_database(kind: str) -> Iterator[str]:
    """A fresh database of `kind`, migrated with `flask db upgrade`; removed at the end."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="rems-bench-sqlite-") as directory:
            url = f"sqlite:///{Path(directory) / 'rems.sqlite3'}"
            flask_cli(url, "db", "upgrade")
            yield url
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    url = _recreate_postgres()
    try:
        flask_cli(url, "db", "upgrade")
        yield url
    finally:
        _postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_BENCH_DB}" WITH (FORCE)')


def _recreate_postgres() -> str:
    """Drop and create the bench database on the maintenance connection; its URL."""
    _postgres_admin(f'DROP DATABASE IF EXISTS "{POSTGRES_BENCH_DB}" WITH (FORCE)')
    _postgres_admin(f'CREATE DATABASE "{POSTGRES_BENCH_DB}"')
    url = sa.make_url(POSTGRES_ADMIN_URL).set(database=POSTGRES_BENCH_DB)
    return url.render_as_string(hide_password=False)


def _postgres_admin(statement: str) -> None:
    """One statement on the `postgres` maintenance database, outside any transaction."""
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


# --- The server -----------------------------------------------------------------------------


@dataclass
class Server:
    """A running gunicorn: where it listens and where its output goes."""

    base_url: str
    log_path: Path
    process: subprocess.Popen

    def url(self, path: str) -> str:
        """The absolute URL of `path` on this server."""
        return self.base_url + path

    def worker_pids(self) -> list[int]:
        """The worker processes gunicorn forked (Linux /proc)."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        return [int(p) for p in children.read_text().split()] if children.exists() else []

    def log_tail(self, lines: int = 40) -> str:
        """The last lines gunicorn and the app wrote."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:]) or "(the server log is empty)"


def free_port() -> int:
    """A TCP port on the loopback interface that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextmanager
def running_server(
    database_url: str, workers: int = 2, label: str = "app", app: str = "wsgi:app"
) -> Iterator[Server]:
    """gunicorn serving `app` on a free loopback port, up once /api/v1/ping
    answers."""
    port = free_port()
    log_path = run_dir() / f"gunicorn-{label}-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), *GUNICORN_OPTIONS]
    command += ["-b", f"{LOOPBACK}:{port}", *_private_control_socket(), app]
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=app_env(database_url), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(f"http://{LOOPBACK}:{port}", log_path, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        _stop(process)


def _private_control_socket() -> list[str]:
    """gunicorn 27+ opens a control socket at one path per user: not for a bench server."""
    from gunicorn.config import KNOWN_SETTINGS

    names = {setting.name for setting in KNOWN_SETTINGS}
    return ["--no-control-socket"] if "control_socket_disable" in names else []


def _wait_until_up(server: Server) -> None:
    """Poll /api/v1/ping until it answers; fail with gunicorn's output if it never does."""
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            code = server.process.returncode
            raise BenchError(f"gunicorn exited with {code} at start:\n{server.log_tail()}")
        if _answers(server.url("/api/v1/ping")):
            return
        time.sleep(0.2)
    limit = f"{SERVER_START_TIMEOUT:.0f} s"
    raise BenchError(f"gunicorn did not answer /api/v1/ping within {limit}:\n{server.log_tail()}")


def _answers(url: str) -> bool:
    """Whether `url` (on the loopback interface) answers 200 right now."""
    try:
        with urllib.request.urlopen(_loopback(url), timeout=2) as response:  # noqa: S310
            return response.status == 200
    except (OSError, http.client.HTTPException):
        return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def warm_up(server: Server, path: str, headers: dict[str, str] | None = None, count=10) -> None:
    """A few requests first, so workers have their connections and compiled templates."""
    request = urllib.request.Request(_loopback(server.url(path)), headers=headers or {})  # noqa: S310
    for _ in range(count):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                response.read()
        except (OSError, http.client.HTTPException):
            pass  # the measurement itself reports errors


# --- Signing in over HTTP -------------------------------------------------------------------

CSRF_INPUT_RE = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*>')
VALUE_RE = re.compile(r'\bvalue="([^"]+)"')


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser session: its Cookie header and a CSRF token valid for it."""

    username: str
    cookie: str
    csrf_token: str


def sign_in(server: Server, username: str, password: str, form_path: str) -> WebSession:
    """Sign in through the web form, then read the CSRF token of the form at `form_path`."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    _, page = _fetch(opener, server.url("/sign-in"))
    fields = {"username": username, "password": password, "csrf_token": csrf_token(page)}
    landed, _ = _fetch(opener, server.url("/sign-in"), urllib.parse.urlencode(fields).encode())
    if urllib.parse.urlsplit(landed).path == "/sign-in":
        raise BenchError(f"signing in as {username} failed: the sign-in form came back")
    landed, page = _fetch(opener, server.url(form_path))
    if urllib.parse.urlsplit(landed).path != form_path:
        raise BenchError(f"{form_path} sent {username} to {landed} instead")
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    if "rems_session=" not in cookie:
        raise BenchError(f"no rems_session cookie after signing in as {username}")
    return WebSession(username, cookie, csrf_token(page))


def csrf_token(page: str) -> str:
    """The value of the page's hidden csrf_token input."""
    tag = CSRF_INPUT_RE.search(page)
    value = VALUE_RE.search(tag.group(0)) if tag else None
    if value is None:
        raise BenchError("the page has no csrf_token input")
    return value.group(1)


def _fetch(opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None):
    """GET (or POST `data`), following redirects: (final URL, page text)."""
    try:
        with opener.open(_loopback(url), data=data, timeout=10) as response:
            return response.geturl(), response.read().decode()
    except urllib.error.HTTPError as error:
        raise BenchError(f"{url} answered {error.code} {error.reason}") from None


def loopback(url: str) -> str:
    """`url` itself, after checking it points at 127.0.0.1 (for scenario modules)."""
    return _loopback(url)


def _loopback(url: str) -> str:
    """`url` itself, after checking it points at 127.0.0.1: benchmarks load nothing else."""
    if urllib.parse.urlsplit(url).hostname != LOOPBACK or not url.startswith("http://"):
        raise ValueError(f"benchmarks only ever target http://{LOOPBACK}, not {url}")
    return url
