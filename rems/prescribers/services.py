"""Prescriber enrollment: the form (draft, resume), the knowledge assessment, the signed
submission, and delegates. Callers commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.auth.signatures import sign
from rems.certification import rules
from rems.certification.forms_common import (
    check_attestations,
    check_editable,
    check_version,
    clean_fields,
    raise_errors,
)  # fmt: skip
from rems.certification.models import AssessmentAttempt, CertificationSubmission
from rems.certification.services import pending_submission, record_submission
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict, ValidationFailed
from rems.common.identifiers import npi_is_valid
from rems.prescribers.models import Prescriber

#: (field, maximum length, required to submit)
FORM_FIELDS = (
    ("first_name", 100, True), ("last_name", 100, True), ("credentials", 40, True),
    ("specialty", 100, True), ("npi", 10, True), ("license_number", 40, True),
    ("license_state", 2, True), ("practice_name", 200, True), ("address_line1", 200, True),
    ("address_line2", 200, False), ("city", 100, True), ("state", 2, True),
    ("postal_code", 10, True), ("phone", 30, True), ("email", 254, True),
    ("time_zone", 64, False),
)  # fmt: skip
SIGNATURE_MEANING = "Prescriber signs the Prescriber Enrollment Form and affirms its attestations"


def _program():
    return current_app.extensions["rems_program"]


def prescriber_for(session: Session, user: User) -> Prescriber | None:
    """The prescriber record of a prescriber's account."""
    return session.scalar(sa.select(Prescriber).where(Prescriber.user_id == user.id))


def clean_form(
    session: Session, values: dict[str, Any], *, prescriber_id: int | None, complete: bool
) -> dict[str, str | None]:
    """The form's fields trimmed and checked; NPI by its check digit and for uniqueness."""
    cleaned, errors = clean_fields(
        values, FORM_FIELDS, complete=complete, always_required=("first_name", "last_name")
    )
    npi = cleaned.get("npi")
    if npi and not npi_is_valid(npi):
        errors.add("npi", "This is not a valid NPI: 10 digits with a correct check digit.")
    elif npi and _npi_taken(session, npi, prescriber_id):
        errors.add("npi", "Another prescriber is already enrolled with this NPI.")
    raise_errors(errors)
    return cleaned


def _npi_taken(session: Session, npi: str, prescriber_id: int | None) -> bool:
    """Whether another prescriber has this NPI."""
    query = sa.select(Prescriber.id).where(Prescriber.npi == npi)
    if prescriber_id is not None:
        query = query.where(Prescriber.id != prescriber_id)
    return session.scalar(query) is not None


def save_enrollment_form(
    session: Session, user: User, values: dict[str, Any], *, today: date,
    expected_version: str | None = None,
) -> Prescriber:  # fmt: skip
    """Create or update the prescriber's form; half-done forms are kept as drafts."""
    if user.role != Role.PRESCRIBER:
        raise StateConflict("Only a prescriber's own account fills in the enrollment form.")
    prescriber = prescriber_for(session, user)
    if prescriber is not None:
        check_version(prescriber, expected_version)
        check_editable(prescriber.status, prescriber.expires_on, today,
                       _program().certification.expiry_warning_days,
                       pending=pending_submission(session, prescriber) is not None)  # fmt: skip
    cleaned = clean_form(
        session, values, prescriber_id=prescriber.id if prescriber else None, complete=False
    )
    now = utcnow()
    if prescriber is None:
        prescriber = Prescriber(user_id=user.id, created_at=now, updated_at=now, **cleaned)
        session.add(prescriber)
        session.flush()
        record_event(session, "prescriber.form_started", actor=user, entity=prescriber, new=cleaned)
        return prescriber
    old = {name: getattr(prescriber, name) for name in cleaned}
    changed = {name: value for name, value in cleaned.items() if old[name] != value}
    for name, value in changed.items():
        setattr(prescriber, name, value)
    prescriber.updated_at = now
    if changed:
        record_event(
            session, "prescriber.form_saved", actor=user, entity=prescriber,
            old={name: old[name] for name in changed}, new=changed,
        )  # fmt: skip
    return prescriber


def question_order(shuffle: bool, rng) -> list[str]:
    """The assessment's questions in the order to show them."""
    ids = [question.id for question in _program().assessment.questions]
    if shuffle:
        rng.shuffle(ids)
    return ids


def record_assessment(
    session: Session, prescriber: Prescriber, user: User, *, order: Sequence[str],
    answers: dict[str, str], started_at: datetime,
) -> AssessmentAttempt:  # fmt: skip
    """Grade and keep an attempt, pass or fail, with every answer."""
    program = _program()
    assessment = program.assessment
    if prescriber.user_id != user.id:
        raise StateConflict("Only the prescriber takes their own knowledge assessment.")
    # An attempt counts for the next submission, so it is taken only when one may follow.
    check_editable(prescriber.status, prescriber.expires_on, utcnow().date(),
                   program.certification.expiry_warning_days,
                   pending=pending_submission(session, prescriber) is not None)  # fmt: skip
    if sorted(order) != sorted(q.id for q in assessment.questions):
        raise ValidationFailed.single("assessment", "The assessment changed; start it again.")
    grade = rules.grade_assessment(assessment.questions, answers, assessment.pass_mark)
    attempt = AssessmentAttempt(
        prescriber_id=prescriber.id, question_order=list(order),
        answers={qid: answers.get(qid, "") for qid in order}, score=grade.score,
        passed=grade.passed, started_at=started_at, completed_at=utcnow(), taken_by_id=user.id,
    )  # fmt: skip
    session.add(attempt)
    session.flush()
    record_event(
        session, "assessment_attempt.recorded", actor=user, entity=attempt,
        new={"score": grade.score, "total": grade.total, "passed": grade.passed},
    )  # fmt: skip
    return attempt


def usable_passed_attempt(session: Session, prescriber: Prescriber) -> AssessmentAttempt | None:
    """A passed attempt taken since the prescriber's last submission (renewals retake it)."""
    last_submitted = session.scalar(
        sa.select(sa.func.max(CertificationSubmission.submitted_at)).where(
            CertificationSubmission.prescriber_id == prescriber.id
        )
    )
    query = sa.select(AssessmentAttempt).where(
        AssessmentAttempt.prescriber_id == prescriber.id, AssessmentAttempt.passed
    )
    if last_submitted is not None:
        query = query.where(AssessmentAttempt.completed_at > last_submitted)
    return session.scalar(query.order_by(AssessmentAttempt.id.desc()))


def submit_enrollment(
    session: Session, prescriber: Prescriber, signer: User, *, password: str,
    attested: Iterable[str], today: date, expected_version: str | None = None,
) -> CertificationSubmission:  # fmt: skip
    """Sign and submit: complete form, passed assessment, every attestation, the password."""
    if signer.id != prescriber.user_id:
        raise StateConflict("Only the prescriber signs their enrollment form; a delegate cannot.")
    check_version(prescriber, expected_version)
    program = _program()
    check_editable(prescriber.status, prescriber.expires_on, today,
                   program.certification.expiry_warning_days)  # fmt: skip
    content = _signed_content(session, prescriber, attested)
    signature = sign(session, signer, password=password, meaning=SIGNATURE_MEANING, content=content)
    return record_submission(
        session, prescriber, form=content, signature_id=signature.id, submitter=signer, today=today
    )


def _signed_content(
    session: Session, prescriber: Prescriber, attested: Iterable[str]
) -> dict[str, Any]:
    """Exactly what the prescriber signs, after every check of the form has passed."""
    program = _program()
    errors = Collector()
    values = {name: getattr(prescriber, name) for name, _, _ in FORM_FIELDS}
    try:
        fields = clean_form(session, values, prescriber_id=prescriber.id, complete=True)
        fields.pop("time_zone", None)  # a setting of the practice, not a statement it signs
    except ValidationFailed as failure:
        fields = values
        errors.errors.update(failure.errors)
    statements = check_attestations(program.attestations.prescriber, attested, errors)
    attempt = usable_passed_attempt(session, prescriber)
    if attempt is None:
        errors.add("assessment", "Pass the knowledge assessment before signing.")
    raise_errors(errors)
    return {
        "form": "Prescriber Enrollment Form", "program": program.name, "fields": fields,
        "attestations": statements,
        "assessment": {"attempt_id": attempt.id, "score": attempt.score,
                       "total": len(program.assessment.questions)},
    }  # fmt: skip
