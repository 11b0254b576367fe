"""The rows of the national-volume world, as PostgreSQL `COPY` text, generated in streams.

`bench.scale_world` builds the cast through the services and then calls `copy_world`, which
writes every bulk table with one `COPY … FROM STDIN` each, from generators that never hold more
than one chunk of text. Every bulk patient `i` (0 … n-1) is computed from `i` alone (its ids,
dates and history), so each table's stream is independent of the others and nothing is kept
between them:

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
    return results, tails


STATUS_COLUMNS = (
    "patient_id", "test_code", "prescriber_id", "anchor_on", "ends_on", "next_k", "next_due_on",
    "next_window_start", "overdue_after", "open_items", "satisfied", "waived", "closed",
    "items_total",
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


def _rows(columns: tuple[str, ...], rows: Iterator[dict]) -> Iterator[str]:
    for row in rows:
        yield "\t".join(text(row[c]) for c in columns) + "\n"


# --- One generator per table -------------------------------------------------------------------


def patients(w: World, columns) -> Iterator[str]:
    def rows():
        for i in range(w.count):
            shape = w.shapes[w.which(i)]
            _, _, born = w.facts(i)
            enrolled = at(w.doses(i)[0] - timedelta(days=20), 10) if not w.ready(i) else None
            extra = {"enrolled_at": enrolled, "created_at": enrolled} if enrolled else {}
            yield shape["patient"] | extra | {
                "id": w.base["patient"] + i, "rems_id": rems_id(i),
                "date_of_birth": born, "first_name": "Mo", "last_name": f"Scale{i:07d}",
            }  # fmt: skip

    return _rows(columns, rows())


def courses(w: World, columns) -> Iterator[str]:
    def rows():
        for i in range(w.count):
            shape = w.shapes[w.which(i)]["course"]
            row = shape | {"id": w.base["course"] + i, "patient_id": w.base["patient"] + i}
            if not w.ready(i):
                doses = w.doses(i)
                row |= {
                    "status": "completed", "doses_given": 5, "doses_held": 0,
                    "planned_start": doses[0], "first_dose_by": doses[0],
                    "first_dose_on": doses[0], "last_dose_on": doses[-1],
                    "authorized_at": at(doses[0] - timedelta(days=3), 9),
                }  # fmt: skip
            yield row

    return _rows(columns, rows())


def authorizations(w: World, columns) -> Iterator[str]:
    c = w.cast

    def rows():
        for i in range(w.count):
            if w.ready(i):
                continue
            first = w.doses(i)[0]
            yield {
                "id": w.base["authorization"] + i, "number": f"AS{i:010d}",
                "course_id": w.base["course"] + i, "patient_id": w.base["patient"] + i,
                "prescriber_id": w.shapes[w.which(i)]["patient"]["prescriber_id"],
                "pharmacy_site_id": c["pharmacy_id"], "infusion_site_id": c["site_id"],
                "doses": 5, "doses_given": 5, "status": "used",
                "valid_from": first - timedelta(days=1), "valid_until": first + timedelta(days=6),
                "first_dose_by": first, "issued_at": at(first - timedelta(days=1), 9),
                "issued_by_id": c["pharmacist_id"], "ended_at": None, "ended_by_id": None,
                "end_reason": None,
            }  # fmt: skip

    return _rows(columns, rows())


def infusions(w: World, columns) -> Iterator[str]:
    c = w.cast
    for i in range(w.count):
        if w.ready(i):
            continue
        for k, day in enumerate(w.doses(i)):
            yield "\t".join(text(v) for v in (
                w.base["infusion"] + 5 * i + k, w.base["authorization"] + i,
                w.base["course"] + i, w.base["patient"] + i, c["site_id"], k + 1, day, True,
                True, k < 3, True, at(day, 13), at(day, 17), at(day, 19), "none", False, None,
                at(day, 19), c["nurse_id"],
            )) + "\n"  # fmt: skip


def decisions(w: World, columns) -> Iterator[str]:
    c = w.cast

    def rows():
        for i in range(w.count):
            if w.ready(i):
                continue
            first, (_, _, born) = w.doses(i)[0], w.facts(i)
            shape = w.shapes[w.which(i)]
            request = {"patient_id": rems_id(i), "date_of_birth": born.isoformat(),
                       "prescriber_npi": shape["npi"], "infusion_site_id": c["site_code"],
                       "doses": 5}  # fmt: skip
            for k in range(2):
                granted = k == 0
                yield {
                    "id": w.base["authorization_decision"] + 2 * i + k,
                    "decision_id": f"DS{2 * i + k:012d}",
                    "decided_at": at(first - timedelta(days=1) + timedelta(days=7 * k), 9),
                    "requested_by_id": c["pharmacist_id"], "pharmacy_site_id": c["pharmacy_id"],
                    "request": request, "outcome": "authorized" if granted else "denied",
                    "reasons": [] if granted else [{"code": "DOSES_EXCEEDED"}], "warnings": [],
                    "authorization_id": w.base["authorization"] + i if granted else None,
                    "idempotency_key": None, "request_sha256": None, "response": None,
                    "patient_id": w.base["patient"] + i,
                    "prescriber_id": shape["patient"]["prescriber_id"],
                    "receiving_site_id": c["site_id"], "patient_rems_id": request["patient_id"],
                    "acting": None,
                }  # fmt: skip

    return _rows(columns, rows())


def results(w: World, columns) -> Iterator[str]:
    next_id = w.base["lab_result"]
    for i in range(w.count):
        if w.ready(i):
            continue
        patient = w.base["patient"] + i
        for tail in w.history(i)[0]:
            yield f"{next_id}\t{patient}\t{tail}\n"
            next_id += 1


def statuses(w: World, columns) -> Iterator[str]:
    for i in range(w.count):
        if w.ready(i):
            continue
        patient = w.base["patient"] + i
        prescriber = w.shapes[w.which(i)]["patient"]["prescriber_id"]
        for code, tail in w.history(i)[1].items():
            yield f"{patient}\t{code}\t{prescriber}\t{tail}\n"


def status_changes(w: World, columns) -> Iterator[str]:
    for i in range(w.count):
        changed = at(w.doses(i)[0] - timedelta(days=20), 10) if not w.ready(i) else w.cast["now"]
        yield "\t".join(text(v) for v in (
            w.base["status_change"] + i, "patient", w.base["patient"] + i, "pending", "enrolled",
            changed, None, None,
        )) + "\n"  # fmt: skip


def ready_children(name: str) -> Callable:
    """Baseline tests or acknowledgments of the ready patients: their template's, re-pointed."""
    parent = "course_id" if name == "baseline_test" else "patient_id"

    def generate(w: World, columns) -> Iterator[str]:
        def rows():
            next_id = w.base[name]
            for i in range(0, w.count, READY_EVERY):
                own = w.base["course" if parent == "course_id" else "patient"] + i
                for row in w.shapes[w.which(i)][name]:
                    yield row | {"id": next_id, parent: own}
                    next_id += 1

        return _rows(columns, rows())

    return generate


def audit_events(w: World, columns) -> Iterator[str]:
    """The trail's events of the bulk patients, chained after the cast's head."""
    from rems.audit.trail import compute_row_hash

    seq, prev = w.cast["audit_head"]
    next_id = w.base["audit_event"]
    for i in range(w.count):
        patient = w.base["patient"] + i
        events = [("patient.enrolled", "patient", patient, w.cast["now"])]
        if not w.ready(i):
            first = w.doses(i)[0]
            events = [
                ("patient.enrolled", "patient", patient, at(first - timedelta(days=20), 10)),
                ("authorization.granted", "authorization", w.base["authorization"] + i,
                 at(first - timedelta(days=1), 9)),
                ("authorization.denied", "authorization_decision",
                 w.base["authorization_decision"] + 2 * i + 1, at(first + timedelta(days=6), 9)),
            ]  # fmt: skip
        for action, entity, entity_id, when in events:
            seq += 1
            row = SimpleNamespace(
                seq=seq, occurred_at=when, actor_id=None, actor_label="bench:scale",
                action=action, entity_type=entity, entity_id=str(entity_id), old_values=None,
                new_values={"n": i}, reason=None, request_id=None, ip=None, prev_hash=prev,
            )  # fmt: skip
            row.row_hash = prev = compute_row_hash(row)
            yield "\t".join(text(getattr(row, c)) if c != "id" else str(next_id)
                            for c in columns) + "\n"  # fmt: skip
            next_id += 1


#: table → its stream, in the order they are written (parents first).
STREAMS: tuple[tuple[str, Callable], ...] = (
    ("patient", patients),
    ("course", courses),
    ("authorization", authorizations),
    ("infusion", infusions),
    ("authorization_decision", decisions),
    ("lab_result", results),
    ("monitoring_status", statuses),
    ("status_change", status_changes),
    ("baseline_test", ready_children("baseline_test")),
    ("acknowledgment", ready_children("acknowledgment")),
    ("audit_event", audit_events),
)
FIXED_COLUMNS = {
    "infusion": (
        "id", "authorization_id", "course_id", "patient_id", "site_id", "dose_number",
        "administered_on", "identity_verified", "no_active_infection",
        "corticosteroid_premedication", "antiviral_prophylaxis", "infusion_started_at",
        "infusion_ended_at", "observation_ended_at", "reaction", "delayed", "notes",
        "recorded_at", "recorded_by_id",
    ),
    "lab_result": (
        "id", "patient_id", "test_code", "collected_on", "value", "unit", "abnormal", "source",
        "batch_id", "entered_at", "entered_by_id", "amendments", "value_key",
    ),
    "monitoring_status": STATUS_COLUMNS,
    "status_change": (
        "id", "entity_type", "entity_id", "from_status", "to_status", "changed_at",
        "changed_by_id", "reason",
    ),
}  # fmt: skip


def copy_table(cursor, world: World, name: str, stream: Callable, columns) -> int:
    """COPY one table from its stream; the number of lines written."""
    quoted = ", ".join(f'"{c}"' for c in columns)
    lines = 0
    with cursor.copy(f'COPY "{name}" ({quoted}) FROM STDIN') as copy:
        for chunk in _chunks(stream(world, columns)):
            lines += chunk.count("\n")
            copy.write(chunk)
    return lines
