"""The in-process rate-limit store: no timer thread per request, expired windows still swept."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import limits.storage.memory

from rems.auth.models import Role
from rems.ratelimit import SweptMemoryStorage, limiter


def test_the_default_store_starts_no_thread_per_request(app, factory, monkeypatch):
    started = []
    monkeypatch.setattr(
        limits.storage.memory.threading,
        "Timer",
        lambda *a: started.append(a) or threading.Timer(*a),
    )
    token = factory.token(factory.user(Role.AUDITOR))
    client = app.test_client()
    for _ in range(20):
        answer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200
    assert isinstance(limiter.storage, SweptMemoryStorage)
    assert started == []


def test_expired_windows_are_swept_inline(monkeypatch):
    now = SimpleNamespace(value=1_000_000.0)
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: now.value))
    store = SweptMemoryStorage()
    assert store.incr("caller", expiry=60) == 1
    assert store.incr("caller", expiry=60) == 2
    now.value += 61
    store.next_sweep = 0.0  # a second has passed: the next write sweeps
    store.incr("other", expiry=60)
    assert "caller" not in store.storage
    assert store.get("caller") == 0
