"""Reusable benchmark pieces: fresh databases, a gunicorn server, wrk (or a fallback), tables."""

from __future__ import annotations

import functools
import html
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path
from string import Template

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
USER_AGENT = "rems-bench/1"
POSTGRES_ADMIN_URL = os.environ.get(
    "REMS_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
POSTGRES_BENCH_DB = "rems_bench"
#: Cheap argon2 so creating and signing in bench users is fast; no measured request hashes.
CHEAP_HASHING = {"REMS_ARGON2_TIME_COST": "1", "REMS_ARGON2_MEMORY_KIB": "8192"}
SECRET_KEY = secrets.token_hex(32)
SERVER_START_TIMEOUT = 30.0
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
def running_server(database_url: str, workers: int = 2, label: str = "app") -> Iterator[Server]:
    """gunicorn (sync workers) on a free loopback port, up once /api/v1/ping answers."""
    port = free_port()
    log_path = run_dir() / f"gunicorn-{label}-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers)]
    command += ["-b", f"{LOOPBACK}:{port}", *_private_control_socket(), "wsgi:app"]
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


def _loopback(url: str) -> str:
    """`url` itself, after checking it points at 127.0.0.1: benchmarks load nothing else."""
    if urllib.parse.urlsplit(url).hostname != LOOPBACK or not url.startswith("http://"):
        raise ValueError(f"benchmarks only ever target http://{LOOPBACK}, not {url}")
    return url


# --- What a load run sends ------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One shape of request: its headers, and a body in which "{n}" becomes a running number;
    `path` (with its query) replaces the loaded URL's path for this variant when given."""

    headers: tuple[tuple[str, str], ...]
    body: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class Script:
    """Each request is one of `variants`, at random; a good answer's body contains `expect`."""

    name: str
    method: str
    variants: tuple[Variant, ...]
    expect: str | None = None


LUA = Template(
    """\
-- Generated by bench/harness.py ($name): $method, one of $count variants at random per request.
local variants = {
$variants
}
local expect = $expect
local threads = {}
counts, matched, sent, first_error = {}, 0, 0, ""

function setup(thread)
  table.insert(threads, thread)
  thread:set("id", #threads)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
end

function request()
  local v = variants[math.random(#variants)]
  sent = sent + 1
  local body = nil
  if v.body then body = table.concat(v.body, id .. "-" .. sent) end
  return wrk.format($method, v.path, v.headers, body)
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
  if expect and body and string.find(body, expect, 1, true) then matched = matched + 1 end
  if (status < 200 or status > 399) and first_error == "" then
    first_error = status .. " " .. string.sub(body or "", 1, 4000)
  end
end

function done(summary, latency, requests)
  local total, found = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("counts")) do total[status] = (total[status] or 0) + n end
    found = found + thread:get("matched")
    local err = thread:get("first_error")
    if err ~= "" then io.write("first error: ", (string.gsub(err, "%s+", " ")), "\\n") end
  end
  for status, n in pairs(total) do io.write(string.format("status %d: %d\\n", status, n)) end
  io.write(string.format("matched: %d\\n", found))
end
"""
)


def lua_string(text: str) -> str:
    """A Lua string literal for printable ASCII `text`."""
    if not all(" " <= char <= "~" for char in text):
        raise ValueError(f"not printable ASCII: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _lua_variant(variant: Variant) -> str:
    """One entry of the script's variants table."""
    headers = ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in variant.headers)
    entry = f"headers = {{{headers}}}"
    if variant.path is not None:
        entry += f", path = {lua_string(variant.path)}"
    if variant.body is not None:
        pieces = ", ".join(lua_string(piece) for piece in variant.body.split("{n}"))
        entry += f", body = {{{pieces}}}"
    return f"  {{{entry}}},"


def write_lua(script: Script) -> Path:
    """Write the wrk script for `script` into this run's directory; its path."""
    path = run_dir() / f"{script.name}.lua"
    path.write_text(
        LUA.substitute(
            name=script.name, method=lua_string(script.method), count=len(script.variants),
            variants="\n".join(_lua_variant(v) for v in script.variants),
            expect=lua_string(script.expect) if script.expect else "nil",
        )
    )  # fmt: skip
    return path


# --- Results --------------------------------------------------------------------------------


@dataclass
class Result:
    """One load run's figures; `errors` counts non-2xx/3xx answers plus socket errors."""

    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    non_2xx: int = 0
    socket_errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    matched: int | None = None
    error_sample: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Any 4xx/5xx answer, socket errors above 1 %, no requests, or a failed check."""
        if self.requests == 0 or self.non_2xx or self.problems:
            return True
        return self.socket_errors > SOCKET_ERROR_LIMIT * self.requests


def check_expectation(result: Result, script: Script | None) -> Result:
    """With a scripted `expect`, every 2xx answer must contain it; note any that did not."""
    if not isinstance(script, Script) or script.expect is None:
        return result
    good = sum(n for status, n in result.statuses.items() if 200 <= status < 300)
    if result.matched is None:
        result.problems.append("the load generator reported no response check")
    elif result.matched != good:
        missing = good - result.matched
        result.problems.append(f"{missing} of {good} 2xx answers lacked {script.expect!r}")
    return result


# --- wrk ------------------------------------------------------------------------------------


def run_wrk(url, duration, connections, threads, script=None, *, name="") -> Result:
    """Load `url` with wrk for `duration` seconds (the Python fallback when wrk is missing).

    `script` is a Script (rendered to Lua for wrk, or replayed by the fallback) or the path of
    a hand-written wrk Lua script (wrk only).
    """
    wrk = shutil.which("wrk")
    if wrk is None:
        return python_load(url, duration, connections, script, name=name)
    command = [wrk, "--latency", f"-d{duration}s", f"-c{connections}", f"-t{threads}"]
    if script is not None:
        command += ["-s", str(script if isinstance(script, str | Path) else write_lua(script))]
    completed = subprocess.run(
        [*command, _loopback(url)], capture_output=True, text=True, timeout=duration + 60,
        check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        raise BenchError(f"wrk exited {completed.returncode}: {completed.stderr.strip()}")
    return check_expectation(parse_wrk(name or url, completed.stdout), script)


def parse_wrk(name: str, text: str) -> Result:
    """The figures in wrk's --latency report (and the bench Lua script's status lines)."""
    rps, requests = _number(r"Requests/sec:\s+([\d.]+)", text), _number(r"(\d+) requests in", text)
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    sockets = sum(int(n) for n in found.groups()) if found else 0
    non_2xx = int(_number(r"Non-2xx or 3xx responses: (\d+)", text, default=0))
    matched = re.search(r"^matched: (\d+)$", text, re.M)
    sample = re.search(r"^first error: (.*)$", text, re.M)
    return Result(
        name=name, rps=rps, p50_ms=_latency(text, "50"), p99_ms=_latency(text, "99"),
        requests=int(requests), errors=non_2xx + sockets, non_2xx=non_2xx, socket_errors=sockets,
        statuses={int(s): int(n) for s, n in re.findall(r"^status (\d+): (\d+)$", text, re.M)},
        matched=int(matched.group(1)) if matched else None,
        error_sample=readable(sample.group(1)) if sample else "",
    )  # fmt: skip


def readable(body: str) -> str:
    """An error answer's text in one line: no head, no tags, no runs of spaces."""
    body = re.sub(r"(?is)<head>.*?</head>|<nav.*?</nav>|<[^>]+>", " ", body)
    return " ".join(html.unescape(body).split())[:400]


def _number(pattern: str, text: str, default: float | None = None) -> float:
    """The number `pattern` captures in wrk's report; BenchError if it is missing."""
    found = re.search(pattern, text)
    if found is None:
        if default is not None:
            return default
        raise BenchError(f"wrk's report has no match for {pattern!r}:\n{text}")
    return float(found.group(1))


def _latency(text: str, percentile: str) -> float:
    """A latency-distribution line of wrk's report, in milliseconds."""
    found = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    if found is None:
        raise BenchError(f"wrk's report has no {percentile}% latency line:\n{text}")
    return float(found.group(1)) * UNIT_MS[found.group(2)]


# --- The Python fallback --------------------------------------------------------------------


@dataclass
class _Tally:
    """What one fallback connection saw."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    socket_errors: int = 0
    matched: int = 0
    error_sample: str = ""


def python_load(url, duration, connections, script=None, *, name="") -> Result:
    """wrk's stand-in: one keep-alive http.client connection per thread, until the deadline."""
    if script is not None and not isinstance(script, Script):
        raise BenchError(f"the Lua script {script} needs wrk, which is not installed")
    target = urllib.parse.urlsplit(_loopback(url))
    deadline = time.monotonic() + duration
    tallies = [_Tally() for _ in range(connections)]
    workers = [
        threading.Thread(target=_load_loop, args=(target, script, deadline, tally, number))
        for number, tally in enumerate(tallies, 1)
    ]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    return check_expectation(_tally_result(name or url, tallies, elapsed, script), script)


def _load_loop(target, script: Script | None, deadline: float, tally: _Tally, number: int):
    """Send requests on one connection until the deadline; reconnect after a socket error."""
    connection = http.client.HTTPConnection(LOOPBACK, target.port, timeout=10)
    sent = 0
    while time.monotonic() < deadline:
        sent += 1
        method, headers, body, path = _next_request(script, f"{number}-{sent}")
        started = time.perf_counter()
        try:
            connection.request(method, path or target.path or "/", body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            tally.socket_errors += 1
            connection.close()
            continue
        _record(tally, script, response.status, text, time.perf_counter() - started)
    connection.close()


def _next_request(script: Script | None, counter: str):
    """(method, headers, body, path or None) of the next request: a plain GET, or a random
    script variant."""
    if script is None:
        return "GET", {"User-Agent": USER_AGENT}, None, None
    variant = random.choice(script.variants)
    body = None if variant.body is None else variant.body.replace("{n}", counter)
    return script.method, dict(variant.headers), body, variant.path


def _record(tally: _Tally, script: Script | None, status: int, body: str, seconds: float):
    """Count one answer: its latency, its status, whether it holds what the script expects."""
    tally.latencies.append(seconds * 1000)
    tally.statuses[status] = tally.statuses.get(status, 0) + 1
    if script is not None and script.expect and script.expect in body:
        tally.matched += 1
    if not 200 <= status < 400 and not tally.error_sample:
        tally.error_sample = f"{status} {readable(body[:4000])}"


def _tally_result(name: str, tallies: list[_Tally], elapsed: float, script) -> Result:
    """Merge the connections' tallies into one Result, as wrk would report it."""
    latencies = sorted(ms for tally in tallies for ms in tally.latencies)
    statuses: dict[int, int] = {}
    for tally in tallies:
        for status, count in tally.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    non_2xx = sum(n for status, n in statuses.items() if not 200 <= status < 400)
    sockets = sum(tally.socket_errors for tally in tallies)
    return Result(
        name=name, rps=len(latencies) / elapsed if elapsed else 0.0,
        p50_ms=_percentile(latencies, 0.50), p99_ms=_percentile(latencies, 0.99),
        requests=len(latencies), errors=non_2xx + sockets, non_2xx=non_2xx,
        socket_errors=sockets, statuses=statuses,
        matched=sum(t.matched for t in tallies) if script is not None else None,
        error_sample=next((t.error_sample for t in tallies if t.error_sample), ""),
    )  # fmt: skip


def _percentile(sorted_values: list[float], share: float) -> float:
    """The value below which `share` of the sorted values lie (nearest rank)."""
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A measurement beside the ping measured on the same server in the same run."""

    database: str
    result: Result
    ping: Result


HEADER = ("scenario", "database", "req/s", "req/s vs ping", "p50 ms", "p50 vs ping", "p99 ms")
HEADER += ("errors", "result")


def _ratio(value: float, reference: float) -> str:
    """`value` as a multiple of ping's figure."""
    return f"{value / reference:.2f}× ping" if reference else "n/a"


def _cells(row: Row) -> tuple[str, ...]:
    """One table line."""
    result, ping = row.result, row.ping
    return (
        result.name, row.database, f"{result.rps:.1f}", _ratio(result.rps, ping.rps),
        f"{result.p50_ms:.2f}", _ratio(result.p50_ms, ping.p50_ms), f"{result.p99_ms:.2f}",
        f"{result.errors}/{result.requests}", "FAILED" if result.failed else "ok",
    )  # fmt: skip


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table: names left-aligned, figures right-aligned."""
    lines = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    text = []
    for line in lines:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in pairs]
        text.append("  ".join(cells).rstrip())
    text.insert(1, "-" * len(text[0]))
    return "\n".join(text)


def failure_reasons(result: Result) -> list[str]:
    """Why a measurement is FAILED, in words."""
    reasons = list(result.problems)
    if result.requests == 0:
        reasons.append("no request completed")
    if result.non_2xx:
        reasons.append(f"{result.non_2xx} non-2xx/3xx answers; statuses {result.statuses or '?'}")
    if result.socket_errors > SOCKET_ERROR_LIMIT * result.requests:
        reasons.append(f"{result.socket_errors} socket errors (connect/read/write/timeout)")
    if result.error_sample:
        reasons.append(f"first error answer: {result.error_sample[:300]}")
    return reasons


def print_table(rows: list[Row]) -> None:
    """Print the table, then the reasons behind every FAILED line."""
    print(format_table(rows))
    for row in rows:
        if row.result.failed:
            print(f"\nFAILED: {row.result.name} on {row.database}:")
            for reason in failure_reasons(row.result):
                print(f"  - {reason}")


def drift_warning(first: Result, last: Result) -> str | None:
    """A warning when ping's throughput moved between the start and the end of a run."""
    if not first.rps:
        return None
    change = last.rps / first.rps - 1
    if abs(change) <= DRIFT_LIMIT:
        return None
    return (
        f"ping moved {change:+.0%} between the start and the end of the run: something else "
        "used the CPUs meanwhile; compare this run's ratios with care"
    )


def describe(database: str, result: Result) -> str:
    """A one-line progress report of a finished measurement."""
    verdict = "FAILED" if result.failed else "ok"
    return (
        f"  [{database}] {result.name}: {result.rps:.1f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.errors} errors in {result.requests} — {verdict}"
    )
