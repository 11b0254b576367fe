"""Who may see an authorization: its pharmacy, its receiving site, the prescriber of record,
auditors and administrators. Anyone else gets a 404."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.authorizations.models import Authorization
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.courses.models import Course
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.sites.models import Site


def authorization_for(session: Session, user: User, number: str) -> Authorization | None:
    """The authorization with this number, if the user is party to it."""
    if not is_valid_identifier(number or "", "A"):
        return None
    authorization = session.scalar(
        sa.select(Authorization).where(Authorization.number == normalize_identifier(number))
    )
    if authorization is None or not may_see(session, user, authorization):
        return None
    return authorization


def may_see(session: Session, user: User, authorization: Authorization) -> bool:
    """Party to the authorization, or a reader of everything."""
    if user.role == Role.PRESCRIBER:
        prescriber_user_id = session.get(Prescriber, authorization.prescriber_id).user_id
    else:
        prescriber_user_id = None
    sites = (authorization.pharmacy_site_id, authorization.infusion_site_id)
    return party_to(user, sites, prescriber_user_id)


def party_to(user, site_ids: tuple[int, int], prescriber_user_id: int | None) -> bool:
    """Whether a user (or token identity) sees an authorization of these sites and prescriber."""
    if user.role in (Role.ADMIN, Role.AUDITOR):
        return True
    if user.role == Role.SITE_STAFF:
        return user.site_id in site_ids
    if user.role == Role.PRESCRIBER:
        return prescriber_user_id == user.id
    return False


def _read_statement() -> sa.Select:
    """An authorization with its course's counts, patient ID and site IDs, by number."""
    auth, course = Authorization.__table__, Course.__table__
    patient, prescriber = Patient.__table__, Prescriber.__table__
    pharmacy, infusion = Site.__table__.alias("pharmacy"), Site.__table__.alias("infusion")
    return (
        sa.select(
            auth.c.number, auth.c.status, auth.c.doses, auth.c.doses_given, auth.c.valid_from,
            auth.c.valid_until, auth.c.first_dose_by, auth.c.issued_at,
            auth.c.pharmacy_site_id, auth.c.infusion_site_id,
            patient.c.rems_id.label("patient_id"), course.c.number.label("course_number"),
            course.c.doses_total.label("course_doses_total"),
            course.c.doses_given.label("course_doses_given"),
            course.c.doses_held.label("course_doses_held"),
            pharmacy.c.site_code.label("pharmacy_code"),
            infusion.c.site_code.label("infusion_code"),
            prescriber.c.user_id.label("prescriber_user_id"),
        )
        .select_from(auth)
        .join(course, course.c.id == auth.c.course_id)
        .join(patient, patient.c.id == auth.c.patient_id)
        .join(prescriber, prescriber.c.id == auth.c.prescriber_id)
        .join(pharmacy, pharmacy.c.id == auth.c.pharmacy_site_id)
        .join(infusion, infusion.c.id == auth.c.infusion_site_id)
        .where(auth.c.number == sa.bindparam("number"))
    )  # fmt: skip


_READ = _read_statement()


def authorization_row(session: Session, user, number: str):
    """The authorization as the API shows it, in one Core select, if the user (or token
    identity) is party to it; None (a 404) otherwise."""
    if not is_valid_identifier(number or "", "A"):
        return None
    row = session.execute(_READ, {"number": normalize_identifier(number)}).first()
    sites = (row.pharmacy_site_id, row.infusion_site_id) if row else (0, 0)
    if row is None or not party_to(user, sites, row.prescriber_user_id):
        return None
    return row


def live_for_pharmacy(site_id: int) -> sa.Select:
    """A pharmacy's issued and partly used authorizations, newest first."""
    return (
        sa.select(Authorization)
        .where(
            Authorization.pharmacy_site_id == site_id,
            Authorization.status.in_(["issued", "partially_used"]),
        )
        .order_by(Authorization.id.desc())
    )
