"""Reading a report's filters from a query string (or the CLI's options), refusing bad values
with a message that names the field. Nothing here runs the report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.api.fields import YEARS
from rems.common.errors import Collector
from rems.common.identifiers import npi_is_valid
from rems.common.validation import US_STATES
from rems.prescribers.models import Prescriber
from rems.reports.framework import Filters, Report
from rems.sites.queries import site_by_code

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: A report's period when none is given: the last 90 days, today included.
DEFAULT_PERIOD_DAYS = 90
PARTIES = ("prescriber", "site")


def parse_filters(
    session: Session, report: Report, args: Mapping[str, str], *, today: date, max_days: int
) -> Filters:
    """The report's filters from `args`; ValidationFailed names every field that is wrong."""
    problems = Collector()
    values: dict = {"today": today}
    if "period" in report.filters:
        values |= _period(args, today, max_days, problems)
    if "prescriber" in report.filters:
        values |= _prescriber(session, args.get("prescriber", "").strip(), problems)
    if "site" in report.filters:
        values |= _site(session, args.get("site", "").strip(), problems)
    values |= _choices(report, args, problems)
    values |= _sort(report, args, problems)
    problems.raise_if_any()
    return Filters(**values)


def _day(args: Mapping[str, str], name: str, problems: Collector) -> date | None:
    """A YYYY-MM-DD date, or None when blank or wrong (wrong is noted)."""
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        if not DATE_RE.match(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        problems.add(name, f"Give the date as YYYY-MM-DD (got {text[:20]!r}).")
        return None
    if day.year not in YEARS:  # the program's records lie here; far dates overflow a period
        problems.add(name, f"Give a date between {YEARS.start} and {YEARS.stop - 1}.")
        return None
    return day


def parse_period(
    args: Mapping[str, str], *, today: date, max_days: int, default_days: int
) -> tuple[date, date]:
    """A period alone (the assessment's): (from, to), or ValidationFailed naming the field."""
    problems = Collector()
    values = _period(args, today, max_days, problems, default_days)
    problems.raise_if_any()
    return values["date_from"], values["date_to"]


def _period(
    args, today: date, max_days: int, problems: Collector, default_days=DEFAULT_PERIOD_DAYS
) -> dict:
    """From and to: both default (the last 90 days), in order, within the longest range."""
    date_from, date_to = _day(args, "from", problems), _day(args, "to", problems)
    if "from" in problems.errors or "to" in problems.errors:
        return {}
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=default_days - 1)
    if date_from > date_to:
        problems.add("from", "The period's first day is after its last day.")
    elif (date_to - date_from).days + 1 > max_days:
        problems.add("to", f"The period is longer than the longest allowed ({max_days} days).")
    return {"date_from": date_from, "date_to": date_to}


def _prescriber(session: Session, npi: str, problems: Collector) -> dict:
    """A prescriber given by NPI, who must be enrolled."""
    if not npi:
        return {}
    if not npi_is_valid(npi):
        problems.add("prescriber", "Not a valid NPI: 10 digits with a check digit.")
        return {}
    found = session.scalar(sa.select(Prescriber.id).where(Prescriber.npi == npi))
    if found is None:
        problems.add("prescriber", "No prescriber is enrolled with this NPI.")
        return {}
    return {"prescriber": npi, "prescriber_id": found}


def _site(session: Session, code: str, problems: Collector) -> dict:
    """A healthcare setting given by its site ID."""
    if not code:
        return {}
    site = site_by_code(session, code)
    if site is None:
        problems.add("site", "No healthcare setting has this site ID.")
        return {}
    return {"site": site.site_code, "site_id": site.id}


def _choices(report: Report, args: Mapping[str, str], problems: Collector) -> dict:
    """State, status, party and 'expiring within N days', each from its allowed values."""
    values: dict = {}
    checks = {
        "state": (lambda v: v.upper() in US_STATES, "Not a US state or territory code."),
        "status": (lambda v: v in report.statuses, _one_of(report.statuses)),
        "party": (lambda v: v in PARTIES, _one_of(PARTIES)),
        "within_days": (lambda v: v.isdigit() and 1 <= int(v) <= 730, "Give 1 to 730 days."),
    }
    for name, (allowed, message) in checks.items():
        text = (args.get(name) or "").strip()
        if name not in report.filters or not text:
            continue
        if not allowed(text):
            problems.add(name, message)
            continue
        values[name] = int(text) if name == "within_days" else text
    if "state" in values:
        values["state"] = values["state"].upper()
    return values


def _one_of(options: tuple[str, ...]) -> str:
    """The message for a value outside a fixed set."""
    return f"Choose one of: {', '.join(options)}."


def _sort(report: Report, args: Mapping[str, str], problems: Collector) -> dict:
    """A sortable column and a direction."""
    key = (args.get("sort") or "").strip()
    direction = (args.get("dir") or "asc").strip()
    if not key:
        return {}
    if key not in report.sort_keys:
        problems.add("sort", f"This report cannot be sorted by {key[:40]!r}.")
        return {}
    if direction not in ("asc", "desc"):
        problems.add("dir", "Sort 'asc' or 'desc'.")
        return {}
    return {"sort": key, "descending": direction == "desc"}
