"""Real concurrency for tests: the test's app served by a threaded HTTP server on 127.0.0.1, and
requests sent from threads, each on its own TCP connection (the pattern of
tests/authorizations/test_concurrency.py, shared by the domains' race tests)."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from werkzeug.serving import make_server

REQUEST_TIMEOUT = 60


@dataclass(frozen=True)
class Reply:
    """One HTTP answer (status 0: none at all, `error` says why)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str = ""

    def json(self) -> dict:
        """The body as JSON ({} when it is not JSON)."""
        try:
            return json.loads(self.text)
        except ValueError:
            return {}


@contextmanager
def serving(app) -> Iterator[int]:
    """Serve `app` from a thread (a thread per request); yields the port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def send(port: int, method: str, path: str, *, json_body=None, form=None, **headers) -> Reply:
    """One request on a fresh connection: a JSON body, a form, or none."""
    if json_body is not None:
        body, headers = json.dumps(json_body), {"Content-Type": "application/json", **headers}
    elif form is not None:
        body = urlencode(form)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **headers}
    else:
        body = None
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        text = response.read().decode(errors="replace")
        return Reply(response.status, dict(response.getheaders()), text)
    except Exception as error:  # reported by the test's assertions
        return Reply(0, error=f"{type(error).__name__}: {error}")
    finally:
        connection.close()


def together(calls: list[Callable[[], Reply]]) -> list[Reply]:
    """Run every call at once (released together by a barrier); their replies, in order."""
    barrier = threading.Barrier(len(calls), timeout=60)
    replies: list[Reply] = [Reply(0, error="never answered")] * len(calls)

    def one(index: int) -> None:
        barrier.wait()
        replies[index] = calls[index]()

    threads = [threading.Thread(target=one, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 30)
    assert not any(thread.is_alive() for thread in threads), "a request never came back"
    return replies


class Background:
    """A call running in a thread; `reply()` waits for it."""

    def __init__(self, call: Callable[[], Reply]):
        self.done = threading.Event()
        self._reply = Reply(0, error="never answered")
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[], Reply]) -> None:
        try:
            self._reply = call()
        finally:
            self.done.set()

    def reply(self) -> Reply:
        """The call's reply, once it came back."""
        assert self.done.wait(REQUEST_TIMEOUT + 30), "the request never came back"
        return self._reply
