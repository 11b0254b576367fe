"""Local time: "today" and typed date-times in the zone of the party whose fact it is.

Storage and the clock stay UTC. A site's facts (infusions) use the site's zone, a prescriber's
(results, courses, adverse events, prior treatment, the patient's record) the practice's zone,
program-wide jobs (expiries, monitoring due and overdue, reminders) the program's zone. A site or
practice that names no zone uses the program's (`program.time_zone`). Rule functions stay pure:
services and views compute the day here and pass it in.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

from flask import current_app

from rems.common.clock import utcnow


def program_zone() -> ZoneInfo:
    """The program's time zone, from the (cached) program file."""
    return ZoneInfo(current_app.extensions["rems_program"].time_zone)


def zone_named(name: str | None) -> ZoneInfo:
    """The zone called `name`; the program's when it is empty."""
    return ZoneInfo(name) if name else program_zone()


def today_in(zone: tzinfo) -> date:
    """Today's date in `zone`, from the app's clock."""
    return utcnow().astimezone(zone).date()


def program_today() -> date:
    """Today in the program's zone: the day of program-wide jobs and pages."""
    return today_in(program_zone())


def site_zone(site) -> ZoneInfo:
    """A healthcare setting's zone (the program's when it names none)."""
    return zone_named(getattr(site, "time_zone", None))


def prescriber_zone(prescriber) -> ZoneInfo:
    """A prescriber practice's zone (the program's when it names none)."""
    return zone_named(getattr(prescriber, "time_zone", None))


def local_today_for_site(site) -> date:
    """Today at the healthcare setting."""
    return today_in(site_zone(site))


def local_today_for_prescriber(prescriber) -> date:
    """Today at the prescriber's practice."""
    return today_in(prescriber_zone(prescriber))


def site_place(site) -> str:
    """How a message names the site whose today it is."""
    return site.name


def practice_place(prescriber) -> str:
    """How a message names the practice whose today it is."""
    return prescriber.practice_name or f"the practice of {prescriber.name}"


def from_local(typed: datetime, zone: tzinfo) -> datetime:
    """A typed (naive) date-time read as the wall-clock time in `zone`, returned in UTC. An
    aware one keeps its own offset."""
    if typed.tzinfo is None:
        typed = typed.replace(tzinfo=zone)
    return typed.astimezone(UTC)


def to_local(moment: datetime, zone: tzinfo) -> datetime:
    """A stored moment (UTC; naive ones are read as UTC) as the wall-clock time in `zone`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone)


def after_today(label: str, day: date | None, *, today: date, where: str) -> str | None:
    """The one check of every clinical date that records a fact: not after `today` at the party
    `where` it happened. The message names the field; None when the date is fine (or absent)."""
    if day is None or day <= today:
        return None
    return f"{label}: cannot be after today ({today.isoformat()} at {where})."


def future_errors(
    dates: dict[str, tuple[str, date | None]], *, today: date, where: str
) -> dict[str, list[str]]:
    """{field: [message]} for each of `dates` ({field: (label, day)}) after `today`."""
    errors: dict[str, list[str]] = {}
    for field, (label, day) in dates.items():
        if message := after_today(label, day, today=today, where=where):
            errors[field] = [message]
    return errors


def actor_zone(actor) -> ZoneInfo:
    """The zone of the party a user acts for: their site (site staff), their practice
    (prescribers), else the program's (delegates, administrators, auditors). Takes the web
    user or the API token's identity, which carries its party's zone (no query)."""
    if actor is None:
        return program_zone()
    if hasattr(actor, "party_time_zone"):
        return zone_named(actor.party_time_zone)
    if getattr(actor, "site", None) is not None:
        return site_zone(actor.site)
    if getattr(actor.role, "value", None) == "prescriber":
        import sqlalchemy as sa

        from rems.extensions import db
        from rems.prescribers.models import Prescriber

        zone_name = db.session.scalar(
            sa.select(Prescriber.time_zone).where(Prescriber.user_id == actor.id)
        )
        return zone_named(zone_name)
    return program_zone()


def actor_today(actor) -> date:
    """Today for the party the user acts for (see `actor_zone`)."""
    return today_in(actor_zone(actor))


def patient_practice(session, patient) -> tuple[ZoneInfo, str]:
    """The zone of the patient's practice (their prescriber of record's) and its name."""
    from rems.prescribers.models import Prescriber

    prescriber = session.get(Prescriber, patient.prescriber_id)  # usually the identity map
    return prescriber_zone(prescriber), practice_place(prescriber)


def patient_practice_today(session, patient) -> tuple[date, str]:
    """Today at the patient's practice, and its name: the day against which the practice's
    facts about the patient are checked."""
    zone, where = patient_practice(session, patient)
    return today_in(zone), where
