"""A patient's monitoring as of a past moment: the schedule computed by the same pure rules
from only what had been recorded by then (every dose: infusions here and prior treatment;
results, waivers, closing), on that moment's day in the program's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.common.programday import day_of
from rems.monitoring import rules
from rems.monitoring.queries import IdRange, of_patients, schedule_facts_for
from rems.patients.models import Patient


def facts_as_of(session: Session, patient: Patient, moment: datetime) -> rules.ScheduleFacts:
    """The schedule's facts as they stood at `moment`."""
    return facts_as_of_for(session, [patient], moment)[patient.id]


def facts_as_of_for(
    session: Session, patients: list[Patient], moment: datetime
) -> dict[int, rules.ScheduleFacts]:
    """`facts_as_of` of several patients, by patient id, in a fixed number of queries. The
    patients in id order and close together are read as a range of ids (`IdRange`), not a
    parameter per id; scattered ones (the assessment's slow path) by their ids."""
    ids = [patient.id for patient in patients]
    if ids and ids[-1] - ids[0] < 4 * len(ids) and all(a < b for a, b in pairwise(ids)):
        ids = IdRange(ids)
    facts = schedule_facts_for(session, patients, ids, recorded_by=moment)
    closed = _closed_by(session, ids, moment)
    return {
        pid: replace(facts[pid], closed_on=facts[pid].closed_on if pid in closed else None)
        for pid in ids
    }


def _closed_by(session: Session, ids: list[int], moment: datetime) -> set[int]:
    """The patients whose record had been closed by `moment`."""
    closing = sa.select(StatusChange.entity_id).where(
        StatusChange.entity_type == "patient",
        of_patients(StatusChange.entity_id, ids),
        StatusChange.to_status == "closed",
        StatusChange.changed_at <= moment,
    )
    return set(session.scalars(closing.distinct()))


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
