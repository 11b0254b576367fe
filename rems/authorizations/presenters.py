"""The API's JSON shapes for decisions, authorizations and infusions (api.md)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import jsonify

from rems.authorizations.models import Authorization
from rems.courses.models import Course
from rems.extensions import db
from rems.patients.models import Patient
from rems.sites.models import Site


def grant_body(number: str, patient_id: str, course, decision, warnings: list) -> dict:
    """The answer to a granted request (201), from the values just written: the course's
    counts as the dose hold returned them."""
    body = {
        "decision": "authorized",
        "authorization_number": number,
        "patient_id": patient_id,
        "course": _course(course),
        "doses": decision.doses,
        "valid_from": decision.valid_from.isoformat(),
        "valid_until": decision.valid_until.isoformat(),
        "warnings": warnings,
    }
    if decision.first_dose_by is not None:
        body["first_dose_by"] = decision.first_dose_by.isoformat()
    return body


def denial_body(decision_id: str, reasons: list, warnings: list) -> dict:
    """The answer to a denied request (200): every reason, and who must act."""
    return {
        "decision": "denied",
        "decision_id": decision_id,
        "reasons": reasons,
        "warnings": warnings,
    }


def decision_response(outcome):
    """The stored first answer (a replay returns exactly it) with its status code."""
    decision = outcome.decision
    status = 201 if decision.outcome == "authorized" else 200
    response = jsonify(decision.response)
    response.status_code = status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _course(course) -> dict[str, int]:
    """A course's dose counts."""
    return {
        "number": course.number,
        "doses_total": course.doses_total,
        "doses_given": course.doses_given,
        "doses_authorized": course.doses_given + course.doses_held,
    }


def authorization_body(authorization: Authorization) -> dict[str, Any]:
    """One authorization as its parties see it."""
    course = db.session.get(Course, authorization.course_id)
    return read_body(
        SimpleNamespace(
            number=authorization.number,
            status=authorization.status,
            patient_id=db.session.get(Patient, authorization.patient_id).rems_id,
            course_number=course.number,
            course_doses_total=course.doses_total,
            course_doses_given=course.doses_given,
            course_doses_held=course.doses_held,
            doses=authorization.doses,
            doses_given=authorization.doses_given,
            valid_from=authorization.valid_from,
            valid_until=authorization.valid_until,
            first_dose_by=authorization.first_dose_by,
            pharmacy_code=db.session.get(Site, authorization.pharmacy_site_id).site_code,
            infusion_code=db.session.get(Site, authorization.infusion_site_id).site_code,
            issued_at=authorization.issued_at,
        )
    )


def read_body(row) -> dict[str, Any]:
    """One authorization as its parties see it, from a row of plain values (one Core select)."""
    return {
        "authorization_number": row.number,
        "status": row.status.value,
        "patient_id": row.patient_id,
        "course": {
            "number": row.course_number,
            "doses_total": row.course_doses_total,
            "doses_given": row.course_doses_given,
            "doses_authorized": row.course_doses_given + row.course_doses_held,
        },
        "doses": row.doses,
        "doses_given": row.doses_given,
        "valid_from": row.valid_from.isoformat(),
        "valid_until": row.valid_until.isoformat(),
        "first_dose_by": row.first_dose_by.isoformat() if row.first_dose_by else None,
        "pharmacy_site_id": row.pharmacy_code,
        "infusion_site_id": row.infusion_code,
        "issued_at": row.issued_at.isoformat().replace("+00:00", "Z"),
    }


def infusion_body(recorded) -> dict[str, Any]:
    """The answer to a recorded infusion."""
    return {
        "course": recorded.course.number,
        "dose_number": recorded.infusion.dose_number,
        "authorization_status": recorded.authorization.status.value,
        "course_status": recorded.course.status.value,
        "warnings": list(recorded.warnings),
        "deviations": [
            {"code": d.code, "severity": d.severity, "party": d.party, "case_id": d.case_id}
            for d in recorded.deviations
        ],
    }
