"""What the demo database holds now, as `flask rems demo` prints it on every run: each demo
account, each party's certification as of today, each patient with their courses, and each
dispensing authorization (read-only: settling happens in the daily jobs and on use)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.certification.queries import status_today
from rems.courses.models import Course
from rems.courses.settling import needs_settling
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.sites.models import Site

#: Every account the demo makes has an address here, staff accounts included.
DEMO_EMAIL_DOMAIN = "@demo.rems.example"


def demo_accounts(session: Session) -> list[User]:
    """Every account the demo made, in the order it made them."""
    statement = sa.select(User).where(User.email.endswith(DEMO_EMAIL_DOMAIN)).order_by(User.id)
    return list(session.scalars(statement))


def account_lines(session: Session, made_now: set[str]) -> list[str]:
    """One line per demo account: username, role, site, and whether this run created it."""
    lines = []
    for user in demo_accounts(session):
        where = f" at {user.site.name}" if user.site else ""
        state = "created" if user.username in made_now else "already there"
        lines.append(f"{user.username:<16} {user.role.label + where:<48} {state}")
    return lines


def party_lines(session: Session, today: date) -> list[str]:
    """Each prescriber and site with its certification status today."""
    lines = [
        f"{p.user.username:<16} prescriber  {_certification(p, today)}"
        for p in session.scalars(sa.select(Prescriber).order_by(Prescriber.id))
    ]
    for site in session.scalars(sa.select(Site).order_by(Site.id)):
        kinds = "/".join(kind for kind in ("dispenses", "infuses") if getattr(site, kind))
        lines.append(f"{site.site_code}  site  {site.name} ({kinds}): "
                     f"{_certification(site, today)}")  # fmt: skip
    return lines


def _certification(party, today: date) -> str:
    """The status as of today, with the last day of a certification that runs or ran out."""
    state = status_today(party, today).value
    if state == "certified":
        return f"certified until {party.expires_on}"
    if state == "expired":
        return f"expired on {party.expires_on}"
    return state


def patient_lines(session: Session) -> list[str]:
    """Each patient: REMS ID, name, prescriber of record, status, and every course."""
    lines = []
    for patient in session.scalars(sa.select(Patient).order_by(Patient.id)):
        courses = session.scalars(
            sa.select(Course).where(Course.patient_id == patient.id).order_by(Course.number)
        )
        doses = "".join(
            f"; course {c.number} {c.status.value}, {c.doses_given} of {c.doses_total} doses given"
            for c in courses
        )
        lines.append(f"{patient.rems_id}  {patient.name:<14} ({patient.prescriber.name}): "
                     f"{patient.status.value}{doses}")  # fmt: skip
    return lines


def gate_lines(session: Session, today: date) -> list[str]:
    """Each dispensing authorization as it reads today, and the denials on record."""
    lines = []
    for authorization in session.scalars(sa.select(Authorization).order_by(Authorization.id)):
        status = "expired" if needs_settling(authorization, today) else authorization.status.value
        patient = session.get(Patient, authorization.patient_id)
        lines.append(
            f"authorization {authorization.number} for {patient.rems_id}: {status}, "
            f"{authorization.doses_given} of {authorization.doses} doses given, valid "
            f"{authorization.valid_from} to {authorization.valid_until}"
        )
    denials = session.scalar(
        sa.select(sa.func.count())
        .select_from(AuthorizationDecision)
        .where(AuthorizationDecision.outcome == "denied")
    )
    lines.append(f"{denials} denied request(s) on record")
    return lines
