"""The assessment's monitoring counts by `count_items` (each distinct schedule's due dates
computed once, as `tally` does for the rebuild) are those of the schedule's items
(`rules.resolve`, each placed on the period's last day), on many generated patients and
periods: results on and around window edges, waivers, both kinds of closing, extensions."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from rems.audit.models import StatusChange
from rems.auth.models import Signature
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring import rules
from rems.monitoring.asof import facts_as_of_for
from rems.monitoring.followup_models import MonitoringExtension
from rems.monitoring.models import LabResult, MonitoringStatus, MonitoringWaiver
from rems.monitoring.services import refresh_patients
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose
from rems.reports.assessment_monitoring import (
    _count_items,
    _count_stored,
    _rated,
    _zero_items,
    count_items,
    monitoring,
    months_of,
)
from rems.reports.sqlfn import start_of
from tests.monitoring.helpers import treated_patient
from tests.monitoring.test_tally import _facts

PATIENTS = 400


def _buckets():
    return defaultdict(_zero_items), defaultdict(_zero_items)


def _counts(count, facts, date_from, date_to):
    by_test, by_month = defaultdict(_zero_items), defaultdict(_zero_items)
    count(facts, date_from, date_to, by_test, by_month)
    return dict(by_test), dict(by_month)


def _by_items(facts, date_from, date_to, by_test, by_month):
    _count_items(rules.resolve(facts), date_from, date_to, by_test, by_month)


def test_counts_match_the_schedules_items_on_generated_patients():
    rng = random.Random(24)
    seen = defaultdict(int)
    for _ in range(PATIENTS):
        facts = _facts(rng)
        for _ in range(3):
            date_from = date(2024, 1, 1) + timedelta(days=rng.randrange(1800))
            date_to = date_from + timedelta(days=rng.choice((0, 30, 90, 364, 700)))
            expected = _counts(_by_items, facts, date_from, date_to)
            assert _counts(count_items, facts, date_from, date_to) == expected
            for bucket in expected[0].values():
                for state, number in bucket.items():
                    seen[state] += number
    # the generated patients reach every state the assessment counts
    assert all(seen[state] > 50 for state in ("satisfied", "waived", "overdue", "pending"))


def test_a_patient_without_doses_counts_nothing():
    facts = rules.ScheduleFacts(tests=_facts(random.Random(1)).tests, months_after_last_dose=6)
    assert _counts(count_items, facts, date(2024, 1, 1), date(2024, 12, 31)) == ({}, {})


# The assessment as it runs: the patients whose stored item states are their states at the
# period's end counted in SQL, the others from their facts as of then; against the reference,
# `_count_items` of `rules.resolve` of every patient's facts as of the end.

STORED_PATIENTS = 60
#: What happened by this day is on file, recorded by a few days later at most.
LAST = date(2026, 11, 30)
PERIODS = (
    (date(2025, 12, 1), date(2026, 11, 30)), (date(2025, 1, 1), date(2025, 12, 31)),
    (date(2026, 3, 1), date(2026, 3, 31)), (date(2024, 6, 1), date(2026, 12, 31)),
    (date(2024, 1, 1), date(2024, 12, 31)),
)  # fmt: skip


def _at(day: date, days_later: int = 0) -> datetime:
    day = min(day + timedelta(days=days_later), LAST + timedelta(days=5))
    return datetime.combine(day, time(10), UTC)


def _on_file(facts: rules.ScheduleFacts) -> rules.ScheduleFacts:
    """The generated facts of days up to LAST."""
    return replace(
        facts, doses=tuple(d for d in facts.doses if d <= LAST),
        results=tuple(r for r in facts.results if r.collected_on <= LAST),
        waivers=tuple(w for w in facts.waivers if w.due_on <= LAST),
        closed_on=facts.closed_on if facts.closed_on and facts.closed_on <= LAST else None,
    )  # fmt: skip


#: What each patient has recorded late (long after it happened, so after some period's end);
#: everything else is recorded the day it happens.
LATE = (None, "result", "dose", "waiver", "closing", "unrecorded closing", "extension", "course",
        "course after the end")  # fmt: skip
#: A later course's infusions (kinds "course…"): given from this day, recorded months later.
COURSE_ON = date(2026, 2, 1)


def _late_facts(facts: rules.ScheduleFacts, late: str | None, rng) -> rules.ScheduleFacts:
    """The facts, with at least one of the kind recorded late."""
    first = facts.doses[0]
    if late == "waiver" and not facts.waivers:
        test = rng.choice(facts.tests)
        due = rules.add_months(first, rng.randrange(1, 8) * test.every_months)
        facts = replace(facts, waivers=(rules.WaiverFact(test.code, min(due, LAST)),))
    if late in ("closing", "unrecorded closing") and facts.closed_on is None:
        facts = replace(facts, closed_on=min(first + timedelta(days=rng.randrange(30, 700)), LAST))
    if late == "dose":  # given in the autumn of 2025, recorded in 2026
        given = date(2025, 9, 1) + timedelta(days=rng.randrange(60))
        facts = replace(facts, doses=tuple(given + timedelta(days=n) for n in range(5)))
    if late in ("extension", "course after the end"):
        # the 48 months over before 2025, then extended in 2026 or given a course (infusions)
        old = date(2019, 12, 2) + timedelta(days=rng.randrange(60))
        doses = tuple(old + timedelta(days=n) for n in range(5))
        results = tuple(r for r in facts.results if r.collected_on.year < 2025)
        facts = replace(facts, doses=doses, results=results, closed_on=None,
                        extended_to=date(2026, 6, 30) if late == "extension" else None)  # fmt: skip
    return facts


def _later_course(session, template_id: int, patient_id: int, course_id: int) -> None:
    """A course given by infusions from COURSE_ON (kinds "course…"), recorded 125 days later:
    after some periods' ends, given after some of them and before others. The template's
    infusion copied (its authorization and site)."""
    infusion = db.metadata.tables["infusion"]
    first = sa.select(infusion).where(infusion.c.patient_id == template_id).order_by(infusion.c.id)
    template = session.execute(first).first()._asdict()
    for n in range(3):
        given = COURSE_ON + timedelta(days=n)
        session.execute(sa.insert(infusion).values(
            {k: v for k, v in template.items() if k != "id"} | {
                "patient_id": patient_id, "course_id": course_id, "dose_number": n + 1,
                "administered_on": given, "recorded_at": _at(given, 125)})
        )  # fmt: skip


def _stored_world(session, template_id: int, user_id: int, rng: random.Random) -> list[int]:
    """Patients copied from the template (patient and course rows), with the generated facts of
    `_facts` (prior doses, results, waivers, a closing with its status change or none, an
    extension), some patients' facts of one kind recorded late (LATE). Their stored state
    refreshed as every service does; one patient's item states then NULL (stored before
    0030); the template's stored state removed (dosed by infusions, no stored state)."""
    tables = db.metadata.tables
    patient = session.execute(sa.select(tables["patient"]).where(
        tables["patient"].c.id == template_id)).one()._asdict()  # fmt: skip
    course = session.execute(sa.select(tables["course"]).where(
        tables["course"].c.patient_id == template_id)).first()._asdict()  # fmt: skip
    program = current_app.extensions["rems_program"]
    keeps, other = program.monitoring_states.close_keeps_overdue, program.patient.close_reasons
    signature = Signature(signer_id=user_id, printed_name="A", meaning="m", signed_at=_at(
        date(2024, 1, 1)), content_sha256="0" * 64, content="{}")  # fmt: skip
    session.add(signature)
    session.flush()
    ids = []
    for n in range(STORED_PATIENTS):
        kind = LATE[n % len(LATE)]
        facts = _late_facts(_on_file(_facts(rng)), kind, rng)
        delay = lambda fact, kind=kind: rng.choice((125, 250)) if fact == kind else 0  # noqa: E731
        reason = None
        if facts.closed_on is not None:
            kept = [r for r in other if (r in keeps) == facts.closed_keeps_overdue]
            reason = rng.choice(kept)
        pid = session.execute(sa.insert(tables["patient"]).values(
            {k: v for k, v in patient.items() if k != "id"} | {
                "rems_id": f"PT{n:08d}", "last_name": f"Stored{n}", "closed_on": facts.closed_on,
                "close_reason": reason, "status": "closed" if reason else patient["status"]})
        ).inserted_primary_key[0]  # fmt: skip
        course_id = session.execute(sa.insert(tables["course"]).values(
            {k: v for k, v in course.items() if k != "id"} | {"patient_id": pid})
        ).inserted_primary_key[0]  # fmt: skip
        session.add_all(
            [PriorDose(course_id=course_id, patient_id=pid, dose_number=k, given_on=day,
                       source_document="chart", recorded_at=_at(day, delay("dose")),
                       recorded_by_id=user_id) for k, day in enumerate(facts.doses, start=1)]
            + [LabResult(patient_id=pid, test_code=r.test_code, collected_on=r.collected_on,
                         value=str(r.id), source="csv", entered_by_id=user_id,
                         entered_at=_at(r.collected_on, delay("result"))) for r in facts.results]
            + [MonitoringWaiver(patient_id=pid, test_code=w.test_code, due_on=w.due_on,
                                reason="r", waived_at=_at(w.due_on, delay("waiver")),
                                waived_by_id=user_id, signature_id=signature.id)
               for w in set(facts.waivers)]
        )  # fmt: skip
        if reason and kind != "unrecorded closing":
            closing = _at(facts.closed_on, delay("closing"))
            session.add(StatusChange(entity_type="patient", entity_id=pid, to_status="closed",
                                     changed_at=closing))  # fmt: skip
        if kind in ("course", "course after the end"):
            _later_course(session, template_id, pid, course_id)
        if facts.extended_to:
            extended = date(2026, 3, 1) if kind == "extension" else facts.doses[0]
            session.add(MonitoringExtension(
                patient_id=pid, ends_on=facts.extended_to, previous_ends_on=facts.extended_to,
                reason="r", extended_at=_at(extended), extended_by_id=user_id,
            ))  # fmt: skip
        ids.append(pid)
    session.flush()
    refresh_patients(session, ids, today=date(2026, 1, 1))
    session.execute(sa.update(MonitoringStatus).where(MonitoringStatus.patient_id == ids[0])
                    .values(item_states=None))  # fmt: skip
    session.execute(sa.delete(MonitoringStatus).where(MonitoringStatus.patient_id == template_id))
    return ids


def _reference(session, date_from: date, date_to: date) -> dict:
    """`_count_items` of `rules.resolve` of every patient's facts as of the period's end."""
    moment = start_of(date_to + timedelta(days=1))
    patients = session.execute(sa.select(Patient.id, Patient.closed_on, Patient.close_reason)
                               .order_by(Patient.id)).all()  # fmt: skip
    by_test, by_month = defaultdict(_zero_items), defaultdict(_zero_items)
    for facts in facts_as_of_for(session, patients, moment).values():
        _by_items(facts, date_from, date_to, by_test, by_month)
    return dict(by_test), {m: by_month[m] for m in months_of(date_from, date_to)}


def test_stored_and_as_of_counts_together_are_the_schedules_items(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    with app.app_context(), writing():
        ids = _stored_world(db.session, treated.world.patient.id, treated.world.admin.id,
                            random.Random(7))  # fmt: skip
        db.session.commit()
    with app.app_context():
        session, left_to_facts, dosed_seen, fewest = db.session, set(), False, len(ids)
        for date_from, date_to in PERIODS:
            found = monitoring(session, date_from, date_to)
            by_test, by_month = _reference(session, date_from, date_to)
            assert {row.pop("test"): row for row in found["by_test"]} == {
                code: _rated(bucket) for code, bucket in by_test.items()}  # fmt: skip
            assert found["by_month"] == [{"month": m, **_rated(b)} for m, b in by_month.items()]
            moment = start_of(date_to + timedelta(days=1))
            slow = _count_stored(session, date_from, date_to, moment, *_buckets())
            left_to_facts |= set(slow)
            assert ids[0] in slow  # its item states not computed yet
            # dosed by the period's end (infusions, no stored state): counted from its facts
            dosed = date_to >= treated.doses[-1]
            assert (treated.world.patient.id in slow) == dosed
            dosed_seen |= dosed
            fewest = min(fewest, len(slow))
        # what was recorded after a period's end, each seen by at least one period
        ends = [start_of(date_to + timedelta(days=1)) for _, date_to in PERIODS]
        assert all(
            session.scalar(
                sa.select(sa.func.count()).where(column >= min(ends)).where(column < max(ends))
            )
            for column in (
                LabResult.entered_at,
                PriorDose.recorded_at,
                MonitoringWaiver.waived_at,
                StatusChange.changed_at,
                MonitoringExtension.extended_at,
            )
        )
        assert len(left_to_facts) > 5 and dosed_seen
        assert fewest < len(ids) / 2  # most counted from the stored states
