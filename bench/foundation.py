"""The foundation scenario: ping (the floor), health, a bearer-token read and an audited write."""

from __future__ import annotations

import secrets
import sys
import time
import urllib.parse
from collections.abc import Iterator

from bench import harness, load, report
from bench.harness import Options, Server
from bench.load import Result, Script, Variant
from bench.report import Row

NAME = "foundation"
MEASUREMENTS = ("ping", "health", "me", "write")
WRITERS = 40
PASSWORD = "bench-password-" + secrets.token_hex(8)
READER = "bench-reader"
TOKENS_PATH = "/account/tokens"
#: Only the page answering a successful create shows this (the new token, once).
TOKEN_SHOWN = "Copy your new token now"  # noqa: S105  (page text, not a secret)
FORM = ("Content-Type", "application/x-www-form-urlencoded")


def run(kind: str, options: Options, only: set[str] | None = None) -> Iterator[Row]:
    """Each selected measurement on a fresh `kind` database; ping first, as the reference."""
    with harness.prepared_database(kind) as url, harness.running_server(url, label=kind) as server:
        print(f"  [{kind}] server up at {server.base_url}; log: {server.log_path}")
        harness.warm_up(server, "/api/v1/ping")
        ping = _load(server, "/api/v1/ping", options, name="ping (floor)")
        print(report.describe(kind, ping))
        yield Row(kind, ping, ping)
        steps = {"health": measure_health, "me": measure_me, "write": measure_write}
        for name, step in steps.items():
            if only is None or name in only:
                result = step(url, server, options, kind)
                print(report.describe(kind, result))
                _show_server_log(kind, server, result)
                yield Row(kind, result, ping)
        yield _ping_again(kind, server, options, ping)


def _ping_again(kind: str, server: Server, options: Options, ping: Result) -> Row:
    """Ping once more at the end: if the floor moved, the machine was busy during the run."""
    again = _load(server, "/api/v1/ping", options, name="ping (again, at end)")
    print(report.describe(kind, again))
    warning = report.drift_warning(ping, again)
    if warning:
        print(f"  [{kind}] WARNING: {warning}")
    return Row(kind, again, ping)


def _load(server: Server, path: str, options: Options, script=None, *, name: str) -> Result:
    """One measurement of `path` with the run's duration, connections and threads."""
    return load.run_wrk(
        server.url(path), options.duration, options.connections, options.threads, script,
        name=name,
    )  # fmt: skip


def measure_health(url: str, server: Server, options: Options, kind: str) -> Result:
    """GET /api/v1/health: one `SELECT 1` per request."""
    harness.warm_up(server, "/api/v1/health")
    return _load(server, "/api/v1/health", options, name="health (1 query)")


def measure_me(url: str, server: Server, options: Options, kind: str) -> Result:
    """GET /api/v1/me with a bearer token: token lookup, user load, JSON answer."""
    harness.create_user(url, READER, PASSWORD)
    token = harness.create_token(url, READER, "bench")
    headers = (("Authorization", f"Bearer {token}"), ("User-Agent", harness.USER_AGENT))
    harness.warm_up(server, "/api/v1/me", dict(headers))
    script = Script(f"{kind}-me", "GET", (Variant(headers),), expect=f'"{READER}"')
    return _load(server, "/api/v1/me", options, script, name="me (bearer read)")


def measure_write(url: str, server: Server, options: Options, kind: str) -> Result:
    """POST /account/tokens from many signed-in users; then the audit chain must be intact."""
    usernames = [f"bench-writer-{number:02d}" for number in range(1, WRITERS + 1)]
    print(f"  [{kind}] creating {WRITERS} users (CLI) and signing each in over HTTP …")
    harness.create_users(url, usernames, PASSWORD)
    sessions = [harness.sign_in(server, name, PASSWORD, TOKENS_PATH) for name in usernames]
    before, _ = harness.audit_verify(url)
    script = write_script(kind, sessions)
    result = _load(server, TOKENS_PATH, options, script, name="write (audited)")
    _check_audit_chain(url, kind, before, result, options.connections)
    return result


def write_script(kind: str, sessions: list[harness.WebSession]) -> Script:
    """A POST per request, as a random one of the signed-in users, naming the token bench-<n>."""
    variants = tuple(
        Variant(
            headers=(("Cookie", s.cookie), FORM, ("User-Agent", harness.USER_AGENT)),
            body="name=bench-{n}&csrf_token=" + urllib.parse.quote(s.csrf_token, safe=""),
        )
        for s in sessions
    )
    return Script(f"{kind}-write", "POST", variants, expect=TOKEN_SHOWN)


def _check_audit_chain(url: str, kind: str, before: int, result: Result, connections: int):
    """The chain must verify, and hold one new event per token created (plus in-flight ones)."""
    time.sleep(1)  # requests wrk left in flight finish (or fail) before the chain is read
    try:
        after, line = harness.audit_verify(url)
    except harness.BenchError as error:
        banner = f"!!! [{kind}] AUDIT CHAIN BROKEN after the write run !!!"
        print(f"\n{banner}\n{error}\n", file=sys.stderr)
        result.problems.append(f"audit chain broken after the write run: {error}")
        return
    added, shown = after - before, result.matched or 0
    print(f"  [{kind}] audit-verify: {line}")
    print(f"  [{kind}] {added} events added by the write run; {shown} created tokens seen by wrk")
    in_flight = connections + result.errors  # answered by the server after wrk stopped counting
    if not shown <= added <= shown + in_flight:
        result.problems.append(f"{added} audit events were added for {shown} tokens created")


def _show_server_log(kind: str, server: Server, result: Result) -> None:
    """After a FAILED measurement, what the server logged (the app logs little by itself)."""
    if result.failed:
        print(f"  [{kind}] server log ({server.log_path}), last lines:")
        print("    " + server.log_tail().replace("\n", "\n    "))
