"""SQL expressions that SQLite and PostgreSQL spell differently: days, months, ages, hours,
the elements of a JSON array. Each takes the dialect's name."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from rems.common.programday import day_after_end, day_start, zone_or_program


def day_of(timestamp, dialect: str):
    """The program's day of a timestamp (its time zone), as YYYY-MM-DD text. SQLite has no
    time zones: a function registered on each connection (`programday.sqlite_local_day`)."""
    zone = getattr(zone_or_program(), "key", "UTC")
    if dialect == "postgresql":
        return sa.func.to_char(sa.func.timezone(zone, timestamp), "YYYY-MM-DD")
    return sa.func.rems_local_day(timestamp, zone)


def month_of(value, dialect: str, *, is_timestamp: bool = True):
    """The month of a timestamp (UTC) or a date, as YYYY-MM text."""
    if dialect == "postgresql":
        moment = sa.func.timezone("UTC", value) if is_timestamp else value
        return sa.func.to_char(moment, "YYYY-MM")
    return sa.func.strftime("%Y-%m", value)


def days_between(earlier, later, dialect: str):
    """Whole days from one date to another."""
    if dialect == "postgresql":
        return later - earlier
    return sa.cast(sa.func.julianday(later) - sa.func.julianday(earlier), sa.Integer)


def utc_day(timestamp, dialect: str):
    """The UTC day of a timestamp, as a date."""
    if dialect == "postgresql":
        return sa.cast(sa.func.timezone("UTC", timestamp), sa.Date)
    return sa.func.date(timestamp)


def minutes_between(earlier, later, dialect: str):
    """Minutes from one timestamp to another."""
    if dialect == "postgresql":
        return sa.extract("epoch", later - earlier) / 60
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 1440


def age_on(birth, day, dialect: str):
    """Age in whole years on `day` (a date or timestamp) of someone born on `birth`."""
    if dialect == "postgresql":
        return sa.cast(sa.extract("year", sa.func.age(sa.cast(day, sa.Date), birth)), sa.Integer)
    years = sa.cast(sa.func.strftime("%Y", day), sa.Integer) - sa.cast(
        sa.func.strftime("%Y", birth), sa.Integer
    )
    before_birthday = sa.func.strftime("%m-%d", day) < sa.func.strftime("%m-%d", birth)
    return years - sa.cast(before_birthday, sa.Integer)


def json_elements(column, dialect: str):
    """A table of a JSON array column's elements, one row each, with a `value` column."""
    if dialect == "postgresql":
        return sa.func.json_array_elements(column).table_valued("value")
    return sa.func.json_each(column).table_valued("value")


def json_field(element, key: str, dialect: str):
    """A text field of a JSON object taken from `json_elements`."""
    if dialect == "postgresql":
        return element.op("->>")(key)
    return sa.func.json_extract(element, f"$.{key}")


def start_of(day: date) -> datetime:
    """The UTC moment the program's `day` begins (midnight in the program's time zone)."""
    return day_start(day)


def within(timestamp, first: date, last: date):
    """A timestamp on or after the start of the first day and before the end of the last, both
    days in the program's time zone (a report's period is a span of the program's days)."""
    return sa.and_(timestamp >= day_start(first), timestamp < day_after_end(last))


def percent(part, whole):
    """part / whole as a percentage with one decimal (NUMERIC on both databases), or null
    when there is nothing to divide."""
    share = sa.cast(part, sa.Numeric) * 100 / sa.cast(whole, sa.Numeric)
    return sa.case((whole > 0, sa.func.round(share, 1)), else_=None)


def day_after(day, dialect: str):
    """The day after a date, as YYYY-MM-DD text."""
    if dialect == "postgresql":
        return sa.func.to_char(day + 1, "YYYY-MM-DD")
    return sa.func.date(day, "+1 day")
