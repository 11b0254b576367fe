"""Course drafts: a delegate prepares the Patient Authorization and Baseline Lab Form (planned
first infusion, baseline test dates), the prescriber reviews it pre-filled and signs it, or
either discards it with a reason. A delegate never signs. Callers commit.

A draft carries no attestation: the course attestations are the prescriber's own, affirmed when
they sign. Every rule of the form is checked when the prescriber signs, exactly as without a
draft."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.courses.models import Course, CourseDraft, DraftStatus
from rems.courses.settling import open_course
from rems.notifications.services import notify
from rems.patients.models import Patient, PatientStatus
from rems.patients.queries import visible_prescriber_ids
from rems.prescribers.delegates import active_link
from rems.prescribers.models import Prescriber

WAITING_SUBJECT = "A course authorization waits for your signature: patient {patient_id}"
WAITING_BODY = (
    "{preparer} prepared the Patient Authorization and Baseline Lab Form of patient {patient_id} "
    "for course {number}. Review it and sign it, or discard it with a reason."
)


@dataclass(frozen=True, slots=True)
class WaitingDraft:
    """An open draft as a dashboard lists it."""

    draft: CourseDraft
    patient: Patient
    preparer: User


def open_draft(session: Session, patient: Patient) -> CourseDraft | None:
    """The patient's open draft, if any."""
    return session.scalar(
        sa.select(CourseDraft).where(
            CourseDraft.patient_id == patient.id, CourseDraft.status == DraftStatus.OPEN
        )
    )


def draft_token(draft: CourseDraft | None) -> str:
    """What a page carries to say which version of the draft it showed ('' for none)."""
    return f"{draft.id}:{draft.version}" if draft is not None else ""


def draft_dates(draft: CourseDraft) -> dict[str, date]:
    """The draft's baseline dates as dates."""
    return {code: date.fromisoformat(day) for code, day in (draft.baseline or {}).items()}


def save_draft(
    session: Session,
    patient: Patient,
    actor: User,
    *,
    planned_start: date | None,
    baseline: Mapping[str, date],
    number: int,
) -> CourseDraft:
    """A delegate of the patient's prescriber saves the form as the patient's open draft (a new
    one, or the open one updated); the prescriber is told once per draft."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    if actor.role != Role.DELEGATE or active_link(session, prescriber, actor) is None:
        raise StateConflict("Only a delegate of the patient's prescriber prepares a draft.")
    if problem := preparable_problem(session, patient):
        raise StateConflict(problem)
    if planned_start is None:
        raise ValidationFailed.single(
            "planned_start", "Enter the planned first infusion date (YYYY-MM-DD)."
        )
    values = {"planned_start": planned_start, "baseline": _iso(baseline)}
    now, draft = utcnow(), open_draft(session, patient)
    if draft is None:
        draft = CourseDraft(
            patient_id=patient.id, prescriber_id=prescriber.id, status=DraftStatus.OPEN,
            version=1, prepared_by_id=actor.id, created_at=now, updated_by_id=actor.id,
            updated_at=now, **values,
        )  # fmt: skip
        session.add(draft)
        session.flush()
        record_event(session, "course_draft.prepared", actor=actor, entity=draft,
                     new={"patient": patient.rems_id, "course": number, **values})  # fmt: skip
        _tell_prescriber(session, draft, patient, prescriber, actor, number)
        return draft
    old = {"planned_start": draft.planned_start, "baseline": dict(draft.baseline or {})}
    draft.planned_start, draft.baseline = values["planned_start"], values["baseline"]
    draft.version += 1
    draft.updated_by_id, draft.updated_at = actor.id, now
    record_event(session, "course_draft.updated", actor=actor, entity=draft, old=old,
                 new={"patient": patient.rems_id, "course": number, **values})  # fmt: skip
    return draft


def discard_draft(session: Session, draft: CourseDraft, actor: User, *, reason: str) -> None:
    """The prescriber of record or one of their delegates discards the open draft, with why."""
    if draft.status != DraftStatus.OPEN:
        raise StateConflict(f"The draft is already {draft.status.value}.")
    if not (reason or "").strip():
        raise ValidationFailed.single("reason", "Give the reason for discarding the draft.")
    _close(draft, actor, DraftStatus.DISCARDED)
    draft.discard_reason = reason.strip()
    record_event(session, "course_draft.discarded", actor=actor, entity=draft,
                 old={"status": "open"}, new={"status": "discarded"},
                 reason=reason.strip())  # fmt: skip


def mark_signed(session: Session, draft: CourseDraft, signer: User, course: Course) -> None:
    """The prescriber authorized `course` from the draft: the draft is done."""
    _close(draft, signer, DraftStatus.SIGNED)
    draft.course_id = course.id
    record_event(session, "course_draft.signed", actor=signer, entity=draft,
                 old={"status": "open"}, new={"status": "signed", "course": course.number,
                                              "course_id": course.id})  # fmt: skip


def waiting_drafts(session: Session, user: User) -> list[WaitingDraft]:
    """Open drafts of the patients the user's team looks after, oldest first (a prescriber's
    own patients, a delegate's prescribers' patients)."""
    allowed = visible_prescriber_ids(user)
    statement = (
        sa.select(CourseDraft, Patient, User)
        .join(Patient, Patient.id == CourseDraft.patient_id)
        .join(User, User.id == CourseDraft.prepared_by_id)
        .where(CourseDraft.status == DraftStatus.OPEN)
        .order_by(CourseDraft.created_at, CourseDraft.id)
    )
    if allowed is not None:
        statement = statement.where(Patient.prescriber_id.in_(allowed))
    return [WaitingDraft(d, p, u) for d, p, u in session.execute(statement)]


def preparable_problem(session: Session, patient: Patient) -> str | None:
    """Why no course can be prepared for the patient now (None: it can): only for an enrolled
    patient with no course open."""
    if patient.status != PatientStatus.ENROLLED:
        status = patient.status.value
        return f"The patient is {status}: only an enrolled patient's course is prepared."
    if open_course(session, patient) is not None:
        return "A course is open: the prescriber closes it before another is prepared."
    return None


def _close(draft: CourseDraft, actor: User, status: DraftStatus) -> None:
    draft.status = status
    draft.closed_by_id, draft.closed_at = actor.id, utcnow()


def _iso(baseline: Mapping[str, date]) -> dict[str, str]:
    return {code: day.isoformat() for code, day in sorted(baseline.items())}


def _tell_prescriber(session, draft, patient, prescriber, preparer, number) -> None:
    """The prescriber must act: one message per draft (REMS ID only, as in every message)."""
    recipient = session.get(User, prescriber.user_id)
    notify(
        session, recipient, kind="course_draft.waiting",
        subject=WAITING_SUBJECT.format(patient_id=patient.rems_id),
        body=WAITING_BODY.format(preparer=preparer.full_name, patient_id=patient.rems_id,
                                 number=number),
        key=f"course_draft:{draft.id}", link=f"/patients/{patient.rems_id}/courses/new",
    )  # fmt: skip
