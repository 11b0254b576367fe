"""The national-volume world's tables, one stream of `COPY` text lines each.

Every stream computes patient i's rows from i alone (see `bench.scale_rows`): ids are
arithmetic on i, dates come from `World.facts`, and what many patients share (a template's
columns, a dose date's infusions, a history) is turned into text once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from bench.scale_rows import (
    READY_EVERY,
    STATUS_COLUMNS,
    STATUS_DUE_COLUMNS,
    World,
    at,
    rems_id,
    rows_of,
    text,
    texts_of,
)  # fmt: skip

# --- One generator per table -------------------------------------------------------------------


def patients(w: World, columns) -> Iterator[str]:
    shared = [texts_of(shape["patient"]) for shape in w.shapes]

    def rows():
        for i in range(w.count):
            _, _, born = w.facts(i)
            own = {"id": w.base["patient"] + i, "rems_id": rems_id(i), "date_of_birth": born,
                   "first_name": "Mo", "last_name": f"Scale{i:07d}"}  # fmt: skip
            if not w.ready(i):
                own["enrolled_at"] = own["created_at"] = w.enrolled(i)
            yield shared[w.which(i)], own

    return rows_of(columns, rows())


def courses(w: World, columns) -> Iterator[str]:
    shared = [texts_of(shape["course"]) for shape in w.shapes]
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

    return rows_of(columns, rows())


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


def status_dues(w: World, columns) -> Iterator[str]:
    """Each treated patient's periodic-status row, as the app stores it."""
    for i in range(w.count):
        if w.ready(i) or (tail := w.history(i)[2]) is None:
            continue
        prescriber = w.shapes[w.which(i)]["patient"]["prescriber_id"]
        yield f"{w.base['patient'] + i}\t{prescriber}\t{tail}\n"


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
                    yield texts_of(row), {"id": next_id, parent: own}
                    next_id += 1

        return rows_of(columns, rows())

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
    ("patient_status_due", status_dues),
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
    "patient_status_due": STATUS_DUE_COLUMNS,
    "authorization": AUTHORIZATION_COLUMNS,
    "authorization_decision": DECISION_COLUMNS,
    "audit_event": AUDIT_COLUMNS,
    "status_change": (
        "id", "entity_type", "entity_id", "from_status", "to_status", "changed_at",
        "changed_by_id", "reason",
    ),
}  # fmt: skip
