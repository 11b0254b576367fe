"""The patient's timeline: one chronological history of everything recorded about the patient,
each entry with the day it happened, what, and who recorded it.

Each kind of record is one small source function (session, patient) → entries; `SOURCES`
lists them, and `patient_timeline` merges and sorts. A new kind of record (lab alerts, say) is
one more function and one more line in `SOURCES`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.adverse_events.models import AdverseEventFollowUp
from rems.alerts.models import LabAlert
from rems.audit.models import StatusChange
from rems.auth.models import User
from rems.authorizations.models import AuthorizationDecision
from rems.common.localtime import program_zone
from rems.courses.models import Course
from rems.documents.models import Acknowledgment, Document, DocumentVersion
from rems.infusions.models import Infusion, InfusionDeviation
from rems.monitoring.followup_models import MonitoringExtension, PatientStatusReport
from rems.monitoring.models import AdverseEvent, LabResult, MonitoringWaiver, ResultAmendment
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose
from rems.reports.labels import label as named


@dataclass(frozen=True, slots=True)
class Entry:
    """One thing that happened: its day, when it was recorded, what, and by whom."""

    day: date
    kind: str
    summary: str
    #: When it was recorded (None: known only by its day), and the account that recorded it.
    at: datetime | None = None
    by_id: int | None = None
    detail: str | None = None


Source = Callable[[Session, Patient], Iterable[Entry]]


def _day(moment: datetime) -> date:
    """A moment's day in the program's time zone."""
    return moment.astimezone(program_zone()).date()


def enrollment(session: Session, patient: Patient) -> Iterable[Entry]:
    """The record's status changes: prepared, enrolled, discontinued, closed."""
    rows = session.scalars(sa.select(StatusChange).where(
        StatusChange.entity_type == "patient", StatusChange.entity_id == patient.id,
    ).order_by(StatusChange.id))  # fmt: skip
    for c in rows:
        yield Entry(_day(c.changed_at), "enrollment", f"Record {c.to_status.replace('_', ' ')}",
                    c.changed_at, c.changed_by_id, c.reason)  # fmt: skip


def acknowledgments(session: Session, patient: Patient) -> Iterable[Entry]:
    """The documents the patient acknowledged, and how."""
    rows = session.execute(
        sa.select(Acknowledgment, Document.title, DocumentVersion.label)
        .join(DocumentVersion, DocumentVersion.id == Acknowledgment.document_version_id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Acknowledgment.patient_id == patient.id)
    )
    for ack, title, label in rows:
        yield Entry(_day(ack.acknowledged_at), "acknowledgment",
                    f"Acknowledged {title} ({label}), {ack.method.value.replace('_', ' ')}",
                    ack.acknowledged_at, ack.witness_id)  # fmt: skip


def courses(session: Session, patient: Patient) -> Iterable[Entry]:
    """Each course authorized (and closed)."""
    for c in session.scalars(sa.select(Course).where(Course.patient_id == patient.id)):
        yield Entry(_day(c.authorized_at), "course", f"Course {c.number} authorized",
                    c.authorized_at, c.prepared_by_id)  # fmt: skip
        if c.closed_at is not None:
            yield Entry(_day(c.closed_at), "course", f"Course {c.number} closed", c.closed_at,
                        None, c.closed_reason)  # fmt: skip


def decisions(session: Session, patient: Patient) -> Iterable[Entry]:
    """The gate's dispensing decisions for the patient."""
    rows = session.scalars(
        sa.select(AuthorizationDecision).where(AuthorizationDecision.patient_id == patient.id)
    )
    for d in rows:
        reasons = "; ".join(str(r.get("message", r.get("code", ""))) for r in d.reasons or [])
        yield Entry(_day(d.decided_at), "decision", f"Dispensing {d.outcome} ({d.decision_id})",
                    d.decided_at, d.requested_by_id, reasons or None)  # fmt: skip


def doses(session: Session, patient: Patient) -> Iterable[Entry]:
    """Each dose given here, and each prior (historical) dose."""
    for i in session.scalars(sa.select(Infusion).where(Infusion.patient_id == patient.id)):
        yield Entry(i.administered_on, "dose", f"Dose {i.dose_number} given", i.recorded_at,
                    i.recorded_by_id)  # fmt: skip
    for p in session.scalars(sa.select(PriorDose).where(PriorDose.patient_id == patient.id)):
        yield Entry(p.given_on, "dose", f"Prior dose {p.dose_number} (historical)",
                    p.recorded_at, p.recorded_by_id)  # fmt: skip


def deviations(session: Session, patient: Patient) -> Iterable[Entry]:
    """Protocol deviations recorded with a dose."""
    rows = session.execute(
        sa.select(InfusionDeviation, Infusion)
        .join(Infusion, Infusion.id == InfusionDeviation.infusion_id)
        .where(Infusion.patient_id == patient.id)
    )
    for deviation, infusion in rows:
        yield Entry(infusion.administered_on, "deviation",
                    f"Deviation ({deviation.severity}): {named('deviation', deviation.code)}",
                    infusion.recorded_at, infusion.recorded_by_id,
                    deviation.acknowledged_reason)  # fmt: skip


def results(session: Session, patient: Patient) -> Iterable[Entry]:
    """Monitoring results, on their collection day."""
    for r in session.scalars(sa.select(LabResult).where(LabResult.patient_id == patient.id)):
        value = f": {r.value}{' ' + r.unit if r.unit else ''}" if r.value else ""
        name = named("test", r.test_code)
        yield Entry(r.collected_on, "result", f"Result {name}{value} ({r.source})",
                    r.entered_at, r.entered_by_id)  # fmt: skip


def amendments(session: Session, patient: Patient) -> Iterable[Entry]:
    """Amendments of results: what changed, why, by whom."""
    rows = session.execute(
        sa.select(ResultAmendment, LabResult.test_code)
        .join(LabResult, LabResult.id == ResultAmendment.result_id)
        .where(LabResult.patient_id == patient.id)
    )
    for a, code in rows:
        changed = ", ".join(f"{k}: {a.old_values.get(k)} → {v}" for k, v in a.new_values.items()
                            if a.old_values.get(k) != v)  # fmt: skip
        name = named("test", code)
        yield Entry(_day(a.amended_at), "amendment", f"Result {name} amended ({changed})",
                    a.amended_at, a.amended_by_id, a.reason)  # fmt: skip


def waivers(session: Session, patient: Patient) -> Iterable[Entry]:
    """Monitoring items waived by an administrator."""
    rows = session.scalars(
        sa.select(MonitoringWaiver).where(MonitoringWaiver.patient_id == patient.id)
    )
    for w in rows:
        name = named("test", w.test_code)
        yield Entry(_day(w.waived_at), "waiver", f"Waived {name} due {w.due_on}",
                    w.waived_at, w.waived_by_id, w.reason)  # fmt: skip


def extensions(session: Session, patient: Patient) -> Iterable[Entry]:
    """Monitoring extended by the prescriber."""
    rows = session.scalars(
        sa.select(MonitoringExtension).where(MonitoringExtension.patient_id == patient.id)
    )
    for e in rows:
        yield Entry(_day(e.extended_at), "extension",
                    f"Monitoring extended from {e.previous_ends_on} to {e.ends_on}",
                    e.extended_at, e.extended_by_id, e.reason)  # fmt: skip


def statuses(session: Session, patient: Patient) -> Iterable[Entry]:
    """Periodic statuses: signed by the prescriber, or prepared and waiting."""
    rows = session.scalars(
        sa.select(PatientStatusReport).where(PatientStatusReport.patient_id == patient.id)
    )
    for s in rows:
        if s.signed_at is not None:
            yield Entry(_day(s.signed_at), "status", f"Periodic status {s.period} signed",
                        s.signed_at, s.signed_by_id, s.note)  # fmt: skip
        else:
            yield Entry(_day(s.prepared_at), "status",
                        f"Periodic status {s.period} prepared (awaiting signature)",
                        s.prepared_at, s.prepared_by_id, s.note)  # fmt: skip


def adverse_events(session: Session, patient: Patient) -> Iterable[Entry]:
    """Adverse events, on their onset day."""
    rows = session.scalars(sa.select(AdverseEvent).where(AdverseEvent.patient_id == patient.id))
    for e in rows:
        serious = "serious " if e.serious else ""
        yield Entry(e.onset_on, "adverse_event",
                    f"Adverse event ({serious}{named('adverse_event', e.category)})",
                    e.reported_at, e.reported_by_id, e.description)  # fmt: skip


def adverse_event_follow_ups(session: Session, patient: Patient) -> Iterable[Entry]:
    """Follow-up information on the patient's adverse events, on the day it was received."""
    rows = session.scalars(
        sa.select(AdverseEventFollowUp)
        .join(AdverseEvent, AdverseEvent.id == AdverseEventFollowUp.event_id)
        .where(AdverseEvent.patient_id == patient.id)
    )
    for f in rows:
        outcome = f" (outcome: {named('outcome', f.outcome)})" if f.outcome else ""
        yield Entry(f.received_on, "adverse_event", f"Adverse event follow-up{outcome}",
                    f.recorded_at, f.recorded_by_id, f.note)  # fmt: skip


def alerts(session: Session, patient: Patient) -> Iterable[Entry]:
    """Abnormal-result alerts: raised with the result, then acknowledged with the action taken."""
    for a in session.scalars(sa.select(LabAlert).where(LabAlert.patient_id == patient.id)):
        yield Entry(_day(a.raised_at), "alert", f"Alert raised: {a.label} ({a.value:g} {a.unit})",
                    a.raised_at, None, a.compared_with)  # fmt: skip
        if a.acknowledged_at is not None:
            yield Entry(_day(a.acknowledged_at), "alert", f"Alert acknowledged: {a.label}",
                        a.acknowledged_at, a.acknowledged_by_id, a.action_note)  # fmt: skip


#: Every kind of record on the timeline. A new kind: one function above, one line here.
SOURCES: list[Source] = [
    enrollment, acknowledgments, courses, decisions, doses, deviations, results, amendments,
    waivers, extensions, statuses, adverse_events, adverse_event_follow_ups, alerts,
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Shown:
    """An entry as the page shows it, with the name of who recorded it."""

    entry: Entry
    by: str | None


def patient_timeline(session: Session, patient: Patient) -> list[Shown]:
    """Every source's entries, oldest first: by day, then by when recorded; what was recorded
    at the same moment keeps the order of SOURCES (enrollment before acknowledgments, …)."""
    entries = [entry for source in SOURCES for entry in source(session, patient)]
    entries.sort(key=lambda e: (e.day, e.at is None, e.at or datetime.min))
    ids = {e.by_id for e in entries if e.by_id is not None}
    names = dict(session.execute(sa.select(User.id, User.full_name).where(User.id.in_(ids))).all())
    return [Shown(e, names.get(e.by_id)) for e in entries]
