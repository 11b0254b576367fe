"""The stored monitoring state of one test (or of the periodic status), computed without
building the schedule's items: what `rules.resolve` decides, reduced to what is stored.

`rebuild-monitoring` recomputes every patient (a national program: a million patients, six
tests and the status each, ~180 items a patient), so this is the hot loop of that job. The
rules are the same as `rules._resolve_test` (closed, then waived or signed, then each result
oldest first satisfies the earliest open item whose window holds it); only the bookkeeping
differs: day numbers (`date.toordinal`) instead of dates, a state code per item instead of an
`Item` per item, and each distinct schedule's due dates (test, first dose, end) computed once
and shared by the patients who have it. `tests/monitoring/test_tally.py` checks it against
`rules.resolve` on many generated patients.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from rems.monitoring import rules
from rems.program.model import add_months

OPEN, SATISFIED, WAIVED, CLOSED = 0, 1, 2, 3
#: How `monitoring_status.item_states` writes each state: one character per item, in item order.
STATE_LETTERS = "oswc"


def states_text(states: list[int]) -> str:
    """The stored `item_states` of a test: [OPEN, SATISFIED, CLOSED] → "osc"."""
    return "".join([STATE_LETTERS[state] for state in states])


@dataclass(frozen=True, slots=True)
class Tally:
    """One test's resolved schedule as stored: the open item numbers, the first open item's
    dates, and how many items are satisfied, waived and closed."""

    open_ks: list[int]
    next_due_on: date | None
    next_window_start: date | None
    overdue_after: date | None
    satisfied: int
    waived: int
    closed: int
    total: int
    #: Each item's state (OPEN, SATISFIED, WAIVED or CLOSED), item 1 first.
    states: list[int]

    @property
    def next_k(self) -> int | None:
        return self.open_ks[0] if self.open_ks else None


@lru_cache(maxsize=8192)
def due_days(test: rules.MonitoredTest, anchor: date, end: date) -> tuple[int, ...]:
    """The day numbers of the test's due dates from `anchor` to `end` (item k is at k - 1):
    one distinct schedule, shared by every patient with that first dose and end."""
    found, k = [], 1
    while (due := add_months(anchor, k * test.every_months)) <= end:
        found.append(due.toordinal())
        k += 1
    return tuple(found)


def tally(
    test: rules.MonitoredTest, anchor: date, end: date, facts: rules.ScheduleFacts,
    signed: frozenset[int] | set[int] = frozenset(), *, periods: bool = False,
) -> Tally:  # fmt: skip
    """The test's stored state from the facts: its results and waivers; or, for the periodic
    status (`periods`), the periods `signed` (`statuses.periods`: no result or waiver)."""
    dues = due_days(test, anchor, end)
    states = _closed_or_waived(test, dues, facts, signed, periods)
    if not periods:
        _satisfy(test, dues, anchor.toordinal(), states, facts)
    open_ks = [k for k, state in enumerate(states, start=1) if not state]  # OPEN is 0
    first = open_ks[0] if open_ks else None
    if first is None:
        due = start = after = None
    else:
        previous = dues[first - 2] if first > 1 else anchor.toordinal()
        due = date.fromordinal(dues[first - 1])
        start = date.fromordinal(previous + 1)
        after = date.fromordinal(dues[first - 1] + test.grace_days)
    return Tally(open_ks, due, start, after, states.count(SATISFIED), states.count(WAIVED),
                 states.count(CLOSED), len(states), states)  # fmt: skip


def item_states(
    test: rules.MonitoredTest, anchor: date, end: date, facts: rules.ScheduleFacts
) -> tuple[tuple[int, ...], list[int]]:
    """The test's due days (`due_days`) and each item's state (OPEN, SATISFIED, WAIVED or
    CLOSED) by the same rules as `rules.resolve`: what the assessment counts."""
    dues = due_days(test, anchor, end)
    states = _closed_or_waived(test, dues, facts, frozenset(), False)
    _satisfy(test, dues, anchor.toordinal(), states, facts)
    return dues, states


def _closed_or_waived(test, dues, facts: rules.ScheduleFacts, signed, periods) -> list[int]:
    """Each item's state before results: closed by the closing, waived, signed, or open."""
    states = [OPEN] * len(dues)
    waivers = () if periods else facts.waivers
    waived = {w.due_on.toordinal() for w in waivers if w.test_code == test.code}
    if facts.closed_on is None and not waived and not signed:
        return states
    closed = facts.closed_on.toordinal() if facts.closed_on is not None else None
    for index, due in enumerate(dues):
        if closed is not None and (
            due + test.grace_days >= closed if facts.closed_keeps_overdue else due > closed
        ):
            states[index] = CLOSED
        elif due in waived:
            states[index] = WAIVED
        elif index + 1 in signed:
            states[index] = SATISFIED
    return states


def _satisfy(test, dues, anchor: int, states: list[int], facts: rules.ScheduleFacts) -> None:
    """Each of the test's results, oldest first, satisfies the earliest open item whose window
    (the day after the previous due date to due date + grace) holds it."""
    code, grace, count = test.code, test.grace_days, len(dues)
    days = sorted(r.collected_on.toordinal() for r in facts.results if r.test_code == code)
    start = 0
    for day in days:
        while start < count and dues[start] + grace < day:
            start += 1  # windows end in order, and results come oldest first
        for index in range(start, count):
            opens = (dues[index - 1] if index else anchor) + 1
            if opens > day:
                break  # this window and every later one open after the result
            if states[index] == OPEN:  # opens <= day <= its end: in the window
                states[index] = SATISFIED
                break


def ranges_text(numbers: list[int]) -> str:
    """`rules.format_ranges` of numbers already sorted and distinct (the open items), faster:
    [1, 2, 3, 5, 7, 8] → "1-3,5,7-8"."""
    if not numbers:
        return ""
    parts, first = [], numbers[0]
    previous = first
    for number in numbers:
        if number > previous + 1:
            parts.append(f"{first}-{previous}" if previous > first else str(first))
            first = number
        previous = number
    parts.append(f"{first}-{previous}" if previous > first else str(first))
    return ",".join(parts)
