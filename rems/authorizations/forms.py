"""Forms of the dispensing-authorization pages and what those pages show: the pharmacy's
request, a reversal, each denial reason in plain words, and rows of authorization lists."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from rems.auth.models import Role, User
from rems.authorizations.models import (
    LIVE_AUTHORIZATION_STATUSES,
    Authorization,
    AuthorizationStatus,
)
from rems.authorizations.presenters import authorization_body
from rems.common.forms import options
from rems.courses.models import Course
from rems.courses.settling import needs_settling
from rems.infusions.models import Infusion
from rems.infusions.queries import deviations_by_infusion, not_infused_visits
from rems.patients.forms import LenientDateField
from rems.patients.models import Patient
from rems.sites.models import Site
from rems.sites.queries import certified_infusion_sites

#: Who must act on a denial reason, as people say it.
ACTION_BY = {
    "prescriber": "The prescriber",
    "site": "The site: your pharmacy, or the receiving infusion site",
    "patient": "The patient",
    "program": "The REMS program",
}
#: What to do about each denial reason.
NEXT_STEP = {
    "PHARMACY_NOT_CERTIFIED": "Your pharmacy must be certified, and enrolled to dispense, before "
    "it can dispense. Your authorized representative contacts the REMS program.",
    "SITE_NOT_CERTIFIED": "Choose a certified infusion site; a site whose certification has "
    "lapsed renews it first.",
    "PRESCRIBER_NOT_CERTIFIED": "Check the NPI. If it is right, the prescriber must be certified.",
    "PRESCRIBER_NOT_OF_RECORD": "Use the NPI of the patient's prescriber of record, or the "
    "patient is transferred to this prescriber first.",
    "PATIENT_NOT_FOUND": "Check the REMS patient ID and the date of birth: both must match the "
    "patient's enrollment.",
    "PATIENT_NOT_ENROLLED": "The prescriber completes or restores the patient's enrollment.",
    "GUIDE_NOT_ACKNOWLEDGED": "The prescriber's office records that the patient received and "
    "acknowledged the current version of the document.",
    "COURSE_NOT_AUTHORIZED": "The prescriber submits a Patient Authorization and Baseline Lab "
    "Form with recent baseline tests.",
    "DOSES_EXCEEDED": "Ask for fewer doses, or leave the number empty to ask for every dose left.",
}


class RequestForm(FlaskForm):
    """A pharmacy's request to dispense: the patient, the prescriber, the receiving site."""

    patient_id = StringField(
        "REMS patient ID",
        validators=[DataRequired("Enter the patient's REMS patient ID."), Length(max=20)],
        description="As on the prescription, e.g. P3X7K9M2Q4A8; spaces and dashes are ignored.",
    )
    date_of_birth = LenientDateField(
        "Patient's date of birth",
        validators=[DataRequired("Enter the patient's date of birth (YYYY-MM-DD).")],
        description="It must match the enrollment together with the ID.",
    )
    prescriber_npi = StringField(
        "Prescriber NPI",
        validators=[DataRequired("Enter the prescriber's NPI."), Length(max=10)],
        description="The 10-digit NPI of the patient's prescriber of record.",
    )
    infusion_site_id = SelectField(
        "Receiving infusion site",
        validators=[DataRequired("Choose the infusion site that receives the drug.")],
        description="The certified infusion site where the patient is infused.",
    )
    doses = IntegerField(
        "Doses (optional)",
        validators=[Optional(), NumberRange(1, 99, "Enter a number of doses from 1 to 99.")],
        description="Leave empty to ask for all doses of the course not yet authorized or given.",
    )

    def request_body(self) -> dict[str, Any]:
        """The request as `request_authorization` takes it."""
        body = {
            "patient_id": self.patient_id.data.strip(),
            "date_of_birth": self.date_of_birth.data,
            "prescriber_npi": self.prescriber_npi.data.strip(),
            "infusion_site_id": self.infusion_site_id.data,
        }
        return body if self.doses.data is None else {**body, "doses": self.doses.data}


def infusion_site_options(session: Session) -> list:
    """Infusion sites to choose from (code and name); the decision re-checks certification."""
    sites = certified_infusion_sites(session)
    choices = [(site.site_code, f"{site.site_code} — {site.name}") for site in sites]
    return options([("", "Choose the infusion site"), *choices])


class ReversalForm(FlaskForm):
    """Take an authorization back before any dose is given, with the reason."""

    reason = TextAreaField(
        "Reason for the reversal",
        validators=[Length(max=2000)],
        description="Required. For example: the order was cancelled or sent to the wrong site. "
        "The doses return to the course.",
    )


def _is_live(authorization: Authorization, today: date) -> bool:
    """Live and still within its validity (an unrecorded expiry counts as expired)."""
    live = authorization.status in LIVE_AUTHORIZATION_STATUSES
    return live and not needs_settling(authorization, today)


def shown_status(authorization: Authorization, today: date) -> str:
    """The status as of today: expired once past its last day, even before that is recorded."""
    return "expired" if needs_settling(authorization, today) else authorization.status.value


def reversible(authorization: Authorization, today: date) -> bool:
    """Whether the pharmacy may still reverse it (the service has the last word)."""
    unused = authorization.status == AuthorizationStatus.ISSUED and not authorization.doses_given
    return unused and _is_live(authorization, today)


def authorization_rows(
    session: Session, authorizations: Iterable[Authorization], today: date
) -> list[dict[str, Any]]:
    """Rows of a list: the authorization, its status today, the patient ID and both sites."""
    authorizations = list(authorizations)
    wanted = {a.patient_id for a in authorizations}
    session.scalars(sa.select(Patient).where(Patient.id.in_(wanted))).all()  # one query, not 25
    return [
        {"authorization": a, "status": shown_status(a, today), "live": _is_live(a, today),
         "reversible": reversible(a, today),
         "patient_id": session.get(Patient, a.patient_id).rems_id,
         "patient": session.get(Patient, a.patient_id),
         "pharmacy": session.get(Site, a.pharmacy_site_id),
         "site": session.get(Site, a.infusion_site_id)}
        for a in authorizations
    ]  # fmt: skip


def authorization_page(
    session: Session, authorization: Authorization, viewer: User, today: date
) -> dict[str, Any]:
    """Everything the authorization's page shows, and what the viewer may do there."""
    staff = viewer.role == Role.SITE_STAFF
    infusions = session.scalars(
        sa.select(Infusion)
        .where(Infusion.authorization_id == authorization.id)
        .order_by(Infusion.dose_number)
    )
    infusions = list(infusions)
    course = session.get(Course, authorization.course_id)
    return {
        "authorization": authorization,
        "body": authorization_body(authorization),
        "status": shown_status(authorization, today),
        "course": course,
        "identity": session.get(Patient, authorization.patient_id),  # initials and birth date
        "pharmacy": session.get(Site, authorization.pharmacy_site_id),
        "site": session.get(Site, authorization.infusion_site_id),
        "infusions": infusions,
        "deviations": deviations_by_infusion(session, [i.id for i in infusions]),
        "not_infused": not_infused_visits(session, authorization.id),
        "live": _is_live(authorization, today),
        # A dose given while it was valid may be entered later; one outside its validity or
        # beyond its doses is recorded as a deviation: only a course with no dose left refuses.
        "may_record": staff
        and viewer.site_id == authorization.infusion_site_id
        and course.doses_given < course.doses_total,
        "may_reverse": staff
        and viewer.site_id == authorization.pharmacy_site_id
        and reversible(authorization, today),
    }
