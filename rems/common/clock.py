"""The application's clock: real UTC time, or a frozen one that tests move by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app, has_app_context


class SystemClock:
    """Reads the machine's clock, always in UTC."""

    def now(self) -> datetime:
        """The current UTC time, timezone-aware."""
        return datetime.now(UTC)


@dataclass
class FrozenClock:
    """A clock that only moves when told to: the tests' way of passing time without sleeping."""

    current: datetime = field(default_factory=lambda: datetime(2026, 11, 24, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        """The frozen time."""
        return self.current

    def advance(self, **delta: float) -> datetime:
        """Move the clock forward by a timedelta's keyword arguments."""
        self.current = self.current + timedelta(**delta)
        return self.current


def utcnow() -> datetime:
    """The current UTC time from the app's clock (the system clock outside an app)."""
    if has_app_context():
        return current_app.extensions["rems_clock"].now()
    return SystemClock().now()


def today() -> date:
    """Today's date in UTC, from the app's clock. Date rules take today in a party's time zone
    instead (`rems.common.localtime`): UTC's date turns at 19:00 in New York."""
    return utcnow().date()
