"""What the patient pages show: the choices of the enrollment form, the documents to sign, the
facts of a patient's page and the actions its viewer may take, the duplicate pairs."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import Session

from rems.adverse_events.presenters import event_rows
from rems.adverse_events.queries import events_of
from rems.audit.models import StatusChange
from rems.auth.models import Role, Signature, User
from rems.authorizations.history import patient_denials
from rems.authorizations.models import Authorization
from rems.authorizations.queries import may_see
from rems.certification.models import CertStatus
from rems.certification.queries import status_today
from rems.courses.drafts import open_draft
from rems.courses.models import OPEN_COURSE_STATUSES, Course
from rems.documents.models import DocumentVersion
from rems.documents.queries import (
    acknowledgments_of,
    current_versions_today,
    patient_missing_documents,
)
from rems.patients.models import Patient, PatientStatus
from rems.patients.queries import patient_history
from rems.patients.rules import PatientMove, next_patient_status
from rems.prescribers.delegates import prescribers_for_delegate
from rems.prescribers.models import Prescriber
from rems.prescribers.services import prescriber_for
from rems.prior_treatment.queries import doses_of
from rems.sites.models import Site
from rems.sites.queries import certified_infusion_sites

#: Audit actions of a patient's record, as people say them.
EVENT_LABELS = {
    "patient.prepared": "Enrollment form prepared",
    "patient.patient_signed": "Patient signed in clinic",
    "patient.enrolled": "Enrolled: the prescriber signed",
    "patient.discontinued": "Treatment discontinued",
    "patient.closed": "Record closed",
    "patient.transferred": "Transferred to another prescriber",
}


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]


def enrollable_prescribers(session: Session, actor: User) -> list[Prescriber]:
    """The prescribers the user prepares enrollments for: themself, or those they work for."""
    if actor.role == Role.PRESCRIBER:
        own = prescriber_for(session, actor)
        return [own] if own is not None else []
    return prescribers_for_delegate(session, actor)


def infusion_sites_today(session: Session, today: date) -> list[Site]:
    """Infusion sites certified today: the choices of a planned infusion site."""
    sites = certified_infusion_sites(session)
    return [site for site in sites if status_today(site, today) == CertStatus.CERTIFIED]


def not_certified(prescribers: list[Prescriber], today: date) -> list[Prescriber]:
    """Those of the prescribers who are not certified today (they cannot enroll patients)."""
    return [p for p in prescribers if status_today(p, today) != CertStatus.CERTIFIED]


def version_url(version: DocumentVersion | None) -> str | None:
    """Where to read a version, once the documents pages serve it."""
    if version is None or "documents.version_file" not in current_app.view_functions:
        return None
    return url_for("documents.version_file", version_id=version.id)


def current_documents(session: Session, today: date) -> list[dict[str, Any]]:
    """Each required document with its version in effect today (None: not published yet)."""
    versions = current_versions_today(session, today)
    return [
        {"code": doc.code, "title": doc.title, "version": versions.get(doc.code),
         "url": version_url(versions.get(doc.code))}
        for doc in _program().required_documents()
    ]  # fmt: skip


def _get(session: Session, model, row_id: int | None):
    """The row with this id, or None when there is no id."""
    return None if row_id is None else session.get(model, row_id)


def _names(session: Session, ids) -> dict[int, str]:
    """Full names of the users with these ids."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(sa.select(User.id, User.full_name).where(User.id.in_(wanted)))
    return {row.id: row.full_name for row in rows}


def _acknowledgments(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """The patient's acknowledgments, newest first, as rows of the page."""
    acks = acknowledgments_of(session, patient)
    names = _names(session, [ack.witness_id for ack in acks])
    return [
        {"title": ack.version.document.title, "label": ack.version.label,
         "effective_on": ack.version.effective_on, "method": ack.method.value,
         "at": ack.acknowledged_at, "witness": names.get(ack.witness_id, "—"),
         "url": version_url(ack.version)}
        for ack in acks
    ]  # fmt: skip


def _missing(session: Session, patient: Patient, today: date) -> list[dict[str, Any]]:
    """The required documents whose current version the patient has not acknowledged."""
    codes = set(patient_missing_documents(session, patient, today))
    return [doc for doc in current_documents(session, today) if doc["code"] in codes]


def actions_for(session: Session, patient: Patient, viewer: User) -> set[str]:
    """What the viewer may do to the patient now (they can already see the patient)."""
    own = viewer.role in (Role.PRESCRIBER, Role.DELEGATE)
    manages = viewer.role in (Role.ADMIN, Role.PRESCRIBER)
    pending = patient.status == PatientStatus.PENDING
    may = set()
    if own and pending and patient.patient_signature_id is None:
        may.add("patient_signature")
    if viewer.role == Role.PRESCRIBER and pending and patient.patient_signature_id is not None:
        may.add("sign")
    if own and patient.patient_signature_id is not None and patient.status != PatientStatus.CLOSED:
        may.add("acknowledge")
    if manages and next_patient_status(patient.status, PatientMove.DISCONTINUE):
        may.add("discontinue")
    if manages and next_patient_status(patient.status, PatientMove.CLOSE):
        may.add("close")
    if manages and patient.status != PatientStatus.CLOSED:
        may.add("transfer")
    return may | _course_actions(session, patient, viewer)


def _course_actions(session: Session, patient: Patient, viewer: User) -> set[str]:
    """The prescriber of record authorizes a course when none is open, or closes the open one;
    a delegate prepares the form as a draft for them; either discards an open draft."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    own = viewer.role == Role.PRESCRIBER and prescriber.user_id == viewer.id
    if not own and viewer.role != Role.DELEGATE:  # a delegate who sees the patient works for them
        return set()
    courses = courses_of(session, patient)
    is_open = any(c.status in OPEN_COURSE_STATUSES for c in courses)
    may = {"discard_draft"} if open_draft(session, patient) is not None else set()
    if not own:
        startable = patient.status == PatientStatus.ENROLLED and not is_open
        return may | ({"prepare_course"} if startable else set())
    if patient.status != PatientStatus.CLOSED and all(c.historical for c in courses):
        may.add("record_prior")
    if is_open:
        return may | {"close_course"}
    return may | ({"authorize_course"} if patient.status == PatientStatus.ENROLLED else set())


def patient_page(session: Session, patient: Patient, viewer: User, today: date) -> dict:
    """Everything the patient's page shows."""
    patient_sig = _get(session, Signature, patient.patient_signature_id)
    return {
        "patient": patient,
        "prescriber": session.get(Prescriber, patient.prescriber_id),
        "planned_site": _get(session, Site, patient.planned_site_id),
        "duplicate_of": _get(session, Patient, patient.possible_duplicate_of_id),
        "prepared_by": _get(session, User, patient.created_by_id),
        "patient_signature": patient_sig,
        "signed_statements": _signed_statements(patient_sig),
        "prescriber_signature": _get(session, Signature, patient.prescriber_signature_id),
        "acknowledgments": _acknowledgments(session, patient),
        "missing": _missing(session, patient, today),
        "courses": courses_of(session, patient),
        "course_rows": course_rows(session, patient, viewer),
        "course_draft": _draft(session, patient),
        "status_history": status_history(session, patient),
        "record_history": patient_history(session, patient),
        "event_labels": EVENT_LABELS,
        "may": actions_for(session, patient, viewer),
        "attestations": _program().patient_attestations(patient.can_become_pregnant),
        "adverse_events": event_rows(session, events_of(session, patient.id)),
        "denials": patient_denials(session, patient.id),
    }


def _draft(session: Session, patient: Patient) -> dict[str, Any] | None:
    """The patient's open course draft with who prepared and last updated it."""
    draft = open_draft(session, patient)
    if draft is None:
        return None
    return {
        "draft": draft,
        "prepared_by": session.get(User, draft.prepared_by_id),
        "updated_by": session.get(User, draft.updated_by_id),
    }


def _signed_statements(signature: Signature | None) -> list[dict[str, str]]:
    """The attestations exactly as the patient signed them (id and text)."""
    if signature is None:
        return []
    return list(json.loads(signature.content).get("attestations", []))


def courses_of(session: Session, patient: Patient) -> list[Course]:
    """The patient's treatment courses, first course first."""
    return list(
        session.scalars(
            sa.select(Course).where(Course.patient_id == patient.id).order_by(Course.number)
        )
    )


def course_rows(session: Session, patient: Patient, viewer: User) -> list[dict[str, Any]]:
    """Each course, newest first, with its dose counts and its dispensing authorizations."""
    rows = []
    courses = courses_of(session, patient)
    prior = doses_of(session, [c.id for c in courses if c.historical])
    for course in reversed(courses):
        grants = session.scalars(
            sa.select(Authorization)
            .where(Authorization.course_id == course.id)
            .order_by(Authorization.id.desc())
        )
        rows.append({
            "course": course, "doses_authorized": course.doses_given + course.doses_held,
            "prior_doses": prior.get(course.id, []),
            "authorizations": [
                {"authorization": a, "pharmacy": session.get(Site, a.pharmacy_site_id),
                 "site": session.get(Site, a.infusion_site_id),
                 "linked": may_see(session, viewer, a)}
                for a in grants
            ],
        })  # fmt: skip
    return rows


def status_history(session: Session, patient: Patient) -> list[StatusChange]:
    """The patient's status changes, oldest first."""
    return list(
        session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.entity_type == "patient", StatusChange.entity_id == patient.id)
            .order_by(StatusChange.id)
        )
    )


def duplicate_pairs(session: Session, flagged: list[Patient]) -> list[tuple[Patient, Patient]]:
    """Each flagged patient beside the earlier record they may duplicate."""
    return [(p, session.get(Patient, p.possible_duplicate_of_id)) for p in flagged]
