"""The demo's clock: each demo step runs on the day it happened, so every record it writes (the
audit event, the status history, created and recorded times) carries that day, and the as-of
answers agree with the history the demo prints.

`on_day(day)` swaps the app's clock for one that starts at 17:00 in the program's time zone on
`day` (after the demo's infusions and their observation end) and moves one second at each read,
so the steps of one day keep their order (a day visited again goes on where it stopped). Today
keeps the real clock. Only the `rems demo` command uses it: the clock is the app's, so nothing
else should run while it loads. The audit trail's sequence is the order the steps ran in, so
the demo's events are not in time order there (each carries its own day).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask import current_app

from rems.common.clock import utcnow
from rems.common.localtime import program_zone
from rems.common.programday import day_of

#: The hour, in the program's zone, at which a past demo day's steps are recorded.
HOUR = 17


@dataclass
class TickingClock:
    """A clock at a chosen moment that moves one second each time it is read."""

    current: datetime

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@contextmanager
def on_day(day: date) -> Iterator[None]:
    """Run the enclosed steps as on `day` (the real clock when `day` is today or later)."""
    now = utcnow()
    if day >= day_of(now):
        yield
        return
    extensions = current_app.extensions
    real = extensions["rems_clock"]
    days = extensions.setdefault("rems_demo_days", {})  # a day visited again goes on from there
    start = datetime.combine(day, time(HOUR), tzinfo=program_zone()).astimezone(now.tzinfo)
    clock = extensions["rems_clock"] = TickingClock(days.get(day, start))
    try:
        yield
    finally:
        days[day] = clock.current
        extensions["rems_clock"] = real
