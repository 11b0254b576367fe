"""The rate-limit stores: the in-process one, swept inline, and Redis that fails open.

`SweptMemoryStorage` serves "memory://": limits' MemoryStorage starts a timer thread (10 ms) to
drop expired keys whenever none is alive, which under load is nearly every request and costs as
much CPU as the request itself. Expired windows are already ignored when read, so the sweep is
only housekeeping: here it runs inline, at most once a second.

`FailOpenRedisStorage` serves "redis://": every call has a short socket timeout
(REMS_RATE_LIMIT_STORE_TIMEOUT_SECONDS). When Redis fails or stalls, the call answers "nothing
counted" (the ordinary limits fail open: a rate limit is not worth refusing the gate), the
failure is logged and counted in /metrics (`rems_rate_limit_store_failures_total`), and the store
is skipped for DOWN_SECONDS, so that requests do not each wait for the timeout. The date-of-birth
guessing limit does not fail open: it counts in a per-process store meanwhile (see
`rems.ratelimit.guessing_strategy`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from limits.storage import MemoryStorage, RedisStorage
from prometheus_client import Counter

log = logging.getLogger(__name__)
T = TypeVar("T")

STORE_FAILURES = Counter(
    "rems_rate_limit_store_failures_total",
    "Rate-limit store calls that failed or timed out (answered as if nothing was counted), and "
    "calls skipped while the store was marked down.",
    ["outcome"],
)


class SweptMemoryStorage(MemoryStorage):
    """The in-process store, its expired keys swept inline at most every SWEEP_SECONDS."""

    STORAGE_SCHEME = ["rems-memory"]
    SWEEP_SECONDS = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        # The parent starts a non-daemon timer thread for its first sweep; sweeping is inline
        # here, so stop it at once (a clock that never reaches its deadline would otherwise
        # keep the process from exiting).
        self.timer.cancel()
        self.next_sweep = time.monotonic() + self.SWEEP_SECONDS

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the timer thread per expiry
        now = time.monotonic()
        if now >= self.next_sweep:
            self.next_sweep = now + self.SWEEP_SECONDS
            self._MemoryStorage__expire_events()


class FailOpenRedisStorage(RedisStorage):
    """Redis with short timeouts; a failure answers "nothing counted" and marks the store down
    for DOWN_SECONDS (see the module)."""

    STORAGE_SCHEME = ["rems-redis", "rems-rediss"]
    DOWN_SECONDS = 5.0

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options):
        super().__init__(uri.removeprefix("rems-"), wrap_exceptions=wrap_exceptions, **options)
        self.down_until = 0.0
        self._lock = threading.Lock()

    @property
    def up(self) -> bool:
        """False while the store is marked down after a failure."""
        return time.monotonic() >= self.down_until

    def _guarded(self, call: Callable[[], T], nothing: T) -> T:
        """`call()`, or `nothing` when the store is down or fails now."""
        if not self.up:
            STORE_FAILURES.labels("skipped").inc()
            return nothing
        try:
            return call()
        except (self.base_exceptions, OSError) as error:
            with self._lock:
                first = self.up
                self.down_until = time.monotonic() + self.DOWN_SECONDS
            STORE_FAILURES.labels("failed").inc()
            if first:
                log.warning("rate-limit store failed (%s): limits fail open for %.0f s", error,
                            self.DOWN_SECONDS)  # fmt: skip
            return nothing

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._guarded(lambda: super(FailOpenRedisStorage, self).incr(key, expiry, amount), 0)

    def get(self, key: str) -> int:
        return self._guarded(lambda: super(FailOpenRedisStorage, self).get(key), 0)

    def get_expiry(self, key: str) -> float:
        now = time.time()
        return self._guarded(lambda: super(FailOpenRedisStorage, self).get_expiry(key), now)

    def clear(self, key: str) -> None:
        self._guarded(lambda: super(FailOpenRedisStorage, self).clear(key), None)

    def check(self) -> bool:
        return self.up and self._guarded(lambda: super(FailOpenRedisStorage, self).check(), False)
