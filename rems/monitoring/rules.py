"""The monitoring schedule (program §6) as a pure function: doses, closing date, results,
waivers and today in; every item of every monitored test with its window and state out.

- The anchor is the first dose; the end is the last dose + the program's months. A new course
  moves the end; a closed course's given doses still count (the caller passes every dose).
- Item k of a test repeating every I months is due on anchor + k·I months, for every due date
  not after the end. Its window runs from the day after the previous due date (the anchor for
  k = 1) to due date + grace; after that, unresolved, it is overdue.
- Waived items are taken out first; then each result, oldest first, satisfies the earliest
  still-open item of its test whose window contains it (at most one item per result).
- Items due after the patient's closing date are closed, whatever else applies. For the close
  reasons that keep overdue items (lost to follow-up, withdrawal), every item not yet overdue
  on the closing date is closed too, and the items already overdue stay overdue.
- An extension moves the end to a later day ("or longer if clinically indicated").
- On a day, an open item is upcoming, then *due soon* from its due date − the program's
  `due_soon_days`, *due* from its due date to due + grace, then overdue. A result counts for
  the item's whole window, whatever the state is called on the day it is collected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from rems.program.model import Program, add_months


class ItemState(StrEnum):
    """An item's state on a given day."""

    UPCOMING = "upcoming"
    DUE_SOON = "due_soon"
    DUE = "due"
    OVERDUE = "overdue"
    SATISFIED = "satisfied"
    WAIVED = "waived"
    CLOSED = "closed"


#: States that need no further result: the item is compliant or out of the schedule.
RESOLVED = frozenset({ItemState.SATISFIED, ItemState.WAIVED, ItemState.CLOSED})


@dataclass(frozen=True, slots=True)
class MonitoredTest:
    """One monitored test as the schedule sees it (from the program file)."""

    code: str
    every_months: int
    grace_days: int
    #: An item is due soon from its due date minus this many days.
    due_soon_days: int = 0


@dataclass(frozen=True, slots=True)
class ResultFact:
    """A stored result: which test, when it was collected."""

    id: int
    test_code: str
    collected_on: date


@dataclass(frozen=True, slots=True)
class WaiverFact:
    """An administrator's waiver of the item of `test_code` due on `due_on`."""

    test_code: str
    due_on: date


@dataclass(frozen=True, slots=True)
class ScheduleFacts:
    """Everything the schedule looks at."""

    tests: tuple[MonitoredTest, ...]
    months_after_last_dose: int
    doses: tuple[date, ...] = ()
    closed_on: date | None = None
    results: tuple[ResultFact, ...] = ()
    waivers: tuple[WaiverFact, ...] = ()
    #: The closing keeps the items overdue on its date overdue and closes all others.
    closed_keeps_overdue: bool = False
    #: The last day of monitoring as extended by the prescriber (None: not extended).
    extended_to: date | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One monitoring item. `state` is None until `state_on` places it on a day (open)."""

    test_code: str
    k: int
    due_on: date
    window_start: date  #: the first day a result counts for this item
    window_end: date  #: due date + grace: the last day; overdue from the next day
    state: ItemState | None = None
    result_id: int | None = None
    #: The first day the item is due soon (None: its due date).
    soon_from: date | None = None

    def contains(self, day: date) -> bool:
        """Whether a result collected on `day` falls in this item's window."""
        return self.window_start <= day <= self.window_end


def monitored_tests(program: Program) -> tuple[MonitoredTest, ...]:
    """The program's monitored tests as the schedule needs them."""
    soon = program.monitoring_states.due_soon_days
    return tuple(
        MonitoredTest(t.code, t.monitoring.every_months, t.monitoring.grace_days, soon)
        for t in program.monitored_tests()
    )


def schedule_end(doses: Iterable[date], months_after_last_dose: int) -> date | None:
    """The last day of monitoring: the last dose + the program's months (None: no dose)."""
    last = max(doses, default=None)
    return None if last is None else add_months(last, months_after_last_dose)


def facts_end(facts: ScheduleFacts) -> date | None:
    """The last day of monitoring: schedule_end, or the extension's day when it is later."""
    end = schedule_end(facts.doses, facts.months_after_last_dose)
    if end is not None and facts.extended_to is not None and facts.extended_to > end:
        return facts.extended_to
    return end


def resolve(facts: ScheduleFacts) -> list[Item]:
    """Every item with what does not depend on the day: satisfied, waived or closed (else None)."""
    if not facts.doses:
        return []
    anchor = min(facts.doses)
    end = facts_end(facts)
    items: list[Item] = []
    for test in facts.tests:
        items += _resolve_test(test, anchor, end, facts)
    return items


def schedule(facts: ScheduleFacts, today: date) -> list[Item]:
    """Every item of every monitored test, in program order then k, with its state today."""
    return [state_on(item, today) for item in resolve(facts)]


def state_on(item: Item, today: date) -> Item:
    """The item with its state on `today` (an already resolved item keeps its state)."""
    if item.state is not None:
        return item
    if today > item.window_end:
        return replace(item, state=ItemState.OVERDUE)
    if today >= item.due_on:
        return replace(item, state=ItemState.DUE)
    if today >= (item.soon_from or item.due_on):
        return replace(item, state=ItemState.DUE_SOON)
    return replace(item, state=ItemState.UPCOMING)


def items_of_test(test: MonitoredTest, anchor: date, end: date) -> list[Item]:
    """The open items of one test from `anchor` to `end`, before results and waivers."""
    return list(_items_of_test(test, anchor, end))


@lru_cache(maxsize=8192)
def _items_of_test(test: MonitoredTest, anchor: date, end: date) -> tuple[Item, ...]:
    """items_of_test, remembered: many patients share a first dose and an end."""
    items, previous, k = [], anchor, 1
    while (due := add_months(anchor, k * test.every_months)) <= end:
        window_end = due + timedelta(days=test.grace_days)
        items.append(Item(test.code, k, due, previous + timedelta(days=1), window_end,
                          soon_from=due - timedelta(days=test.due_soon_days)))  # fmt: skip
        previous, k = due, k + 1
    return tuple(items)


def _resolve_test(test: MonitoredTest, anchor: date, end: date, facts: ScheduleFacts) -> list[Item]:
    """One test's items: closed after the closing date, waived, then satisfied by results."""
    waived = {w.due_on for w in facts.waivers if w.test_code == test.code}
    items = []
    for item in items_of_test(test, anchor, end):
        if closed_by(item, facts):
            item = replace(item, state=ItemState.CLOSED)
        elif item.due_on in waived:
            item = replace(item, state=ItemState.WAIVED)
        items.append(item)
    results = sorted(
        (r for r in facts.results if r.test_code == test.code),
        key=lambda r: (r.collected_on, r.id),
    )
    start = 0
    for result in results:
        while start < len(items) and items[start].window_end < result.collected_on:
            start += 1  # windows end in order, and results come oldest first
        _satisfy_first_open(items, start, result)
    return items


def closed_by(item: Item, facts: ScheduleFacts) -> bool:
    """Whether the closing takes the item out of the schedule: due after the closing date;
    or, for the reasons that keep overdue items, not yet overdue on it."""
    if facts.closed_on is None:
        return False
    if facts.closed_keeps_overdue:
        return item.window_end >= facts.closed_on
    return item.due_on > facts.closed_on


def _satisfy_first_open(items: list[Item], start: int, result: ResultFact) -> None:
    """The earliest open item (from `start`) whose window holds the result is satisfied by it."""
    for index in range(start, len(items)):
        item = items[index]
        if item.window_start > result.collected_on:
            return  # this window and every later one open after the result
        if item.state is None and item.contains(result.collected_on):
            items[index] = replace(item, state=ItemState.SATISFIED, result_id=result.id)
            return


def satisfied_by(items: Iterable[Item]) -> dict[int, Item]:
    """Which item each result satisfies, by result id."""
    return {item.result_id: item for item in items if item.result_id is not None}


def compliant(items: Iterable[Item]) -> bool:
    """A patient is compliant when none of their items is overdue (items placed on a day)."""
    return all(item.state != ItemState.OVERDUE for item in items)


def open_items(test: MonitoredTest, anchor: date, ks: Iterable[int]) -> Iterator[Item]:
    """Items number `ks` of a test, rebuilt from the anchor (unresolved: state None), lazily
    and in the order of `ks`."""
    for k in ks:
        due = add_months(anchor, k * test.every_months)
        previous = add_months(anchor, (k - 1) * test.every_months)
        window_end = due + timedelta(days=test.grace_days)
        yield Item(test.code, k, due, previous + timedelta(days=1), window_end,
                   soon_from=due - timedelta(days=test.due_soon_days))  # fmt: skip


def format_ranges(numbers: Iterable[int]) -> str:
    """Sorted whole numbers as ranges: 1,2,3,5,7,8 → "1-3,5,7-8"."""
    parts: list[str] = []
    run: list[int] = []
    for number in sorted(numbers):
        if run and number == run[-1] + 1:
            run.append(number)
            continue
        if run:
            parts.append(_run_text(run))
        run = [number]
    if run:
        parts.append(_run_text(run))
    return ",".join(parts)


def _run_text(run: list[int]) -> str:
    """One run of consecutive numbers."""
    return str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}"


def parse_ranges(text: str) -> Iterator[int]:
    """The numbers of a format_ranges text, in order, lazily."""
    for part in filter(None, (text or "").split(",")):
        first, _, last = part.partition("-")
        yield from range(int(first), int(last or first) + 1)
