"""A patient's monitoring as of a past moment: the schedule computed by the same pure rules
from only what had been recorded by then (every dose: infusions here and prior treatment;
results, waivers, closing), on that moment's day in the program's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.common.programday import day_of
from rems.monitoring import rules
from rems.monitoring.followup_models import MonitoringExtension
from rems.monitoring.models import LabResult, MonitoringWaiver
from rems.monitoring.queries import dose_dates_for, schedule_facts
from rems.patients.models import Patient


def facts_as_of(session: Session, patient: Patient, moment: datetime) -> rules.ScheduleFacts:
    """The schedule's facts as they stood at `moment`."""
    facts = schedule_facts(session, patient)
    doses = dose_dates_for(session, [patient.id], recorded_by=moment)[patient.id]
    known = set(
        session.scalars(
            sa.select(LabResult.id).where(
                LabResult.patient_id == patient.id, LabResult.entered_at <= moment
            )
        )
    )
    waived = {
        tuple(row)
        for row in session.execute(
            sa.select(MonitoringWaiver.test_code, MonitoringWaiver.due_on).where(
                MonitoringWaiver.patient_id == patient.id, MonitoringWaiver.waived_at <= moment
            )
        )
    }
    return replace(
        facts,
        doses=tuple(doses),
        results=tuple(r for r in facts.results if r.id in known),
        waivers=tuple(w for w in facts.waivers if (w.test_code, w.due_on) in waived),
        closed_on=facts.closed_on if _closed_by(session, patient, moment) else None,
        extended_to=_extended_by(session, patient, moment),
    )


def _extended_by(session: Session, patient: Patient, moment: datetime):
    """The latest end an extension recorded by `moment` had set (None: none)."""
    return session.scalar(
        sa.select(sa.func.max(MonitoringExtension.ends_on)).where(
            MonitoringExtension.patient_id == patient.id, MonitoringExtension.extended_at <= moment
        )
    )


def _closed_by(session: Session, patient: Patient, moment: datetime) -> bool:
    """Whether the patient's record had been closed by `moment`."""
    closing = sa.select(StatusChange.id).where(
        StatusChange.entity_type == "patient",
        StatusChange.entity_id == patient.id,
        StatusChange.to_status == "closed",
        StatusChange.changed_at <= moment,
    )
    return session.scalar(closing.limit(1)) is not None


def summary_as_of(session: Session, patient: Patient, moment: datetime) -> dict:
    """The lookup's monitoring summary at `moment`, in the same shape as today's."""
    facts = facts_as_of(session, patient, moment)
    items = rules.schedule(facts, day_of(moment))
    unresolved = [i for i in items if i.state not in rules.RESOLVED]
    overdue = [i for i in unresolved if i.state == rules.ItemState.OVERDUE]
    ends_on = rules.facts_end(facts)
    return {
        "compliant": not overdue,
        "monitoring_ends_on": ends_on.isoformat() if ends_on else None,
        "items_due": sum(1 for i in unresolved if i.state == rules.ItemState.DUE),
        "items_overdue": len(overdue),
        "overdue_items": [
            {"test": i.test_code, "item": i.k, "due_on": i.due_on.isoformat(),
             "overdue_since": (i.window_end + timedelta(days=1)).isoformat()}
            for i in sorted(overdue, key=lambda i: (i.window_end, i.test_code))
        ],
    }  # fmt: skip
