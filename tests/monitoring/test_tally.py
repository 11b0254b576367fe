"""The stored state computed by `tally` (the rebuild's fast path) is what the schedule's items
(`rules.resolve`, `statuses.periods`) say, on many generated patients: results on and around
window edges, waivers, both kinds of closing, extensions, signed periods."""

from __future__ import annotations

import random
from datetime import date, timedelta
from types import SimpleNamespace

from rems.monitoring import rules
from rems.monitoring.services import computed_state
from rems.monitoring.statuses import periods, state_columns
from rems.monitoring.tally import ranges_text
from tests.monitoring.test_rules import MONTHS, TESTS

LETTERS = {None: "o", rules.ItemState.SATISFIED: "s", rules.ItemState.WAIVED: "w",
           rules.ItemState.CLOSED: "c"}  # fmt: skip
STATUS = rules.MonitoredTest("patient_status", 6, 30, 14)
PATIENTS = 400


def _facts(rng: random.Random) -> rules.ScheduleFacts:
    """A patient with one or two courses, results (some on the same day, some far off), and
    now and then waivers, a closing (either kind) and an extension."""
    first = date(2024, 1, 1) + timedelta(days=rng.randrange(800))
    doses = [first + timedelta(days=n) for n in range(5)]
    if rng.random() < 0.3:
        doses += [first + timedelta(days=365 + n) for n in range(3)]
    results, waivers = [], []
    for n in range(rng.randrange(60)):
        test = rng.choice(TESTS)
        day = first + timedelta(days=rng.randrange(-5, 1600))
        results.append(rules.ResultFact(n + 1, test.code, day))
    for _ in range(rng.randrange(3)):
        test = rng.choice(TESTS)
        k = rng.randrange(1, 12)
        waivers.append(rules.WaiverFact(test.code, rules.add_months(first, k * test.every_months)))
    closed = first + timedelta(days=rng.randrange(30, 1500)) if rng.random() < 0.3 else None
    extended = first + timedelta(days=rng.randrange(1400, 2200)) if rng.random() < 0.2 else None
    return rules.ScheduleFacts(
        tests=TESTS, months_after_last_dose=MONTHS, doses=tuple(doses), closed_on=closed,
        results=tuple(results), waivers=tuple(waivers),
        closed_keeps_overdue=rng.random() < 0.5, extended_to=extended,
    )  # fmt: skip


def _from_items(facts: rules.ScheduleFacts) -> dict:
    """The stored columns as the schedule's items give them (what was stored before tally)."""
    items, state = rules.resolve(facts), {}
    for test in facts.tests:
        own = [i for i in items if i.test_code == test.code]
        unresolved = [i for i in own if i.state is None]
        first = unresolved[0] if unresolved else None
        state[test.code] = {
            "prescriber_id": 7, "anchor_on": min(facts.doses), "ends_on": rules.facts_end(facts),
            "next_k": first and first.k, "next_due_on": first and first.due_on,
            "next_window_start": first and first.window_start,
            "overdue_after": first and first.window_end,
            "open_items": rules.format_ranges(i.k for i in unresolved),
            **{name: sum(1 for i in own if i.state == value) for name, value in (
                ("satisfied", rules.ItemState.SATISFIED), ("waived", rules.ItemState.WAIVED),
                ("closed", rules.ItemState.CLOSED))},
            "items_total": len(own),
            "item_states": "".join(LETTERS[i.state] for i in own),
        }  # fmt: skip
    return state


def test_the_stored_state_is_what_the_schedule_items_say():
    rng = random.Random(24)
    satisfied = waived = closed = 0
    for _ in range(PATIENTS):
        facts = _facts(rng)
        expected = _from_items(facts)
        assert computed_state(SimpleNamespace(prescriber_id=7), facts) == expected, facts
        satisfied += sum(s["satisfied"] for s in expected.values())
        waived += sum(s["waived"] for s in expected.values())
        closed += sum(s["closed"] for s in expected.values())
    assert satisfied and waived and closed  # the generated patients exercise every state


def test_the_status_row_is_what_the_periods_say():
    rng = random.Random(6)
    for _ in range(PATIENTS):
        facts = _facts(rng)
        signed = set(rng.sample(range(1, 12), rng.randrange(4)))
        items = periods(facts, signed, STATUS)
        unresolved = [i for i in items if i.state is None]
        row = state_columns(7, facts, signed, STATUS)
        assert row["open_periods"] == rules.format_ranges(i.k for i in unresolved)
        assert row["next_period"] == (unresolved[0].k if unresolved else None)
        assert row["next_due_on"] == (unresolved[0].due_on if unresolved else None)
        assert row["overdue_after"] == (unresolved[0].window_end if unresolved else None)
        assert row["signed"] == sum(1 for i in items if i.state == rules.ItemState.SATISFIED)
        assert row["periods_total"] == len(items)


def test_the_ranges_text_is_format_ranges():
    rng = random.Random(3)
    for _ in range(500):
        numbers = sorted(rng.sample(range(1, 60), rng.randrange(0, 40)))
        assert ranges_text(numbers) == rules.format_ranges(numbers)
