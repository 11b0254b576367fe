"""API lookup of a patient by REMS patient ID, for the prescriber of record, their delegates,
administrators and auditors; anyone else gets the same 404 as for an unknown ID."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint

from rems.api.operations import UNAUTHORIZED, Answer, Param, identifier_schema, operation
from rems.auth.permissions import current_actor, signed_in
from rems.common.clock import today
from rems.documents.queries import acknowledgments_of, patient_missing_documents
from rems.errors import api_error
from rems.extensions import db
from rems.monitoring.queries import summary as monitoring_summary
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
    params=(Param("patient_id", "path", "The REMS patient ID.", PATIENT_ID),),
    answers={
        200: Answer("The patient.", PatientLookup),
        401: UNAUTHORIZED,
        404: Answer("No such patient, not one of yours, or the ID's check character is wrong."),
    },
)
def patient_lookup(patient_id: str):
    """The patient's status, prescriber of record, acknowledgments, missing documents,
    courses and monitoring summary."""
    patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        return api_error(404, NOT_FOUND)
    return {
        "patient_id": patient.rems_id,
        "status": patient.status.value,
        "prescriber": {"npi": patient.prescriber.npi, "name": patient.prescriber.name},
        "acknowledgments": _acknowledgments(patient),
        "documents_missing": patient_missing_documents(db.session, patient, today()),
        "courses": [
            {"number": c.number, "status": c.status.value, "doses_total": c.doses_total,
             "doses_given": c.doses_given}
            for c in courses_of(db.session, patient)
        ],
        "monitoring": monitoring_summary(db.session, patient.id, today()),
    }  # fmt: skip


def _acknowledgments(patient: Patient) -> list[dict[str, str]]:
    """The patient's acknowledgments, newest first."""
    return [
        {"document": ack.version.document.code, "version": ack.version.label,
         "acknowledged_at": _utc(ack.acknowledged_at), "method": ack.method.value}
        for ack in acknowledgments_of(db.session, patient)
    ]  # fmt: skip


def _utc(moment: datetime) -> str:
    """A timestamp as ISO 8601 in UTC, e.g. 2026-11-24T09:00:00Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
