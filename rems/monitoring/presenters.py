"""What the patient page's monitoring section shows: the timeline (tests × months), the next
items, the overdue ones, the results history with amendments, and what the viewer may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.monitoring import rules
from rems.monitoring.queries import amendments_of, results_of, schedule_facts
from rems.patients.models import Patient
from rems.program.model import add_months

#: How each state reads without colour: a mark, and the word.
MARKS = {
    rules.ItemState.SATISFIED: ("✓", "satisfied"),
    rules.ItemState.WAIVED: ("W", "waived"),
    rules.ItemState.OVERDUE: ("!", "overdue"),
    rules.ItemState.DUE: ("D", "due"),
    rules.ItemState.DUE_SOON: ("S", "due soon"),
    rules.ItemState.UPCOMING: ("·", "upcoming"),
    rules.ItemState.CLOSED: ("×", "closed"),
}


@dataclass(frozen=True, slots=True)
class TimelineRow:
    """One test: the item in each month column (None where nothing is due that month)."""

    code: str
    name: str
    cells: list[rules.Item | None]


def _program():
    return current_app.extensions["rems_program"]


def patient_monitoring(session: Session, patient: Patient, viewer: User, today: date) -> dict:
    """Everything the section shows, computed from the facts for this one patient."""
    facts = schedule_facts(session, patient)
    items = rules.schedule(facts, today)
    results = results_of(session, patient.id)
    by_result = rules.satisfied_by(items)
    return {
        "anchor": min(facts.doses) if facts.doses else None,
        "ends_on": rules.facts_end(facts),
        "timeline": timeline(items, facts),
        "months": _months(items, facts),
        "overdue": sorted(
            (
                (i, i.window_end + timedelta(days=1))
                for i in items
                if i.state == rules.ItemState.OVERDUE
            ),
            key=lambda pair: (pair[1], pair[0].test_code),
        ),
        "next_items": next_items(items),
        "compliant": rules.compliant(items),
        "results": [(r, by_result.get(r.id)) for r in results],
        "amendments": amendments_of(session, [r.id for r in results]),
        "waivable": [i for i in items if i.state not in rules.RESOLVED],
        "marks": MARKS,
        "test_names": {t.code: t.name for t in _program().tests},
        "tests": _program().tests,
        "may_record": viewer.role in (Role.PRESCRIBER, Role.DELEGATE),
        "may_waive": viewer.role == Role.ADMIN,
    }


def _month_of(item: rules.Item, anchor: date) -> int:
    """Whole months from the anchor to the item's due date."""
    return (item.due_on.year - anchor.year) * 12 + item.due_on.month - anchor.month


def _months(items: list[rules.Item], facts: rules.ScheduleFacts) -> list[tuple[int, date]]:
    """The timeline's columns: month number and its date, up to the last item."""
    if not items:
        return []
    anchor = min(facts.doses)
    last = max(_month_of(item, anchor) for item in items)
    return [(m, add_months(anchor, m)) for m in range(1, last + 1)]


def timeline(items: list[rules.Item], facts: rules.ScheduleFacts) -> list[TimelineRow]:
    """One row per monitored test, one cell per month after the first dose."""
    if not items:
        return []
    anchor = min(facts.doses)
    width = max(_month_of(item, anchor) for item in items)
    rows = []
    for test in _program().monitored_tests():
        cells: list[Any] = [None] * width
        for item in items:
            if item.test_code == test.code:
                cells[_month_of(item, anchor) - 1] = item
        rows.append(TimelineRow(test.code, test.name, cells))
    return rows


def next_items(items: list[rules.Item]) -> list[rules.Item]:
    """Per test, the items due now, or else the next upcoming one; soonest first."""
    chosen: list[rules.Item] = []
    for code in dict.fromkeys(item.test_code for item in items):
        own = [i for i in items if i.test_code == code]
        due = [i for i in own if i.state in (rules.ItemState.DUE, rules.ItemState.DUE_SOON)]
        upcoming = [i for i in own if i.state == rules.ItemState.UPCOMING][:1]
        chosen += due or upcoming
    return sorted(chosen, key=lambda i: (i.due_on, i.test_code))


def item_label(item: rules.Item | None, names: dict[str, str]) -> str:
    """An item as people say it: "CBC with differential, month 3 (due 2026-02-10)"."""
    if item is None:
        return "No monitoring item (before the first dose, or no open window)"
    return f"{names.get(item.test_code, item.test_code)} #{item.k} (due {item.due_on.isoformat()})"


def waivable_choices(session: Session, patient: Patient, today: date) -> list[tuple[str, str]]:
    """The patient's open items as choices "test|due date" (overdue first, then by date)."""
    names = {t.code: t.name for t in _program().tests}
    items = [i for i in rules.schedule(schedule_facts(session, patient), today)
             if i.state not in rules.RESOLVED]  # fmt: skip
    order = {rules.ItemState.OVERDUE: 0, rules.ItemState.DUE: 1, rules.ItemState.DUE_SOON: 2,
             rules.ItemState.UPCOMING: 3}  # fmt: skip
    items.sort(key=lambda i: (order[i.state], i.due_on, i.test_code))
    return [
        (f"{i.test_code}|{i.due_on.isoformat()}",
         f"{names[i.test_code]} #{i.k}, due {i.due_on.isoformat()} ({i.state.value})")
        for i in items
    ]  # fmt: skip
