"""API lookup of a patient by REMS patient ID, for the prescriber of record, their delegates,
administrators and auditors; anyone else gets the same 404 as for an unknown ID."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request

from rems.adverse_events.clock import api_events
from rems.api.operations import (
    AS_OF,
    AS_OF_UNREADABLE,
    UNAUTHORIZED,
    Answer,
    Param,
    identifier_schema,
    operation,
)
from rems.audit.access import note_read
from rems.audit.asof import as_of_argument
from rems.auth.permissions import current_actor, signed_in
from rems.common.clock import utcnow
from rems.common.localtime import program_today
from rems.documents.queries import acknowledgments_of, patient_missing_documents
from rems.errors import api_error
from rems.extensions import db
from rems.monitoring.asof import summary_as_of
from rems.monitoring.queries import summary as monitoring_summary
from rems.patients.asof import patient_as_of
from rems.patients.models import Patient
from rems.patients.presenters import courses_of
from rems.patients.queries import PATIENT_ID_PREFIX, patient_for
from rems.patients.schemas import PatientLookup

bp = Blueprint("patients", __name__)
NOT_FOUND = "No patient with this REMS patient ID, or not one of yours."
PATIENT_ID = identifier_schema(PATIENT_ID_PREFIX, "A REMS patient ID", "rems-patient-id")


@bp.get("/patients/<patient_id>")
@signed_in
@operation(
    "lookupPatient",
    "A patient's enrollment, acknowledgments, courses and monitoring, by REMS patient ID",
    description="For the prescriber of record, their delegates, administrators and auditors. "
    "Anyone else, site staff included, gets the same 404 as for an unknown or mistyped ID, so "
    "the answer never tells whether a patient exists.",
    params=(Param("patient_id", "path", "The REMS patient ID.", PATIENT_ID), AS_OF),
    answers={
        200: Answer("The patient.", PatientLookup),
        400: AS_OF_UNREADABLE,
        401: UNAUTHORIZED,
        422: Answer("as_of is in the future."),
        404: Answer("No such patient, not one of yours, or the ID's check character is wrong."),
    },
)
def patient_lookup(patient_id: str):
    """The patient's status, prescriber of record, acknowledgments, missing documents,
    courses and monitoring summary; with ?as_of=, as recorded by that moment."""
    moment = as_of_argument(request.args, utcnow())
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        return api_error(404, NOT_FOUND)
    note_read(current_actor(), "api", "patient", patient.rems_id)
    if moment is not None:
        return _as_of(patient, moment)
    return {
        "patient_id": patient.rems_id,
        "status": patient.status.value,
        "prescriber": {"npi": patient.prescriber.npi, "name": patient.prescriber.name},
        "acknowledgments": _acknowledgments(acknowledgments_of(db.session, patient)),
        "documents_missing": patient_missing_documents(db.session, patient, program_today()),
        "courses": [
            {"number": c.number, "status": c.status.value, "doses_total": c.doses_total,
             "doses_given": c.doses_given}
            for c in courses_of(db.session, patient)
        ],
        "monitoring": monitoring_summary(db.session, patient.id, program_today()),
        "adverse_events": api_events(db.session, patient.id, program_today()),
    }  # fmt: skip


def _as_of(patient: Patient, moment: datetime):
    """The lookup's answer as recorded by `moment`; a patient not yet registered is a 404."""
    then = patient_as_of(db.session, patient, moment)
    if then["status"] is None:
        return api_error(404, NOT_FOUND)
    return {
        "patient_id": patient.rems_id,
        "status": then["status"],
        "prescriber": {"npi": patient.prescriber.npi, "name": patient.prescriber.name},
        "acknowledgments": _acknowledgments(then["acknowledgments"]),
        "documents_missing": then["documents_missing"],
        "courses": then["courses"],
        "monitoring": summary_as_of(db.session, patient, moment),
        "adverse_events": api_events(db.session, patient.id, moment.date(), until=moment),
        "as_of": _utc(moment),
        "status_since": _utc(then["status_since"]) if then["status_since"] else None,
    }


def _acknowledgments(acknowledgments: list) -> list[dict[str, str]]:
    """Acknowledgments in the API's shape, newest first."""
    return [
        {"document": ack.version.document.code, "version": ack.version.label,
         "acknowledged_at": _utc(ack.acknowledged_at), "method": ack.method.value}
        for ack in acknowledgments
    ]  # fmt: skip


def _utc(moment: datetime) -> str:
    """A timestamp as ISO 8601 in UTC, e.g. 2026-11-24T09:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
