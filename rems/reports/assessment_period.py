"""The assessment's figures that are computed row by row for a period, the same way on SQLite
and PostgreSQL: knowledge assessment pass rates, time from enrollment to first dose, how long
denials took to resolve, non-compliance cases (monitoring compliance is in
`assessment_monitoring`). Every month of the period is listed, empty months too."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.authorizations.models import AuthorizationDecision
from rems.certification.models import AssessmentAttempt
from rems.infusions.models import Infusion
from rems.reports.sqlfn import days_between, json_elements, json_field, start_of, utc_day


def months_of(date_from: date, date_to: date) -> list[str]:
    """Every month the period touches, as YYYY-MM, first to last."""
    months, day = [], date_from.replace(day=1)
    while day <= date_to:
        months.append(f"{day:%Y-%m}")
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def every_month(rows: list[dict[str, Any]], months: list[str], zero: dict[str, Any]):
    """`rows` (each with a "month") with a zero row for each month of `months` they lack."""
    found = {row["month"]: row for row in rows}
    return [found.get(month) or {"month": month, **zero} for month in months]


def share(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal; None when whole is 0."""
    return round(100 * part / whole, 1) if whole else None


def knowledge(session: Session, date_from: date, date_to: date) -> dict[str, Any]:
    """Knowledge assessments completed in the period: attempts, passed, first-attempt passes."""
    rows = session.execute(
        sa.select(AssessmentAttempt.prescriber_id, AssessmentAttempt.passed,
                  AssessmentAttempt.completed_at)
        .order_by(AssessmentAttempt.completed_at, AssessmentAttempt.id)
    ).all()  # fmt: skip
    first: dict[int, bool] = {}
    for prescriber_id, passed, _ in rows:
        first.setdefault(prescriber_id, passed)
    start, end = start_of(date_from), start_of(date_to + timedelta(days=1))
    in_period = [r for r in rows if start <= _aware(r.completed_at) < end]
    firsts = {r.prescriber_id for r in in_period if _is_first(rows, r)}
    passed = sum(1 for r in in_period if r.passed)
    first_passed = sum(1 for pid in firsts if first[pid])
    return {
        "attempts": len(in_period), "passed": passed, "pass_rate": share(passed, len(in_period)),
        "first_attempts": len(firsts), "first_passed": first_passed,
        "first_pass_rate": share(first_passed, len(firsts)),
    }  # fmt: skip


def _is_first(rows, row) -> bool:
    return next(r for r in rows if r.prescriber_id == row.prescriber_id) is row


def _aware(moment):
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def first_dose(session: Session, date_from: date, date_to: date) -> dict[str, Any]:
    """Patients whose first dose fell in the period, and the days from their enrollment (its
    UTC day) to it. The doses given in the period grouped by patient, those with a dose before
    it left out (an index probe each), each one's first enrollment looked up, and the patients
    counted per number of days: not every patient's first dose and enrollment joined, nor a
    row per patient read (a fifth of the time at a million patients)."""
    dialect = session.get_bind().dialect.name
    earlier = sa.orm.aliased(Infusion)
    firsts = (
        sa.select(Infusion.patient_id, sa.func.min(Infusion.administered_on).label("day"))
        .where(Infusion.administered_on.between(date_from, date_to))
        .group_by(Infusion.patient_id).subquery()
    )  # fmt: skip
    enrolled = (
        sa.select(sa.func.min(StatusChange.changed_at))
        .where(StatusChange.entity_type == "patient", StatusChange.entity_id == firsts.c.patient_id,
               StatusChange.to_status == "enrolled")
        .scalar_subquery()
    )  # fmt: skip
    dosed = (
        sa.select(firsts.c.day, enrolled.label("at")).where(~sa.exists().where(
            earlier.patient_id == firsts.c.patient_id, earlier.administered_on < date_from
        )).subquery("dosed")
    )  # fmt: skip
    days = days_between(utc_day(dosed.c.at, dialect), dosed.c.day, dialect)
    counts: dict[int, int] = defaultdict(int)
    for number, patients in session.execute(
        sa.select(days, sa.func.count()).where(dosed.c.at.is_not(None)).group_by(days)
    ):
        counts[max(0, int(number))] += patients  # dosed before the enrollment: 0 days
    total = sum(counts.values())
    return {
        "patients": total,
        "median_days": _median(sorted(counts.items()), total) if total else None,
        "max_days": max(counts) if total else None,
    }


def _median(counts: list[tuple[int, int]], total: int) -> float | int:
    """`statistics.median` of the values each repeated its count times (sorted by value): the
    value at the middle position, or the mean of the two middle ones."""

    def at(position: int) -> int:
        seen = 0
        for value, number in counts:
            seen += number
            if position < seen:
                return value
        raise IndexError(position)

    low, high = at((total - 1) // 2), at(total // 2)
    return low if low == high and total % 2 else (low + high) / 2


def denial_resolution(session: Session, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Per reason: denials in the period, how many were followed by a grant for the same
    patient by the period's end, and the median days that took. Each denial's first later
    grant is found by the database (a join of the period's denials with the grants, grouped),
    its reason codes taken from its JSON there too, and the denials counted per code: Python
    reads the resolved ones' two moments (for the median) and a count per code of the rest."""
    start, end = start_of(date_from), start_of(date_to + timedelta(days=1))
    Decision, Grant = AuthorizationDecision, sa.orm.aliased(AuthorizationDecision)
    firsts = (
        sa.select(Decision.id, Decision.decided_at,
                  sa.func.min(Grant.decided_at).label("granted_at"))
        .outerjoin(Grant, (Grant.patient_id == Decision.patient_id)
                   & (Grant.outcome == "authorized") & (Grant.decided_at > Decision.decided_at)
                   & (Grant.decided_at < end))
        .where(Decision.outcome == "denied", Decision.decided_at >= start,
               Decision.decided_at < end)
        .group_by(Decision.id, Decision.decided_at)
        .subquery("firsts")
    )  # fmt: skip
    dialect = session.get_bind().dialect.name
    denial = sa.orm.aliased(AuthorizationDecision)
    reason = json_elements(denial.reasons, dialect).alias("reason")
    code = json_field(reason.c.value, "code", dialect)
    per_code = (  # each denial once per distinct reason code
        sa.select(firsts.c.id, code.label("code"), firsts.c.decided_at, firsts.c.granted_at)
        .distinct()
        .select_from(firsts).join(denial, denial.id == firsts.c.id).join(reason, sa.true())
        .subquery("per_code")
    )  # fmt: skip
    # the unresolved denials counted per code; the resolved ones by their two moments
    at = sa.case((per_code.c.granted_at.is_(None), None), else_=per_code.c.decided_at)
    rows = session.execute(
        sa.select(per_code.c.code, at, per_code.c.granted_at, sa.func.count())
        .group_by(per_code.c.code, at, per_code.c.granted_at)
    )  # fmt: skip
    per_reason: dict[str, dict[str, Any]] = {}
    for code, at, granted_at, number in rows:
        entry = per_reason.setdefault(code, {"code": code, "denials": 0, "days": []})
        entry["denials"] += number
        if granted_at is not None:
            days = (_aware(granted_at) - _aware(at)).total_seconds() / 86400
            entry["days"].extend([days] * number)
    return [
        {"code": e["code"], "denials": e["denials"], "resolved": len(e["days"]),
         "median_days": round(statistics.median(e["days"]), 1) if e["days"] else None}
        for e in sorted(per_reason.values(), key=lambda e: (-e["denials"], e["code"]))
    ]  # fmt: skip


def cases(session: Session, date_from: date, date_to: date) -> list[dict[str, Any]]:
    """Non-compliance cases by party as they stood at the period's end: opened, closed and
    escalated in the period; open at its end; of those, with a corrective action past its due
    date then."""
    from rems.compliance.models import NonComplianceCase as Case

    start, end = start_of(date_from), start_of(date_to + timedelta(days=1))
    rows = session.execute(
        sa.select(Case.party, Case.opened_at, Case.closed_at, Case.escalated_at, Case.due_on)
        .where(Case.opened_at < end)
    ).all()  # fmt: skip
    parties: dict[str, dict[str, Any]] = {}
    for party, opened, closed, escalated, due_on in rows:
        row = parties.setdefault(
            party,
            {
                "party": party,
                "opened": 0,
                "closed": 0,
                "open_at_end": 0,
                "escalated": 0,
                "overdue_actions": 0,
            },
        )
        inside = lambda moment: moment is not None and start <= _aware(moment) < end  # noqa: E731
        row["opened"] += inside(opened)
        row["closed"] += inside(closed)
        row["escalated"] += inside(escalated)
        open_at_end = closed is None or _aware(closed) >= end
        row["open_at_end"] += open_at_end
        row["overdue_actions"] += open_at_end and due_on is not None and due_on < date_to
    return [parties[p] for p in sorted(parties)]
