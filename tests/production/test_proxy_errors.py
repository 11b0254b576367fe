"""The errors nginx answers itself come in the API's JSON error shape under /api (docs/api.md):
502 when no worker answers, 504 when none answers in time, 429 past the per-address connection
limit, 413 past the body limit; elsewhere they stay pages. Debian's nginx with the shipped
snippets in front of an upstream that is gone, or one that accepts and never answers (its
read timeout shortened from 60 s to 2 s). Loopback only; marked `slow`."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.production.servers import LOOPBACK, free_port, nginx

pytestmark = pytest.mark.slow

PER_ADDRESS = 50  # limit_conn in rems-proxy.conf


@contextmanager
def _silent_upstream() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as server:
        server.bind((LOOPBACK, 0))
        server.listen(256)
        yield server.getsockname()[1]


def _ask(port: int, method: str, path: str, timeout: float = 10, **headers: str):
    """(status, headers, body) of one request."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True)
        for name, value in {"Host": "rems.test", **headers}.items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _api_error(status: int, headers: dict, body: bytes, code: str) -> dict:
    """The body, checked to be the API's error shape with this code."""
    assert headers["Content-Type"].startswith("application/json"), (status, headers, body)
    error = json.loads(body)["error"]
    assert error["code"] == code and error["message"], error
    return error


def test_no_worker_answering_is_a_json_502_under_api_and_a_page_elsewhere(tmp_path):
    with nginx(tmp_path, free_port(), upstream_up=False) as port:
        status, headers, body = _ask(port, "GET", "/api/v1/ping")
        page_status, page_headers, _ = _ask(port, "GET", "/sign-in")
    assert status == 502
    error = _api_error(status, headers, body, "bad_gateway")
    assert "may or may not be stored" in error["message"]
    assert (page_status, page_headers["Content-Type"].split(";")[0]) == (502, "text/html")


def test_a_worker_that_never_answers_is_a_json_504(tmp_path):
    with (
        _silent_upstream() as upstream,
        nginx(tmp_path, upstream, read_timeout="2s", upstream_up=False) as port,
    ):
        status, headers, body = _ask(port, "POST", "/api/v1/authorizations",
                                     **{"Content-Length": "0"})  # fmt: skip
    assert status == 504
    assert "Idempotency-Key" in _api_error(status, headers, body, "gateway_timeout")["message"]


def test_too_many_open_requests_from_one_address_is_a_json_429(tmp_path):
    with (
        _silent_upstream() as upstream,
        nginx(tmp_path, upstream, read_timeout="10s", upstream_up=False) as port,
    ):
        held = []
        try:
            for _ in range(PER_ADDRESS):
                connection = socket.create_connection((LOOPBACK, port), timeout=10)
                connection.sendall(b"GET /api/v1/ping HTTP/1.1\r\nHost: rems.test\r\n\r\n")
                held.append(connection)
            status, headers, body = _ask(port, "GET", "/api/v1/ping")
        finally:
            for connection in held:
                connection.close()
    assert status == 429
    _api_error(status, headers, body, "rate_limited")
    assert int(headers["Retry-After"]) >= 1


def test_a_body_over_the_limit_is_a_json_413(tmp_path):
    with nginx(tmp_path, free_port(), upstream_up=False) as port:
        status, headers, body = _ask(
            port, "POST", "/api/v1/authorizations", **{"Content-Length": str(12 * 1024 * 1024)}
        )
    assert status == 413
    _api_error(status, headers, body, "payload_too_large")
