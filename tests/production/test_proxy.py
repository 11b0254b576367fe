"""The production proxy: Debian's nginx with the shipped snippets (deploy/nginx) in front of
gunicorn with the shipped settings (deploy/gunicorn.conf.py), as .ci/run runs it.

200 connections that send their request headers one line a second are held by nginx, which
passes on only complete requests: normal requests are answered promptly all along, and nginx
drops the slow connections once client_header_timeout (10 s) has passed; without the proxy the
same attack starves gunicorn. The app sees the client's address through exactly one hop, and
/metrics adds up every worker's numbers and is refused to other addresses.
Loopback only, bounded in time; marked `slow` (run by .ci/run with `-m slow`).
"""

from __future__ import annotations

import http.client
import json
import re
import select
import socket
import threading
import time

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from rems.audit.models import AuditEvent
from rems.extensions import db
from tests.authorizations.helpers import gate
from tests.production.servers import LOOPBACK, get, gunicorn, nginx, served_env

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 200
ATTACK_SECONDS = 13  # beyond nginx's 10 s client_header_timeout
NORMAL_TIMEOUT = 3.0
METRICS_TOKEN = "scrape-token-for-tests"
#: Another loopback address: the "client" the app must see through nginx.
CLIENT = "127.0.0.2"


class SlowHeaders:
    """SLOW_CLIENTS connections, each sending one more header line every second."""

    def __init__(self, port: int):
        self.port = port
        self.sockets: list[socket.socket] = []
        self.closed_by_server = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._drip, daemon=True)

    def __enter__(self):
        for _ in range(SLOW_CLIENTS):
            conn = socket.create_connection((LOOPBACK, self.port), timeout=5)
            conn.sendall(b"GET /api/v1/ping HTTP/1.1\r\nHost: rems.test\r\n")
            self.sockets.append(conn)
        self.thread.start()
        return self

    def _drip(self) -> None:
        line = 0
        while not self.stop.wait(1.0):
            line += 1
            for conn in list(self.sockets):
                try:
                    if _closed(conn):
                        raise ConnectionResetError
                    conn.sendall(f"X-Slow-{line}: {line}\r\n".encode())
                except OSError:
                    self.sockets.remove(conn)
                    conn.close()
                    self.closed_by_server += 1

    def __exit__(self, *_exc):
        self.stop.set()
        self.thread.join(timeout=5)
        for conn in self.sockets:
            conn.close()


def _closed(conn: socket.socket) -> bool:
    """Whether the server closed this connection (EOF, or a reset, is readable)."""
    readable, _, _ = select.select([conn], [], [], 0)
    return bool(readable) and conn.recv(1024) == b""


def _normal_requests(port: int, count: int) -> list[float | None]:
    """`count` ordinary requests, one after another: each one's latency, None if unanswered."""
    latencies: list[float | None] = []
    for _ in range(count):
        started = time.monotonic()
        try:
            status, _body = get(port, "/api/v1/health", timeout=NORMAL_TIMEOUT)
            latencies.append(time.monotonic() - started if status == 200 else None)
        except OSError:
            latencies.append(None)
    return latencies


@pytest.fixture
def env(database_url, tmp_path, redis_url):
    return served_env(
        database_url,
        RATELIMIT_STORAGE_URI=redis_url,  # two workers count together
        TRUSTED_PROXY_HOPS="1",
        METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )


@pytest.fixture
def proxied(env, tmp_path):
    """gunicorn (2 workers) behind nginx: nginx's port."""
    with gunicorn(tmp_path, env, workers=2) as app, nginx(tmp_path, app.port) as port:
        yield port


def test_behind_nginx_normal_requests_are_answered_during_a_slow_header_attack(proxied):
    started = time.monotonic()
    with SlowHeaders(proxied) as attack:
        latencies = _normal_requests(proxied, 20)
        while time.monotonic() - started < ATTACK_SECONDS and attack.sockets:
            attack.stop.wait(0.5)
        dropped_after = time.monotonic() - started
    answered = [latency for latency in latencies if latency is not None]
    print(
        f"\nbehind nginx, {SLOW_CLIENTS} slow clients: {len(answered)}/{len(latencies)} normal "
        f"requests answered, slowest {max(answered, default=0) * 1000:.0f} ms; the slow "
        f"connections dropped by {dropped_after:.1f} s"
    )
    assert not any(latency is None for latency in latencies), latencies
    assert max(latencies) < 1.0, latencies
    assert attack.closed_by_server == SLOW_CLIENTS, "nginx kept slow clients open"


def test_without_the_proxy_the_same_attack_starves_gunicorn(env, tmp_path):
    with gunicorn(tmp_path, env, workers=2) as app, SlowHeaders(app.port):
        latencies = _normal_requests(app.port, 2)
    assert None in latencies, f"gunicorn answered every request: {latencies}"


def test_the_app_sees_the_client_through_exactly_one_hop(app, factory, proxied):
    world = gate(app, factory)
    connection = http.client.HTTPConnection(LOOPBACK, proxied, timeout=10,
                                            source_address=(CLIENT, 0))  # fmt: skip
    body = json.dumps(world.request())
    connection.request("POST", "/api/v1/authorizations", body=body, headers={
        "Authorization": f"Bearer {world.pharmacy_token}", "Content-Type": "application/json",
        "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "evil.example",
    })  # fmt: skip
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 201
    request_id = response.getheader("X-Request-ID")
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id  # nginx's $request_id
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "authorization.granted")
        )
        assert (event.ip, event.request_id) == (CLIENT, request_id)


def test_metrics_add_up_every_worker_and_are_refused_to_other_addresses(proxied):
    for _ in range(12):
        assert get(proxied, "/api/v1/ping", timeout=5)[0] == 200
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    status, text = get(proxied, "/metrics", timeout=5, **bearer)
    assert status == 200
    pings = sum(
        sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name == "rems_http_requests_total" and sample.labels["route"] == "/api/v1/ping"
    )
    assert pings >= 12
    assert get(proxied, "/metrics", timeout=5, source=CLIENT, **bearer)[0] == 403
