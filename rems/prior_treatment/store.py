"""Storing a planned prior-treatment batch (rems.prior_treatment.batch) under one signature:
every course, the waivers of "monitoring done elsewhere" with the batch's one reason, and the
interval flags. Callers commit."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import User
from rems.auth.signatures import sign
from rems.common.errors import ValidationFailed
from rems.prior_treatment import elsewhere, services

BATCH_MEANING = "Imports treatment given before this system, as the source documents show"


def store_batch(
    session: Session, plans: list, actor: User, *, password: str, data: bytes,
    today: date, elsewhere_reason: str = "",
) -> tuple[int, int, int]:  # fmt: skip
    """Sign the batch once (with the reason monitoring was done elsewhere, when a patient has
    such a date), then store every course and waive each such patient's earlier items:
    (patients, courses, doses). `plans` are rems.prior_treatment.batch.PlannedCourse."""
    until = {p.patient.id: p.elsewhere_until for p in plans if p.elsewhere_until is not None}
    if problem := elsewhere.reason_problem(elsewhere_reason, needed=bool(until)):
        raise ValidationFailed({"elsewhere_reason": [problem]})
    content = {
        "file_sha256": hashlib.sha256(data).hexdigest(),
        "courses": [{"patient_id": p.patient.rems_id, "course": p.nxt.number,
                     "doses": sorted(p.doses.values())} for p in plans],
    }  # fmt: skip
    if until:
        content["monitoring_elsewhere"] = {
            "reason": elsewhere_reason.strip(),
            "until": {p.patient.rems_id: p.elsewhere_until for p in plans if p.elsewhere_until},
        }
    signature = sign(session, actor, password=password, meaning=BATCH_MEANING, content=content)
    warned: dict[int, list[str]] = {}
    for plan in plans:
        course = services.store_prior_course(
            session, plan.patient, actor, plan.nxt, plan.doses, plan.sources, signature.id,
            today=today,
        )  # fmt: skip
        if plan.warnings:
            record_event(
                session, "course.prior_interval_short", actor=actor, entity=course,
                new={"patient": plan.patient.rems_id, "number": plan.nxt.number},
                reason=" ".join(plan.warnings),
            )  # fmt: skip
            warned.setdefault(plan.patient.id, []).extend(plan.warnings)
    patients = {p.patient.id: p.patient for p in plans}
    for patient_id, day in until.items():
        elsewhere.waive_before(
            session, patients[patient_id], actor, until=day, reason=elsewhere_reason,
            signature_id=signature.id, today=today,
        )  # fmt: skip
    for patient_id, warnings in warned.items():
        elsewhere.tell_prescriber(session, patients[patient_id], warnings)
    return len(patients), len(plans), sum(len(p.doses) for p in plans)
