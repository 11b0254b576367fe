"""Bulk data for the monitoring benchmark: many treated patients with result histories.

Run with the app, like the CLI: `DATABASE_URL=… python -m bench.seed_monitoring --patients N`.
The cast (prescribers, sites, guides, one template patient each) is built through the real
services by `bench.seed.build_cast`. Then, in bulk with SQLAlchemy Core: every other patient is
a copy of a template with course 1 given — a used authorization and five infusions on
consecutive days, the first dose a random 0 to `--history-months` months ago — and a result
history: each monitoring item due by today has a result collected on or a few days before its
due date, except `--missed` of them (those are overdue or, if recent, due). Each patient's
stored monitoring state is computed with the app's own schedule (`rems.monitoring.rules` and
`services.computed_state`) and inserted with it. `--focus` patients belong to the first
prescriber, whose worklist and patient reads are measured: the same number at every size.

Prints one JSON object on stdout: the first prescriber's username, password and API token,
REMS IDs (with date of birth) of a sample of their patients, the counts and the timings.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from types import SimpleNamespace

import sqlalchemy as sa

from bench.seed import PASSWORD, build_cast
from rems.monitoring.models import duplicate_key

BATCH = 2_000
#: Result histories per first-dose date: patients sharing both share their history's dates.
VARIANTS = 4
TABLES = ("patient", "course", "authorization", "infusion", "lab_result", "monitoring_status",
          "patient_status_due")  # fmt: skip


def _log(message: str) -> None:
    print(f"    seed: {message}", file=sys.stderr, flush=True)


def _tables() -> dict[str, sa.Table]:
    from rems.extensions import db  # the app exists: every model is mapped

    return {name: db.metadata.tables[name] for name in TABLES}


class Bulk:
    """Rows waiting to be inserted, table by table, with ids assigned here."""

    def __init__(self, connection: sa.Connection, tables: dict[str, sa.Table]):
        self.connection, self.tables = connection, tables
        self.rows: dict[str, list[dict]] = {name: [] for name in TABLES}
        self.next_id = {
            name: (connection.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
            for name, table in tables.items()
            if "id" in table.c
        }
        self.counts = dict.fromkeys(TABLES, 0)

    def add(self, name: str, row: dict) -> int | None:
        """Queue a row; its new id (tables with an id)."""
        new_id = self.next_id.get(name)
        if new_id is not None:
            row = row | {"id": new_id}
            self.next_id[name] += 1
        self.rows[name].append(row)
        self.counts[name] += 1
        return new_id

    def flush(self, force: bool = False) -> None:
        """Insert what is queued, parents first."""
        if not force and len(self.rows["lab_result"]) < BATCH * 20:
            return
        for name in TABLES:
            if self.rows[name]:
                self.connection.execute(sa.insert(self.tables[name]), self.rows[name])
                self.rows[name] = []


def treated_copies(connection, cast: dict, count: int, args, rng, today: date) -> list[dict]:
    """`count` treated patients with histories; a sample of the focus prescriber's."""
    from rems.common.identifiers import new_identifier
    from rems.monitoring import rules
    from rems.program import DEFAULT_PROGRAM_FILE, load_program

    program = load_program(DEFAULT_PROGRAM_FILE)
    tests = rules.monitored_tests(program)
    tables = _tables()
    bulk = Bulk(connection, tables)
    shapes = [_shape(connection, tables, patient_id) for patient_id, _ in cast["templates"]]
    focus: list[dict] = []
    histories: dict = {}
    for index in range(count):
        which = 0 if index < args.focus or len(shapes) == 1 else 1 + index % (len(shapes) - 1)
        shape = shapes[which]
        rems_id = new_identifier("P")
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(50 * 365))
        patient_id = bulk.add("patient", shape["patient"] | {
            "rems_id": rems_id, "date_of_birth": born, "first_name": "Mo",
            "last_name": f"Bulk{index:06d}",
        })  # fmt: skip
        first = _first_dose(today, rng, args.history_months)
        doses = tuple(first + timedelta(days=n) for n in range(5))
        _course(bulk, shape, cast, patient_id, doses, new_identifier("A"))
        key = (first, rng.randrange(VARIANTS))
        if key not in histories:
            histories[key] = _history(program, tests, doses, today, random.Random(hash(key)),
                                      args.missed)  # fmt: skip
        results, state, status_row = histories[key]
        for code, day, value in results:
            bulk.add("lab_result", {
                "patient_id": patient_id, "test_code": code, "collected_on": day, "value": value,
                "value_key": duplicate_key(value),
                "unit": "u", "abnormal": False, "source": "csv", "batch_id": None,
                "entered_at": _at(day, 12), "entered_by_id": cast["doctor_user_id"],
                "amendments": 0,
            })  # fmt: skip
        prescriber_id = shape["patient"]["prescriber_id"]
        for code, values in state.items():
            bulk.add("monitoring_status", {"patient_id": patient_id, "test_code": code,
                                           **values, "prescriber_id": prescriber_id})  # fmt: skip
        if status_row is not None:
            ids = {"patient_id": patient_id, "prescriber_id": prescriber_id}
            bulk.add("patient_status_due", status_row | ids)
        if which == 0:
            focus.append({"patient_id": rems_id, "date_of_birth": born.isoformat()})
        bulk.flush()
    bulk.flush(force=True)
    _move_sequences(connection)
    return focus, bulk.counts


def _first_dose(today: date, rng, history_months: int) -> date:
    """A first dose 0 to `history_months` months (and at least 5 days) ago."""
    from rems.program.model import add_months

    months = rng.randrange(history_months + 1)
    return add_months(today, -months) - timedelta(days=5 + rng.randrange(25))


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock_time(hour), tzinfo=UTC)


def _course(bulk: Bulk, shape: dict, cast: dict, patient_id: int, doses, number: str) -> None:
    """Course 1, completed: a used authorization and five infusions."""
    first, last = doses[0], doses[-1]
    course_id = bulk.add("course", shape["course"] | {
        "patient_id": patient_id, "status": "completed", "doses_given": 5, "doses_held": 0,
        "planned_start": first, "first_dose_by": first, "first_dose_on": first,
        "last_dose_on": last,
    })  # fmt: skip
    authorization_id = bulk.add("authorization", {
        "number": number, "course_id": course_id, "patient_id": patient_id,
        "prescriber_id": shape["patient"]["prescriber_id"],
        "pharmacy_site_id": cast["pharmacy_id"], "infusion_site_id": cast["site_id"],
        "doses": 5, "doses_given": 5, "status": "used", "valid_from": first - timedelta(days=1),
        "valid_until": first + timedelta(days=6), "first_dose_by": first,
        "issued_at": _at(first - timedelta(days=1), 9), "issued_by_id": cast["pharmacist_id"],
    })  # fmt: skip
    for number_, day in enumerate(doses, start=1):
        bulk.add("infusion", {
            "authorization_id": authorization_id, "course_id": course_id,
            "patient_id": patient_id, "site_id": cast["site_id"], "dose_number": number_,
            "administered_on": day, "identity_verified": True, "no_active_infection": True,
            "corticosteroid_premedication": number_ <= 3, "antiviral_prophylaxis": True,
            "infusion_started_at": _at(day, 13), "infusion_ended_at": _at(day, 17),
            "observation_ended_at": _at(day, 19), "reaction": "none", "delayed": False,
            "notes": None, "recorded_at": _at(day, 19), "recorded_by_id": cast["nurse_id"],
        })  # fmt: skip


def _history(program, tests, doses, today, rng, missed: float):
    """A result for each item due by today, collected up to 5 days before its due date,
    except a `missed` share; and the stored state the app's schedule computes from them."""
    from rems.monitoring import rules
    from rems.monitoring.services import computed_state
    from rems.monitoring.statuses import state_columns

    results, facts = [], []
    for test in tests:
        for item in rules.items_of_test(test, doses[0], today):
            if rng.random() < missed:
                continue
            day = max(item.window_start, item.due_on - timedelta(days=rng.randrange(6)))
            results.append((test.code, day, f"{rng.uniform(1, 9):.1f}"))
            facts.append(rules.ResultFact(len(facts) + 1, test.code, day))
    schedule = rules.ScheduleFacts(
        tests=tests, months_after_last_dose=program.monitoring.months_after_last_dose,
        doses=doses, results=tuple(facts),
    )  # fmt: skip
    states = program.monitoring_states
    status = rules.MonitoredTest("patient_status", states.status_every_months,
                                 states.status_grace_days, states.due_soon_days)  # fmt: skip
    status_row = state_columns(None, schedule, set(), status)  # no status signed yet
    return results, computed_state(SimpleNamespace(prescriber_id=None), schedule), status_row


def _shape(connection, tables: dict, patient_id: int) -> dict:
    """A template patient's row and its course's, ready to copy."""
    patient = (
        connection.execute(sa.select(tables["patient"]).where(tables["patient"].c.id == patient_id))
        .one()
        ._asdict()
    )
    course = (
        connection.execute(
            sa.select(tables["course"]).where(tables["course"].c.patient_id == patient_id)
        )
        .one()
        ._asdict()
    )
    for row in (patient, course):
        row.pop("id")
    return {"patient": patient, "course": course}


def _move_sequences(connection) -> None:
    """PostgreSQL's id sequences past the ids assigned here."""
    if connection.dialect.name != "postgresql":
        return
    for name in TABLES:
        if name not in ("monitoring_status", "patient_status_due"):
            connection.exec_driver_sql(  # table names from TABLES, no input
                f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608
                f'(SELECT max(id) FROM "{name}"))'
            )


def _cast_ids(session, cast: dict) -> dict:
    """The ids the bulk rows point at, and the first prescriber's sign-in and token."""
    from rems.auth import tokens
    from rems.auth.models import User
    from rems.sites.models import Site

    def user_id(name: str) -> int:
        return session.scalar(sa.select(User.id).where(User.username == name))

    doctor = session.scalar(sa.select(User).where(User.username == "bench-dr-0"))
    _, token = tokens.issue_token(session, owner=doctor, name="bench-monitoring", actor=doctor)

    def site_id(code: str) -> int:
        return session.scalar(sa.select(Site.id).where(Site.site_code == code))

    ids = {
        "pharmacy_id": site_id(cast["pharmacy_code"]), "site_id": site_id(cast["site_code"]),
        "pharmacist_id": user_id("bench-site-staff-1"), "nurse_id": user_id("bench-site-staff-2"),
        "doctor_user_id": doctor.id, "doctor_token": token,
    }  # fmt: skip
    session.commit()
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed_monitoring", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--patients", type=int, required=True, help="patients in all")
    parser.add_argument("--prescribers", type=int, default=4)
    parser.add_argument("--focus", type=int, default=300, help="the first prescriber's patients")
    parser.add_argument("--sample", type=int, default=200, help="their patients to read")
    parser.add_argument("--history-months", type=int, default=24, help="first dose at most …")
    parser.add_argument("--missed", type=float, default=0.05, help="share of items missed")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.patients < args.prescribers + args.focus or args.sample > args.focus:
        parser.error("--patients must cover the templates and the focus patients")

    from rems import create_app
    from rems.common.clock import today
    from rems.extensions import db

    rng = random.Random(args.seed)
    app = create_app()
    timings = {}
    with app.app_context():
        started = time.perf_counter()
        cast = build_cast(args.prescribers, today())
        cast |= _cast_ids(db.session, cast)
        db.session.close()
        timings["cast_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        with db.engine.begin() as connection:
            count = args.patients - len(cast["templates"])
            focus, counts = treated_copies(connection, cast, count, args, rng, today())
        timings["bulk_s"] = round(time.perf_counter() - started, 2)
        _log(f"{count} treated patients with histories in {timings['bulk_s']} s: {counts}")
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        db.engine.dispose()
    print(json.dumps({
        "username": "bench-dr-0", "password": PASSWORD, "token": cast["doctor_token"],
        "patients": rng.sample(focus, args.sample), "focus": focus, "counts": counts,
        "timings": timings,
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
