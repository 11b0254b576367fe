"""Whether the code running now may write: the request's method and `writing()` / `reading()`
blocks. Kept apart from `rems.common.transactions` so that the session class
(`rems.common.sessions`), which the extensions module builds on, needs nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from flask import request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_force_immediate: ContextVar[bool] = ContextVar("rems_force_immediate", default=False)
_force_deferred: ContextVar[bool] = ContextVar("rems_force_deferred", default=False)


@contextmanager
def writing() -> Iterator[None]:
    """Inside this block SQLite transactions take the write lock when they begin (and, on
    PostgreSQL, a safe-method request's session writes in a real transaction)."""
    token = _force_immediate.set(True)
    try:
        yield
    finally:
        _force_immediate.reset(token)


@contextmanager
def reading() -> Iterator[None]:
    """Inside this block SQLite transactions begin deferred, whatever the request's method."""
    token = _force_deferred.set(True)
    try:
        yield
    finally:
        _force_deferred.reset(token)


def writing_now() -> bool:
    """Whether a `writing()` block is active."""
    return _force_immediate.get()


def request_may_write() -> bool:
    """Whether the current request may write (an unsafe method). A read that finds something
    to record (an expiry, say) ends its read and writes in a `writing()` transaction of its own."""
    return request.method not in SAFE_METHODS
