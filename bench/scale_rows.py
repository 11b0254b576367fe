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


def _rows(columns: tuple[str, ...], rows: Iterator[tuple[dict, dict]]) -> Iterator[str]:
    """Lines from (texts shared by many rows, this row's own values)."""
    for shared, own in rows:
        yield "\t".join(text(own[c]) if c in own else shared[c] for c in columns) + "\n"


def _texts(row: dict) -> dict[str, str]:
    return {column: text(value) for column, value in row.items()}


# --- One generator per table -------------------------------------------------------------------


def patients(w: World, columns) -> Iterator[str]:
    shared = [_texts(shape["patient"]) for shape in w.shapes]

    def rows():
        for i in range(w.count):
            _, _, born = w.facts(i)
            own = {"id": w.base["patient"] + i, "rems_id": rems_id(i), "date_of_birth": born,
                   "first_name": "Mo", "last_name": f"Scale{i:07d}"}  # fmt: skip
            if not w.ready(i):
                own["enrolled_at"] = own["created_at"] = w.enrolled(i)
            yield shared[w.which(i)], own

    return _rows(columns, rows())


def courses(w: World, columns) -> Iterator[str]:
    shared = [_texts(shape["course"]) for shape in w.shapes]
    given = {"status": "completed", "doses_given": "5", "doses_held": "0"}
    given_shared = [texts | given for texts in shared]

    def rows():
        for i in range(w.count):
            own = {"id": w.base["course"] + i, "patient_id": w.base["patient"] + i}
            if w.ready(i):
                yield shared[w.which(i)], own
                continue
            doses = w.doses(i)
            own |= {"planned_start": doses[0], "first_dose_by": doses[0],
                    "first_dose_on": doses[0], "last_dose_on": doses[-1],
                    "authorized_at": at(doses[0] - timedelta(days=3), 9)}  # fmt: skip
            yield given_shared[w.which(i)], own

    return _rows(columns, rows())


def authorizations(w: World, columns) -> Iterator[str]:
    c = w.cast
    assert columns == AUTHORIZATION_COLUMNS, columns
    dated = {}
    for i in range(w.count):
        if w.ready(i):
            continue
        first = w.doses(i)[0]
        if first not in dated:
            dated[first] = "\t".join(text(v) for v in (
                c["pharmacy_id"], c["site_id"], 5, 5, "used", first - timedelta(days=1),
                first + timedelta(days=6), first, at(first - timedelta(days=1), 9),
                c["pharmacist_id"], None, None, None,
            ))  # fmt: skip
        prescriber = w.shapes[w.which(i)]["patient"]["prescriber_id"]
        yield (f"{w.base['authorization'] + i}\tAS{i:010d}\t{w.base['course'] + i}\t"
               f"{w.base['patient'] + i}\t{prescriber}\t{dated[first]}\n")  # fmt: skip


AUTHORIZATION_COLUMNS = (
    "id", "number", "course_id", "patient_id", "prescriber_id", "pharmacy_site_id",
    "infusion_site_id", "doses", "doses_given", "status", "valid_from", "valid_until",
    "first_dose_by", "issued_at", "issued_by_id", "ended_at", "ended_by_id", "end_reason",
)  # fmt: skip


def infusions(w: World, columns) -> Iterator[str]:
    c = w.cast
    dated: dict[date, list[str]] = {}
    for i in range(w.count):
        if w.ready(i):
            continue
        doses = w.doses(i)
        if doses[0] not in dated:
            dated[doses[0]] = ["\t".join(text(v) for v in (
                c["site_id"], k + 1, day, True, True, k < 3, True, at(day, 13), at(day, 17),
                at(day, 19), "none", False, None, at(day, 19), c["nurse_id"],
            )) for k, day in enumerate(doses)]  # fmt: skip
        ids = f"{w.base['authorization'] + i}\t{w.base['course'] + i}\t{w.base['patient'] + i}"
        first_id = w.base["infusion"] + 5 * i
        for k, tail in enumerate(dated[doses[0]]):
            yield f"{first_id + k}\t{ids}\t{tail}\n"


DECISION_COLUMNS = (
    "id", "decision_id", "decided_at", "requested_by_id", "pharmacy_site_id", "request",
    "outcome", "reasons", "warnings", "authorization_id", "idempotency_key", "request_sha256",
    "response", "patient_id", "prescriber_id", "receiving_site_id", "patient_rems_id", "acting",
)  # fmt: skip


def decisions(w: World, columns) -> Iterator[str]:
    """The grant (the course's authorization) and, a week later, a denial: doses exceeded."""
    c = w.cast
    assert columns == DECISION_COLUMNS, columns
    by = f"{c['pharmacist_id']}\t{c['pharmacy_id']}"
    for i in range(w.count):
        if w.ready(i):
            continue
        first, (_, _, born) = w.doses(i)[0], w.facts(i)
        shape = w.shapes[w.which(i)]
        rid = rems_id(i)
        request = (f'{{"patient_id":"{rid}","date_of_birth":"{born.isoformat()}",'
                   f'"prescriber_npi":"{shape["npi"]}","infusion_site_id":"{c["site_code"]}",'
                   f'"doses":5}}')  # fmt: skip
        prescriber = shape["patient"]["prescriber_id"]
        tail = f"{w.base['patient'] + i}\t{prescriber}\t{c['site_id']}\t{rid}\t\\N"
        base = w.base["authorization_decision"] + 2 * i
        granted_at = at(first - timedelta(days=1), 9).isoformat()
        denied_at = at(first + timedelta(days=6), 9).isoformat()
        yield (f"{base}\tDS{2 * i:012d}\t{granted_at}\t{by}\t{request}\tauthorized\t[]\t[]\t"
               f"{w.base['authorization'] + i}\t\\N\t\\N\t\\N\t{tail}\n")  # fmt: skip
        yield (f"{base + 1}\tDS{2 * i + 1:012d}\t{denied_at}\t{by}\t{request}\tdenied\t"
               f'[{{"code":"DOSES_EXCEEDED"}}]\t[]\t\\N\t\\N\t\\N\t\\N\t{tail}\n')  # fmt: skip


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
    now = w.cast["now"].isoformat()
    for i in range(w.count):
        changed = now if w.ready(i) else w.enrolled(i).isoformat()
        yield (f"{w.base['status_change'] + i}\tpatient\t{w.base['patient'] + i}\tpending\t"
               f"enrolled\t{changed}\t\\N\t\\N\n")  # fmt: skip


def ready_children(name: str) -> Callable:
    """Baseline tests or acknowledgments of the ready patients: their template's, re-pointed."""
    parent = "course_id" if name == "baseline_test" else "patient_id"

    def generate(w: World, columns) -> Iterator[str]:
        def rows():
            next_id = w.base[name]
            for i in range(0, w.count, READY_EVERY):
                own = w.base["course" if parent == "course_id" else "patient"] + i
                for row in w.shapes[w.which(i)][name]:
                    yield _texts(row), {"id": next_id, parent: own}
                    next_id += 1

        return _rows(columns, rows())

    return generate


AUDIT_COLUMNS = (
    "id", "seq", "occurred_at", "actor_id", "actor_label", "action", "entity_type", "entity_id",
    "old_values", "new_values", "reason", "request_id", "ip", "prev_hash", "row_hash",
)  # fmt: skip


def audit_events(w: World, columns) -> Iterator[str]:
    """The trail's events of the bulk patients, chained after the cast's head (hashed as
    `rems.audit.trail.compute_row_hash` does: the canonical JSON of `row_content`)."""
    import hashlib

    from rems.db import canonical_json

    assert columns == AUDIT_COLUMNS, columns
    seq, prev = w.cast["audit_head"]
    next_id = w.base["audit_event"]
    now = w.cast["now"]
    for i in range(w.count):
        patient = w.base["patient"] + i
        events = [("patient.enrolled", "patient", patient, now)]
        if not w.ready(i):
            first = w.doses(i)[0]
            events = [
                ("patient.enrolled", "patient", patient, w.enrolled(i)),
                ("authorization.granted", "authorization", w.base["authorization"] + i,
                 at(first - timedelta(days=1), 9)),
                ("authorization.denied", "authorization_decision",
                 w.base["authorization_decision"] + 2 * i + 1, at(first + timedelta(days=6), 9)),
            ]  # fmt: skip
        values = f'{{"n":{i}}}'
        for action, entity, entity_id, when in events:
            seq += 1
            occurred = when.isoformat()
            content = {
                "seq": seq, "occurred_at": occurred, "actor_id": None,
                "actor_label": "bench:scale", "action": action, "entity_type": entity,
                "entity_id": str(entity_id), "old_values": None, "new_values": {"n": i},
                "reason": None, "request_id": None, "ip": None, "prev_hash": prev,
            }  # fmt: skip
            row_hash = hashlib.sha256(canonical_json(content).encode()).hexdigest()
            yield (f"{next_id}\t{seq}\t{occurred}\t\\N\tbench:scale\t{action}\t{entity}\t"
                   f"{entity_id}\t\\N\t{values}\t\\N\t\\N\t\\N\t{prev}\t{row_hash}\n")  # fmt: skip
            prev = row_hash
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
    "authorization": AUTHORIZATION_COLUMNS,
    "authorization_decision": DECISION_COLUMNS,
    "audit_event": AUDIT_COLUMNS,
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
