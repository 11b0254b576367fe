"""The program's day: report periods, "as of" dates and program-wide pages count calendar days
in the program's time zone (the program file's `time_zone`), not in UTC. UTC's date turns at
19:00 (or 20:00) in New York; the program's day ends at midnight there.

Storage and the clock stay UTC: these helpers turn a program day into the UTC moments that
bound it, and a stored moment into the program day it fell on. Outside an app (pure code,
scripts) the zone is UTC unless one is given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from flask import has_app_context


def zone_or_program(zone: tzinfo | None = None) -> tzinfo:
    """`zone`, else the program's (in an app), else UTC."""
    if zone is not None:
        return zone
    if has_app_context():
        from rems.common.localtime import program_zone

        return program_zone()
    return UTC


def day_start(day: date, zone: tzinfo | None = None) -> datetime:
    """The UTC moment the program's `day` begins (midnight in the zone)."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone_or_program(zone)).astimezone(UTC)
    except OverflowError:  # the first or last representable days: nothing lies beyond them
        return (
            datetime.max.replace(tzinfo=UTC) if day.year > 1 else datetime.min.replace(tzinfo=UTC)
        )


def day_after_end(day: date, zone: tzinfo | None = None) -> datetime:
    """The UTC moment the program's `day` is over (midnight of the next day in the zone)."""
    if day == date.max:
        return datetime.max.replace(tzinfo=UTC)
    return day_start(day + timedelta(days=1), zone)


def day_end(day: date, zone: tzinfo | None = None) -> datetime:
    """The last UTC moment of the program's `day` (23:59:59.999999 in the zone)."""
    return day_after_end(day, zone) - timedelta(microseconds=1)


def day_of(moment: datetime, zone: tzinfo | None = None) -> date:
    """The program day a stored moment fell on (naive moments are read as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(zone_or_program(zone)).date()
    except OverflowError:
        return moment.date()


def sqlite_local_day(stored: str | None, zone_name: str) -> str | None:
    """SQLite's `rems_local_day(timestamp, zone)`: the day, YYYY-MM-DD, in `zone_name` of a
    stored UTC timestamp (SQLite keeps them as naive UTC text)."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone_name)).date().isoformat()
