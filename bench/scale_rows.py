"""The rows of the national-volume world, as PostgreSQL `COPY` text, generated in streams.

`bench.scale_world` builds the cast through the services and then writes every bulk table with
one `COPY … FROM STDIN` each (`copy_table`), from the generators of `bench.scale_streams`, which
never hold more than one chunk of text. Every bulk patient `i` (0 … n-1) is computed from `i`
alone (its ids, dates and history), so each table's stream is independent of the others and
nothing is kept between them:

* every `READY_EVERY`-th patient is *ready*: a copy of its prescriber's template, enrolled with an
  authorized course 1 not yet started (fresh baseline tests, the guides acknowledged): the gate's
  targets;
* every other patient is *treated*: course 1 given on five consecutive days, its first dose 5 to
  `HISTORY_DAYS` + 4 days ago; a used authorization, five infusions, two dispensing decisions (the
  grant, then a denial for doses exceeded), three audit events (enrolled, granted, denied), a
  result history (each monitoring item due by today has a result on or up to five days before its
  due date, except a `missed` share) and the stored monitoring state the app's own schedule
  computes from it (`rules.resolve`, `services.computed_state`).

Ids are arithmetic on `i` (patient, course, authorization: base + i; infusions base + 5 i + k;
decisions base + 2 i + k), so children reference parents without a lookup.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from types import SimpleNamespace

READY_EVERY = 100
HISTORY_DAYS = 730
VARIANTS = 4
CHUNK = 1 << 20  # characters of COPY text per write


def text(value) -> str:
    """One value in COPY's text format (the bench's values hold no tab, newline or backslash)."""
    if value is None:
        return r"\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def rems_id(i: int) -> str:
    """Patient i's REMS ID: valid (check character), unique (a bijection of i), fixed."""
    from rems.common.identifiers import ALPHABET, check_character

    bits = (i * 0x1E3779B97F4A7C15 + 12345) % (1 << 45)
    body = "PZ" + "".join(ALPHABET[(bits >> (5 * k)) & 31] for k in range(9))
    return body + check_character(body)


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock_time(hour), tzinfo=UTC)


@dataclass
class World:
    """What every stream needs: sizes, id bases, the cast and the cached histories."""

    count: int
    focus: int
    today: date
    missed: float
    cast: dict
    shapes: list[dict]
    base: dict[str, int]
    program: object
    tests: tuple
    histories: dict = field(default_factory=dict)

    def ready(self, i: int) -> bool:
        return i % READY_EVERY == 0

    def which(self, i: int) -> int:
        """The template (prescriber) of patient i: the first for the focus patients."""
        if i < self.focus or len(self.shapes) == 1:
            return 0
        return 1 + i % (len(self.shapes) - 1)

    def facts(self, i: int) -> tuple[int, int, date]:
        """(days of history, variant, date of birth): cheap and fixed for each i."""
        h = (i * 2654435761 + 97) & 0xFFFFFFFF
        return (
            h % HISTORY_DAYS,
            (h >> 12) % VARIANTS,
            date(1950, 1, 1) + timedelta(days=(h >> 4) % 18250),
        )

    def enrolled(self, i: int) -> datetime:
        """When treated patient i was enrolled: 20 days before the first dose."""
        return at(self.doses(i)[0] - timedelta(days=20), 10)

    def doses(self, i: int) -> tuple[date, ...]:
        first = self.today - timedelta(days=5 + self.facts(i)[0])
        return tuple(first + timedelta(days=n) for n in range(5))

    def history(self, i: int):
        """(result lines' tails, state lines' tails by code) for patient i, shared by key."""
        offset, variant, _ = self.facts(i)
        key = (offset, variant)
        if key not in self.histories:
            self.histories[key] = _history(self, self.doses(i), hash(key))
        return self.histories[key]


def _history(world: World, doses, seed: int):
    import random

    from rems.monitoring import rules
    from rems.monitoring.models import duplicate_key
    from rems.monitoring.services import computed_state
    from rems.monitoring.statuses import state_columns, status_test

    rng = random.Random(seed)
    results, facts = [], []
    entered_by = world.cast["doctor_user_id"]
    for test in world.tests:
        for item in rules.items_of_test(test, doses[0], world.today):
            if rng.random() < world.missed:
                continue
            day = max(item.window_start, item.due_on - timedelta(days=rng.randrange(6)))
            value = f"{rng.uniform(1, 9):.1f}"
            results.append("\t".join(text(v) for v in (
                test.code, day, value, "u", False, "csv", None, at(day, 12), entered_by, 0,
                duplicate_key(value),
            )))  # fmt: skip
            facts.append(rules.ResultFact(len(facts) + 1, test.code, day))
    schedule = rules.ScheduleFacts(
        tests=world.tests, months_after_last_dose=world.program.monitoring.months_after_last_dose,
        doses=doses, results=tuple(facts),
    )  # fmt: skip
    state = computed_state(SimpleNamespace(prescriber_id=None), schedule)
    columns = STATUS_COLUMNS[3:]
    tails = {code: "\t".join(text(values[c]) for c in columns) for code, values in state.items()}
    due = state_columns(None, schedule, set(), status_test())  # no status signed yet
    status_tail = "\t".join(text(due[c]) for c in STATUS_DUE_COLUMNS[2:]) if due else None
    return results, tails, status_tail


#: The periodic status's stored row (rems.monitoring.statuses.state_columns).
STATUS_DUE_COLUMNS = (
    "patient_id", "prescriber_id", "anchor_on", "ends_on", "next_period", "next_due_on",
    "overdue_after", "open_periods", "signed", "periods_total",
)  # fmt: skip
STATUS_COLUMNS = (
    "patient_id", "test_code", "prescriber_id", "anchor_on", "ends_on", "next_k", "next_due_on",
    "next_window_start", "overdue_after", "open_items", "satisfied", "waived", "closed",
    "items_total", "item_states",
)  # fmt: skip


def _chunks(lines: Iterator[str]) -> Iterator[str]:
    """Lines gathered into chunks of about CHUNK characters."""
    parts, size = [], 0
    for line in lines:
        parts.append(line)
        size += len(line)
        if size >= CHUNK:
            yield "".join(parts)
            parts, size = [], 0
    if parts:
        yield "".join(parts)


def rows_of(columns: tuple[str, ...], rows: Iterator[tuple[dict, dict]]) -> Iterator[str]:
    """Lines from (texts shared by many rows, this row's own values)."""
    for shared, own in rows:
        yield "\t".join(text(own[c]) if c in own else shared[c] for c in columns) + "\n"


def texts_of(row: dict) -> dict[str, str]:
    return {column: text(value) for column, value in row.items()}


def copy_table(cursor, world: World, name: str, stream: Callable, columns) -> int:
    """COPY one table from its stream; the number of lines written."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    lines = 0
    with cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
        for chunk in _chunks(stream(world, columns)):
            lines += chunk.count("\n")
            copy.write(chunk)
    return lines
