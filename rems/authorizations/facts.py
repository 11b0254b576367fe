"""Gathering the plain facts a dispensing decision needs, in a handful of indexed reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import User
from rems.authorizations.models import LIVE_AUTHORIZATION_STATUSES, Authorization
from rems.authorizations.rules import DispenseFacts, OpenCourse, Party
from rems.certification.models import CertStatus
from rems.certification.queries import status_today
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.courses.models import Course
from rems.documents.queries import patient_missing_documents
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber
from rems.sites.models import Site
from rems.sites.queries import site_by_code


@dataclass(frozen=True, slots=True)
class Refs:
    """The records the facts came from, for writing the grant."""

    pharmacy: Site | None
    site: Site | None
    prescriber: Prescriber | None
    patient: Patient | None
    course: Course | None


def gather_facts(
    session: Session, requester: User, request: dict[str, Any], today: date
) -> tuple[DispenseFacts, Refs]:
    """The facts of one request (the requester's own site is the pharmacy)."""
    program = current_app.extensions["rems_program"]
    pharmacy = session.get(Site, requester.site_id) if requester.site_id else None
    site = site_by_code(session, request["infusion_site_id"])
    prescriber = session.scalar(
        sa.select(Prescriber).where(Prescriber.npi == request["prescriber_npi"])
    )
    patient = find_patient(session, request["patient_id"], request["date_of_birth"])
    course = _open_course(session, patient, today) if patient else None
    facts = DispenseFacts(
        today=today,
        pharmacy=_party(pharmacy, today, "dispenses"),
        site=_party(site, today, "infuses"),
        prescriber=_party(prescriber, today, None),
        patient_found=patient is not None,
        patient_enrolled=bool(patient and patient.status == PatientStatus.ENROLLED),
        prescriber_of_record=bool(
            patient and prescriber and patient.prescriber_id == prescriber.id
        ),
        documents_missing=tuple(patient_missing_documents(session, patient, today))
        if patient
        else (),
        course=_course_facts(course),
        doses_requested=request.get("doses"),
        expiry_warning_days=program.authorization.expiry_warning_days,
        validity_days=program.authorization.validity_days,
    )
    return facts, Refs(pharmacy, site, prescriber, patient, course)


def find_patient(session: Session, patient_id: str, born: date) -> Patient | None:
    """The patient with this REMS ID *and* date of birth (one answer for either mismatch)."""
    if not is_valid_identifier(patient_id or "", "P"):
        return None
    return session.scalar(
        sa.select(Patient).where(
            Patient.rems_id == normalize_identifier(patient_id), Patient.date_of_birth == born
        )
    )


def _party(record: Prescriber | Site | None, today: date, capability: str | None):
    """A party's certification today and, for sites, whether it can do what is asked."""
    if record is None:
        return None
    return Party(
        certified=status_today(record, today) == CertStatus.CERTIFIED,
        capable=getattr(record, capability) if capability else True,
        expires_on=record.expires_on,
    )


def _open_course(session: Session, patient: Patient, today: date) -> Course | None:
    """The open course after settling what time has ended: lapsed courses, expired grants."""
    from rems.authorizations.services import settle_authorization
    from rems.courses.services import open_course, settle_course

    course = open_course(session, patient)
    if course is None:
        return None
    lapsed = session.scalars(
        sa.select(Authorization).where(
            Authorization.course_id == course.id,
            Authorization.status.in_(LIVE_AUTHORIZATION_STATUSES),
            Authorization.valid_until < today,
        )
    ).all()
    for authorization in lapsed:
        settle_authorization(session, authorization, today)
    status = course.status
    settle_course(session, course, today)
    if not lapsed and course.status == status:
        return course  # nothing settled: the course as read is current
    session.flush()
    session.refresh(course)
    return open_course(session, patient)


def _course_facts(course: Course | None) -> OpenCourse | None:
    """The course as the decision sees it."""
    if course is None:
        return None
    return OpenCourse(
        number=course.number,
        started=course.first_dose_on is not None,
        doses_total=course.doses_total,
        doses_given=course.doses_given,
        doses_held=course.doses_held,
        first_dose_by=course.first_dose_by,
        last_dose_on=course.last_dose_on,
    )
