"""The API's JSON shapes for decisions, authorizations and infusions (api.md)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.courses.models import Course
from rems.extensions import db
from rems.patients.models import Patient
from rems.sites.models import Site


def decision_body(decision: AuthorizationDecision, authorization: Authorization | None) -> dict:
    """The answer to a request: the grant (201) or the denial with every reason (200)."""
    if authorization is None:
        return {
            "decision": "denied",
            "decision_id": decision.decision_id,
            "reasons": decision.reasons,
            "warnings": decision.warnings,
        }
    course = db.session.get(Course, authorization.course_id)
    body = {
        "decision": "authorized",
        "authorization_number": authorization.number,
        "patient_id": db.session.get(Patient, authorization.patient_id).rems_id,
        "course": _course(course),
        "doses": authorization.doses,
        "valid_from": authorization.valid_from.isoformat(),
        "valid_until": authorization.valid_until.isoformat(),
        "warnings": decision.warnings,
    }
    if authorization.first_dose_by is not None:
        body["first_dose_by"] = authorization.first_dose_by.isoformat()
    return body


def decision_response(outcome):
    """The stored first answer (a replay returns exactly it) with its status code."""
    decision = outcome.decision
    status = 201 if decision.outcome == "authorized" else 200
    response = jsonify(decision.response)
    response.status_code = status
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _course(course: Course) -> dict[str, int]:
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
    return {
        "authorization_number": authorization.number,
        "status": authorization.status.value,
        "patient_id": db.session.get(Patient, authorization.patient_id).rems_id,
        "course": _course(course),
        "doses": authorization.doses,
        "doses_given": authorization.doses_given,
        "valid_from": authorization.valid_from.isoformat(),
        "valid_until": authorization.valid_until.isoformat(),
        "first_dose_by": authorization.first_dose_by.isoformat()
        if authorization.first_dose_by
        else None,
        "pharmacy_site_id": db.session.get(Site, authorization.pharmacy_site_id).site_code,
        "infusion_site_id": db.session.get(Site, authorization.infusion_site_id).site_code,
        "issued_at": authorization.issued_at.isoformat().replace("+00:00", "Z"),
    }


def infusion_body(recorded) -> dict[str, Any]:
    """The answer to a recorded infusion."""
    return {
        "course": recorded.course.number,
        "dose_number": recorded.infusion.dose_number,
        "authorization_status": recorded.authorization.status.value,
        "course_status": recorded.course.status.value,
        "warnings": list(recorded.warnings),
    }
