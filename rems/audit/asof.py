"""Point in time: a record's status as of a past moment, from its recorded status history
(never from today's row), and the reading of an "as of" time a person or a system gives."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.auth.models import User
from rems.common.programday import day_end, day_of, zone_or_program

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: The years an "as of" may name; outside them it is a typing mistake (400). Later years are
#: in the future anyway (422).
FIRST_YEAR, LAST_YEAR = 1900, 9999


class AsOfUnreadable(ValueError):
    """The 'as of' text is not a date or a time."""


class AsOfInFuture(ValueError):
    """The 'as of' time has not happened yet."""


def parse_as_of(text: str, now: datetime, zone: tzinfo | None = None) -> datetime:
    """A date (meaning the end of that day in the program's time zone, or `zone`) or an ISO 8601
    time with a zone, in UTC. A date of today there means now; anything later is refused."""
    text = (text or "").strip()
    zone = zone_or_program(zone)
    try:
        if DATE_RE.match(text):
            day = date.fromisoformat(text)
            moment = None
        else:
            candidate = text.replace("Z", "+00:00")
            if "T" in candidate and " " in candidate:  # a '+' sent unencoded in a query string
                candidate = candidate.replace(" ", "+")
            moment = datetime.fromisoformat(candidate)
            day = moment.date()
    except ValueError:
        raise AsOfUnreadable(
            "Give a date (YYYY-MM-DD) or a time with its zone (e.g. 2026-11-24T13:00:00Z)."
        ) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise AsOfUnreadable(f"Give a date or time from the year {FIRST_YEAR} to {LAST_YEAR}.")
    if moment is None:
        today = day_of(now, zone)
        if day > today:
            raise AsOfInFuture(FUTURE)
        return now if day == today else day_end(day, zone)
    if moment.tzinfo is None:
        raise AsOfUnreadable("Give the time zone too (Z for UTC), e.g. 2026-11-24T13:00:00Z.")
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:  # only at the ends of year 9999 (or 1): long past now
        raise AsOfInFuture(FUTURE) from None
    if moment > now + timedelta(seconds=1):
        raise AsOfInFuture(FUTURE)
    return moment


FUTURE = "That time is in the future; give a past date or time."


def as_of_argument(args, now: datetime) -> datetime | None:
    """An API lookup's ?as_of=, or None when not given (AsOfUnreadable, AsOfInFuture raise)."""
    if "as_of" not in args:
        return None
    return parse_as_of(args.get("as_of", ""), now)


@dataclass(frozen=True)
class StatusAt:
    """What the history says about a record at a moment."""

    moment: datetime
    status: str | None  # None: the record did not exist yet
    since: datetime | None  # when that status began (None: since the record was created)
    changed_by: str | None
    reason: str | None


def status_at(
    session: Session, record, moment: datetime, *, initial: str, created_at: datetime | None = None
) -> StatusAt:
    """The record's status at `moment`: the last recorded change at or before it, or its first
    status when created before it without a change yet; None before it existed."""
    created_at = created_at or record.created_at
    if created_at > moment:
        return StatusAt(moment, None, None, None, None)
    change = session.scalar(
        sa.select(StatusChange)
        .where(StatusChange.entity_type == record.__tablename__)
        .where(StatusChange.entity_id == record.id)
        .where(StatusChange.changed_at <= moment)
        .order_by(StatusChange.changed_at.desc(), StatusChange.id.desc())
        .limit(1)
    )
    if change is None:
        return StatusAt(moment, initial, created_at, None, None)
    who = session.get(User, change.changed_by_id) if change.changed_by_id else None
    return StatusAt(
        moment, change.to_status, change.changed_at, who.username if who else "system",
        change.reason,
    )  # fmt: skip


@dataclass(frozen=True)
class AsOfAnswer:
    """What a page shows for an 'as of' question: the text asked, the answer or the problem."""

    asked: str
    answer: StatusAt | None
    problem: str | None


def answer_as_of(text: str | None, now: datetime, lookup) -> AsOfAnswer | None:
    """Answer `lookup(moment)` for the 'as of' text a person typed; None when none was typed."""
    if not (text or "").strip():
        return None
    try:
        moment = parse_as_of(text, now)
    except (AsOfUnreadable, AsOfInFuture) as problem:
        return AsOfAnswer(text[:40], None, str(problem))
    return AsOfAnswer(text[:40], lookup(moment), None)
