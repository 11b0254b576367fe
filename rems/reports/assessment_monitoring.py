"""The assessment's monitoring compliance: the items due in the period, in their state as the
records stood at its end, per test and per month they fell due. Most patients are counted from
their stored item states (`monitoring_status.item_states`) in one statement; those whose records
changed since the period's end in ways that bear on its items are worked out from their facts as
of then, by the schedule's rules (`count_items`, checked against `_count_items`)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.infusions.models import Infusion
from rems.monitoring import rules, tally
from rems.monitoring.asof import facts_as_of_for
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.queries import of_patients
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose
from rems.reports.assessment_changes import changed_for_every_test, late_results
from rems.reports.assessment_period import months_of, share
from rems.reports.sqlfn import start_of


def _program():
    """The program file."""
    return current_app.extensions["rems_program"]


#: Patients whose monitoring is worked out together (their facts read in a few queries).
PATIENTS_AT_ONCE = 1000


def monitoring(session: Session, date_from: date, date_to: date) -> dict[str, Any]:
    """The monitoring items due in the period, as the records stood at its end: satisfied,
    waived, overdue, still within their grace days, per test and per month they fell due.
    Compliance = (satisfied + waived) ÷ (satisfied + waived + overdue).

    Two paths, one answer (tests/reports/test_assessment_tally.py compares them with the
    schedule's items). Fast: a patient none of whose schedule's facts was recorded at or after
    the period's end (`assessment_changes`) has as item states then the states stored now
    (`monitoring_status.item_states`), counted in SQL (`_count_stored`); so do the other tests
    of a patient whose only such facts are results of some tests (`late_results`). Slow: every
    other patient (changed since, item states not computed yet, dosed but without a stored
    state), or those tests, has its facts as of the end read and its items counted in Python
    (`count_items`)."""
    moment = start_of(date_to + timedelta(days=1))
    by_test: dict[str, dict[str, int]] = defaultdict(_zero_items)
    by_month: dict[str, dict[str, int]] = defaultdict(_zero_items)
    slow = _count_stored(session, date_from, date_to, moment, by_test, by_month)
    ordered = sorted(slow)
    for start in range(0, len(ordered), PATIENTS_AT_ONCE):
        ids = ordered[start : start + PATIENTS_AT_ONCE]
        # Only what the schedule's facts read of a patient, as rows: no ORM object per patient.
        chunk = session.execute(
            sa.select(Patient.id, Patient.closed_on, Patient.close_reason)
            .where(of_patients(Patient.id, ids)).order_by(Patient.id)
        ).all()  # fmt: skip
        for patient_id, facts in facts_as_of_for(session, chunk, moment).items():
            count_items(facts, date_from, date_to, by_test, by_month, slow[patient_id])
    tests = [{"test": code, **_rated(by_test[code])} for code in sorted(by_test)]
    months = [{"month": m, **_rated(by_month[m])} for m in months_of(date_from, date_to)]
    return {"by_test": tests, "by_month": months, "total": _rated(_sum(by_test.values()))}


#: The distinct schedules (test, first dose) with items due in the period (`_count_stored`):
#: the first such item's number and how many (to the period's end). A temporary table, filled
#: and dropped by each count (not in the app's metadata: no migration, no real table).
_SCHEDULES = sa.Table(
    "rems_assessment_schedules", sa.MetaData(),
    sa.Column("test_code", sa.String(40)), sa.Column("anchor_on", sa.Date),
    sa.Column("k", sa.Integer), sa.Column("n", sa.Integer),
    prefixes=["TEMPORARY"],
)  # fmt: skip
_LABELS = {tally.STATE_LETTERS[tally.SATISFIED]: "satisfied",
           tally.STATE_LETTERS[tally.WAIVED]: "waived"}  # fmt: skip


def _count_stored(
    session: Session, date_from: date, date_to: date, moment: datetime,
    by_test: dict, by_month: dict,
) -> dict[int, frozenset[str] | None]:  # fmt: skip
    """Count the items due in the period of the patients whose stored item states are their
    states at `moment`; the patients left to the slow path, each with the tests left (None:
    every test). One statement
    reads both (so no patient is counted twice or missed when a write comes in between): the
    letters of each stored row's items in the period (`substr` of item_states from the
    schedule's first item in it), grouped, so patients whose letters are the same are one row;
    their due days come from the schedule (`tally.due_days`), computed once per schedule. A
    patient's items end at its own ends_on: item_states has a letter for those only, so the
    substring stops there."""
    tests = {test.code: test for test in rules.monitored_tests(_program())}
    first, last = date_from.toordinal(), date_to.toordinal()
    found = session.execute(
        sa.select(MonitoringStatus.test_code, MonitoringStatus.anchor_on).distinct()
        .where(MonitoringStatus.anchor_on <= date_to, MonitoringStatus.ends_on >= date_from)
    ).all()  # fmt: skip
    due: dict[tuple[str, date], tuple[int, ...]] = {}
    for code, anchor in found:
        if (test := tests.get(code)) is None:
            continue  # not a monitored test of the program: the slow path does not count it
        days = tally.due_days(test, anchor, date_to)  # up to the period's end
        low, high = bisect_left(days, first), bisect_right(days, last)
        if low < high:
            due[code, anchor] = (low + 1, days[low:high])
    status = MonitoringStatus
    graces = {code: test.grace_days for code, test in tests.items()}
    slow = sa.union(
        *changed_for_every_test(moment, date_to),
        sa.select(status.patient_id).where(status.item_states.is_(None)),
    ).cte("slow")
    late = late_results(moment, date_to, graces).cte("late")

    def dosed(patient_id, model=Infusion, *, by_moment: bool = False):
        """Given a dose (`model`: an infusion, or prior treatment) recorded before the moment
        (`by_moment`: or at it). A subquery with LIMIT, evaluated for each patient left (few)
        rather than joined with every dose."""
        recorded = model.recorded_at <= moment if by_moment else model.recorded_at < moment
        first = sa.select(model.id).where(model.patient_id == patient_id, recorded)
        return first.limit(1).scalar_subquery().is_not(None)

    # Today's choice of patients (monitored or dosed by the moment), of whom those whose stored
    # state is not their state then, and those without a stored state: an anti-join of the
    # patients and the stored rows, materialized so that only the few found are probed for a
    # dose (else PostgreSQL probed the million patients first).
    unmonitored = (
        sa.select(Patient.id.label("patient_id"))
        .where(~sa.exists().where(status.patient_id == Patient.id))
        .cte("unmonitored").prefix_with("MATERIALIZED")
    )  # fmt: skip

    # Of the changed ones, those with no dose recorded by the moment count nothing then (a
    # year back, every patient who started since): left out, their facts not read.
    def counts_then(changed):
        """Monitored or dosed now, and dosed by the moment."""
        return (
            sa.exists().where(status.patient_id == changed) | dosed(changed),
            dosed(changed, by_moment=True) | dosed(changed, PriorDose, by_moment=True),
        )

    changed = slow.c.patient_id
    left = sa.union(
        sa.select(sa.null().label("test_code"), changed).where(*counts_then(changed)),
        sa.select(sa.null(), unmonitored.c.patient_id).where(dosed(unmonitored.c.patient_id)),
        # a late result's patient and test: its other tests are counted from their states
        sa.select(late.c.test_code, late.c.patient_id).where(*counts_then(late.c.patient_id)),
    ).subquery("left_over")
    table = _SCHEDULES
    session.execute(sa.text(f"DROP TABLE IF EXISTS {table.name}"))  # left by a failed count
    table.create(session.connection())
    rows = [{"test_code": code, "anchor_on": anchor, "k": k, "n": len(days)}
            for (code, anchor), (k, days) in due.items()]  # fmt: skip
    if rows:
        session.execute(table.insert(), rows)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text(f"ANALYZE {table.name}"))  # temporary: autovacuum never does
    letters = sa.func.substr(status.item_states, table.c.k, table.c.n)
    counted = (
        sa.select(status.test_code, status.anchor_on, letters, sa.func.count())
        .join(table, (table.c.test_code == status.test_code)
              & (table.c.anchor_on == status.anchor_on))
        .where(~sa.exists().where(slow.c.patient_id == status.patient_id),
               ~sa.exists().where(late.c.patient_id == status.patient_id,
                                  late.c.test_code == status.test_code))
        .group_by(status.test_code, status.anchor_on, letters)
    )  # fmt: skip
    patients = sa.select(left.c.test_code, sa.null(), sa.null(), left.c.patient_id)
    slow_tests: dict[int, set[str] | None] = {}
    for code, anchor, part, number in session.execute(sa.union_all(counted, patients)):
        if anchor is None:  # a patient left to the slow path: every test (None), or this one
            if code is None or slow_tests.get(number, set()) is None:
                slow_tests[number] = None
            else:
                slow_tests.setdefault(number, set()).add(code)
            continue
        grace, days = tests[code].grace_days, due[code, anchor][1]
        for letter, day in zip(part, days, strict=False):  # part ends at the patient's end
            if letter == tally.STATE_LETTERS[tally.CLOSED]:
                continue
            if letter == tally.STATE_LETTERS[tally.OPEN]:
                label = "overdue" if last > day + grace else "pending"
            else:
                label = _LABELS[letter]
            for bucket in (by_test[code], by_month[_month(day)]):
                bucket["due"] += number
                bucket[label] += number
    table.drop(session.connection())
    return {patient: tests and frozenset(tests) for patient, tests in slow_tests.items()}


def count_items(
    facts, date_from: date, date_to: date, by_test: dict, by_month: dict,
    only: frozenset[str] | None = None,
) -> None:  # fmt: skip
    """Count one patient's items due in the period (of the tests `only` names, if given), in
    their state at its end, into their test's and month's buckets: what `_count_items` counts
    of `rules.resolve`, by `tally.item_states` (each distinct schedule's due dates computed
    once, day numbers instead of items; tests/reports/test_assessment_tally.py compares the
    two)."""
    if not facts.doses:
        return
    anchor, end = min(facts.doses), rules.facts_end(facts)
    first, last = date_from.toordinal(), date_to.toordinal()
    for test in facts.tests:
        if only is not None and test.code not in only:
            continue
        dues = tally.due_days(test, anchor, end)
        low, high = bisect_left(dues, first), bisect_right(dues, last)
        if low == high:
            continue
        states = tally.item_states(test, anchor, end, facts)[1]
        for index in range(low, high):
            state = states[index]
            if state == tally.CLOSED:
                continue
            if state == tally.OPEN:
                state = "overdue" if last > dues[index] + test.grace_days else "pending"
            else:
                state = "satisfied" if state == tally.SATISFIED else "waived"
            for bucket in (by_test[test.code], by_month[_month(dues[index])]):
                bucket["due"] += 1
                bucket[state] += 1


@lru_cache(maxsize=4096)
def _month(day: int) -> str:
    """The YYYY-MM of a day number."""
    return f"{date.fromordinal(day):%Y-%m}"


def _count_items(items, date_from: date, date_to: date, by_test: dict, by_month: dict) -> None:
    """Count one patient's items due in the period, in their state at its end (`rules.schedule`
    on its last day; only these items' states are worked out), into their test's and month's
    buckets. The plain rules, which `count_items` must agree with."""
    for item in items:
        if not date_from <= item.due_on <= date_to:
            continue
        item = rules.state_on(item, date_to)
        if item.state == rules.ItemState.CLOSED:
            continue
        state = "pending" if item.state in (rules.ItemState.DUE, rules.ItemState.UPCOMING) \
            else item.state.value  # fmt: skip
        for bucket in (by_test[item.test_code], by_month[f"{item.due_on:%Y-%m}"]):
            bucket["due"] += 1
            bucket[state] += 1


def _zero_items() -> dict[str, int]:
    return {"due": 0, "satisfied": 0, "waived": 0, "overdue": 0, "pending": 0}


def _sum(buckets) -> dict[str, int]:
    total = _zero_items()
    for bucket in buckets:
        for key, value in bucket.items():
            total[key] += value
    return total


def _rated(bucket: dict[str, int]) -> dict[str, Any]:
    met = bucket["satisfied"] + bucket["waived"]
    return {**bucket, "compliance": share(met, met + bucket["overdue"])}
