"""Bulk data for the gate benchmark: a database with many enrolled patients, fast.

Run with the app, like the CLI: `DATABASE_URL=… python -m bench.seed --patients 100000` (the bench
does this through `harness.run_module`, with the server's environment). Two stages:

1. **The cast, through the real services** (what `flask rems demo` does): an administrator;
   `--prescribers` prescribers, each enrolled, assessed, signed, submitted and certified; the
   current Medication Guide and Patient Guide published; a certified pharmacy and a certified
   infusion site, each with a staff account; then one *template* patient per prescriber,
   prepared, signed in clinic (acknowledging the current guides), enrolled by the prescriber and
   given an authorized first course with fresh baseline tests. Everything audited, as in life.
2. **The rest, in bulk**: each remaining patient is a copy of its prescriber's template with a
   new REMS ID (`new_identifier("P")`, so valid and unguessable), name and date of birth, written
   with SQLAlchemy Core `insert()` executemany in batches, together with its course (authorized,
   same fresh baseline and future `first_dose_by`), the course's baseline-test rows and the
   acknowledgments of the current guide versions. Primary keys are assigned here, so children
   reference parents without a round trip; PostgreSQL's id sequences are moved past them after.
   The copies share their template's signature rows (patient, prescriber, course form) and have
   no audit events or status history: nothing the gate reads. PostgreSQL is then ANALYZEd, as
   autovacuum would do shortly after such a load; SQLite is left as the app leaves it.

Finally it prints one JSON object on stdout: the pharmacy's API token, the receiving site's code,
the timings, and two disjoint random samples of the patients (REMS ID, date of birth, prescriber
NPI): `targets` for the decision load and `readers` for the grants the read load fetches.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta

import sqlalchemy as sa

PASSWORD = "bench-seed-password-2026"  # noqa: S105  (bench accounts on a throwaway database)
BATCH = 5_000
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Dev", "Eva", "Finn", "Grace", "Hugo", "Iris", "Jon")


def _log(message: str) -> None:
    print(f"    seed: {message}", file=sys.stderr, flush=True)


# --- Stage 1: the cast, through the services -------------------------------------------------


def build_cast(prescribers: int, today: date) -> dict:
    """Parties, guides and one enrolled patient with an authorized course per prescriber."""
    from flask import current_app

    from rems.auth import tokens, users
    from rems.auth.models import Role
    from rems.certification.services import decide_submission
    from rems.common.identifiers import ncpdp_check_digit, npi_check_digit
    from rems.common.transactions import writing
    from rems.courses.services import authorize_course, baseline_needs
    from rems.documents.services import publish_version
    from rems.extensions import db
    from rems.patients import services as patients
    from rems.prescribers import services as prescriber_services
    from rems.sites import services as sites

    program = current_app.extensions["rems_program"]
    session = db.session

    def npi(serial: int) -> str:
        nine = f"18{serial:07d}"
        return nine + npi_check_digit(nine)

    def user(username: str, role: Role, **extra):
        return users.create_user(
            session, actor=None, actor_label="bench:seed", username=username,
            email=f"{username}@bench.rems.example", full_name=f"Bench {username.title()}",
            role=role, password=PASSWORD, **extra,
        )  # fmt: skip

    def site(number: int, name: str, *, dispenses: bool, infuses: bool, admin):
        rep = user(f"bench-site-rep-{number}", Role.SITE_STAFF, is_authorized_representative=True)
        six = f"77{number:04d}"
        record = sites.register_site(session, rep, {
            "name": name, "dispenses": dispenses, "infuses": infuses, "npi": npi(500 + number),
            "ncpdp_id": six + ncpdp_check_digit(six) if dispenses else None,
            "address_line1": f"{100 + number} Bench Street", "city": "Boston", "state": "MA",
            "postal_code": "02115", "phone": f"(617) 555-03{10 + number:02d}",
        })  # fmt: skip
        required = program.site_attestations(dispenses, infuses)
        submission = sites.submit_site_enrollment(
            session, record, rep, password=PASSWORD, today=today,
            attested=[a.id for a in required],
        )  # fmt: skip
        decide_submission(session, submission, certify=True, actor=admin, today=today)
        staff = sites.add_staff(
            session, record, rep, username=f"bench-site-staff-{number}",
            full_name=f"Bench Staff {number}", email=f"staff{number}@bench.rems.example",
            password=PASSWORD,
        )  # fmt: skip
        return record, staff

    with writing():
        admin = user("bench-admin", Role.ADMIN)
        for code in ("medication_guide", "patient_guide"):
            publish_version(
                session, admin, document_code=code, label="bench-1",
                effective_on=today - timedelta(days=30), filename=f"{code}.txt",
                content=f"{code}: bench text".encode(),
            )  # fmt: skip
        doctors = []
        questions = program.assessment.questions
        for number in range(prescribers):
            account = user(f"bench-dr-{number}", Role.PRESCRIBER)
            record = prescriber_services.save_enrollment_form(session, account, {
                "first_name": "Bench", "last_name": f"Doctor{number}", "credentials": "MD",
                "specialty": "Neurology", "npi": npi(100 + number),
                "license_number": f"MD-{300100 + number}", "license_state": "MA",
                "practice_name": "Bench Neurology", "address_line1": f"{number + 1} Bench Road",
                "city": "Boston", "state": "MA", "postal_code": "02114",
                "phone": f"(617) 555-04{10 + number:02d}", "email": account.email,
            }, today=today)  # fmt: skip
            prescriber_services.record_assessment(
                session, record, account, order=[q.id for q in questions],
                answers={q.id: q.answer for q in questions}, started_at=record.created_at,
            )  # fmt: skip
            submission = prescriber_services.submit_enrollment(
                session, record, account, password=PASSWORD, today=today,
                attested=[a.id for a in program.attestations.prescriber],
            )  # fmt: skip
            decide_submission(session, submission, certify=True, actor=admin, today=today)
            doctors.append((account, record))
        pharmacy, pharmacist = site(1, "Bench Pharmacy", dispenses=True, infuses=False, admin=admin)
        infusion, _ = site(2, "Bench Infusion Center", dispenses=False, infuses=True, admin=admin)

        templates = []
        collected = today - timedelta(days=2)  # first_dose_by = today + 28: fresh for weeks
        for number, (account, record) in enumerate(doctors):
            patient = patients.prepare_enrollment(session, account, record, {
                "first_name": "Tess", "last_name": f"Template{number}",
                "date_of_birth": date(1980, 1, 1) + timedelta(days=97 * number),
                "sex": "female", "can_become_pregnant": False, "city": "Boston", "state": "MA",
            }, today=today)  # fmt: skip
            patients.record_patient_signature(
                session, patient, account, typed_name=patient.name, method="in_person",
                attested=[a.id for a in program.patient_attestations(False)], today=today,
            )  # fmt: skip
            patients.sign_enrollment(session, patient, account, password=PASSWORD, today=today)
            authorize_course(
                session, patient, account, password=PASSWORD,
                planned_start=today + timedelta(days=3),
                baseline={need.code: collected for need in baseline_needs(1)},
                attested=[a.id for a in program.attestations.course], today=today,
            )  # fmt: skip
            templates.append((patient.id, record.npi))
        _, token = tokens.issue_token(session, owner=pharmacist, name="bench", actor=pharmacist)
        cast = {
            "token": token,
            "site_code": infusion.site_code,
            "pharmacy_code": pharmacy.site_code,
            "templates": templates,
        }
        session.commit()
    session.close()  # outside a request every SQLite transaction is BEGIN IMMEDIATE: end it
    return cast


# --- Stage 3: one chained audit event per bulk patient, for the audit-trail CSV -----------


def bulk_audit(connection: sa.Connection, made: list) -> int:
    """A `patient.enrolled` event per bulk patient, appended to the chain (hashes computed as
    the trail does), inserted in batches: the trail then holds ~one event per patient."""
    from types import SimpleNamespace

    from rems.audit.models import AuditEvent
    from rems.audit.trail import GENESIS_HASH, compute_row_hash
    from rems.common.clock import utcnow

    table = AuditEvent.__table__
    head = connection.execute(
        sa.select(table.c.seq, table.c.row_hash).order_by(table.c.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (head.seq, head.row_hash) if head else (0, GENESIS_HASH)
    at, rows = utcnow(), []
    for rems_id, _, _, patient_id in made:
        seq += 1
        row = SimpleNamespace(
            seq=seq, occurred_at=at, actor_id=None, actor_label="bench:seed",
            action="patient.enrolled", entity_type="patient", entity_id=str(patient_id),
            old_values={"status": "pending"}, new_values={"rems_id": rems_id, "status": "enrolled"},
            reason=None, request_id=None, ip=None, prev_hash=prev_hash,
        )  # fmt: skip
        row.row_hash = prev_hash = compute_row_hash(row)
        rows.append(vars(row))
        if len(rows) >= BATCH:
            connection.execute(sa.insert(table), rows)
            rows = []
    if rows:
        connection.execute(sa.insert(table), rows)
    return len(made)


# --- Stage 2: the rest, in bulk ---------------------------------------------------------------


def bulk_patients(connection: sa.Connection, templates: list[tuple[int, str]], count: int, rng):
    """`count` copies of the templates (round robin), each with its course, baseline rows and
    acknowledgments; returns (rems_id, date_of_birth, npi, id) of every copy."""
    from rems.common.identifiers import new_identifier
    from rems.courses.models import BaselineTest, Course
    from rems.documents.models import Acknowledgment
    from rems.patients.models import Patient

    tables = {
        "patient": Patient.__table__,
        "course": Course.__table__,
        "baseline_test": BaselineTest.__table__,
        "acknowledgment": Acknowledgment.__table__,
    }
    shapes = [_template_rows(connection, tables, patient_id) for patient_id, _ in templates]
    next_id = {
        name: (connection.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
        for name, table in tables.items()
    }
    seen = set(connection.scalars(sa.select(tables["patient"].c.rems_id)))
    made: list[tuple[str, str, str]] = []
    rows: dict[str, list[dict]] = {name: [] for name in tables}

    def flush() -> None:
        for name in ("patient", "course", "baseline_test", "acknowledgment"):
            if rows[name]:
                connection.execute(sa.insert(tables[name]), rows[name])
                rows[name] = []

    for index in range(count):
        shape = shapes[index % len(shapes)]
        npi = templates[index % len(templates)][1]
        rems_id = new_identifier("P")
        while rems_id in seen:
            rems_id = new_identifier("P")
        seen.add(rems_id)
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(50 * 365))
        patient_id, course_id = next_id["patient"], next_id["course"]
        next_id["patient"] += 1
        next_id["course"] += 1
        rows["patient"].append(shape["patient"] | {
            "id": patient_id, "rems_id": rems_id, "date_of_birth": born,
            "first_name": FIRST_NAMES[index % len(FIRST_NAMES)], "last_name": f"Bulk{index:06d}",
        })  # fmt: skip
        rows["course"].append(shape["course"] | {"id": course_id, "patient_id": patient_id})
        for row in shape["baseline_test"]:
            rows["baseline_test"].append(
                row | {"id": next_id["baseline_test"], "course_id": course_id}
            )
            next_id["baseline_test"] += 1
        for row in shape["acknowledgment"]:
            rows["acknowledgment"].append(
                row | {"id": next_id["acknowledgment"], "patient_id": patient_id}
            )
            next_id["acknowledgment"] += 1
        made.append((rems_id, born.isoformat(), npi, patient_id))
        if len(rows["patient"]) >= BATCH:
            flush()
    flush()
    if connection.dialect.name == "postgresql":
        for name in tables:
            connection.exec_driver_sql(  # the four table names above, no input
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {name}))"
            )
    return made


def _template_rows(connection: sa.Connection, tables: dict, patient_id: int) -> dict:
    """The template patient's rows, as dicts ready to copy (ids are replaced per copy)."""
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
    baseline = connection.execute(
        sa.select(tables["baseline_test"]).where(
            tables["baseline_test"].c.course_id == course["id"]
        )
    ).all()
    acks = connection.execute(
        sa.select(tables["acknowledgment"]).where(
            tables["acknowledgment"].c.patient_id == patient_id
        )
    ).all()
    return {
        "patient": patient,
        "course": course,
        "baseline_test": [row._asdict() for row in baseline],
        "acknowledgment": [row._asdict() for row in acks],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--patients", type=int, required=True, help="enrolled patients in all")
    parser.add_argument("--prescribers", type=int, default=4)
    parser.add_argument("--targets", type=int, default=600, help="patients sampled for decisions")
    parser.add_argument("--readers", type=int, default=200, help="patients sampled for reads")
    parser.add_argument("--seed", type=int, default=2026, help="random seed of names and samples")
    args = parser.parse_args(argv)
    if args.patients < args.prescribers or args.targets + args.readers > args.patients:
        parser.error("--patients must cover the prescribers' templates and both samples")

    from rems import create_app
    from rems.common.clock import today
    from rems.extensions import db

    rng = random.Random(args.seed)
    app = create_app()
    timings = {}
    with app.app_context():
        started = time.perf_counter()
        cast = build_cast(args.prescribers, today())
        timings["cast_s"] = round(time.perf_counter() - started, 2)
        _log(f"cast built through the services in {timings['cast_s']} s")
        started = time.perf_counter()
        templates = cast.pop("templates")
        with db.engine.begin() as connection:
            made = bulk_patients(connection, templates, args.patients - len(templates), rng)
            bulk_audit(connection, made)
        timings["bulk_s"] = round(time.perf_counter() - started, 2)
        _log(f"{len(made)} patients (+ courses, baseline tests, acknowledgments) bulk-inserted "
             f"in {timings['bulk_s']} s")  # fmt: skip
        if db.engine.dialect.name == "postgresql":
            started = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE")
            timings["analyze_s"] = round(time.perf_counter() - started, 2)
        with db.engine.connect() as connection:
            counts = {
                name: connection.scalar(sa.text(f"SELECT count(*) FROM {name}"))  # noqa: S608
                for name in ("patient", "course", "baseline_test", "acknowledgment", "audit_event")
            }
        db.engine.dispose()
    sample = rng.sample(made, args.targets + args.readers)
    pick = [
        {"patient_id": p, "date_of_birth": born, "prescriber_npi": npi}
        for p, born, npi, _ in sample
    ]
    print(json.dumps({
        **cast, "counts": counts, "timings": timings, "password": PASSWORD,
        "search": _search_name(made),
        "targets": pick[: args.targets], "readers": pick[args.targets :],
    }))  # fmt: skip
    return 0


def _search_name(made: list) -> str:
    """The last name of a bulk patient of the first prescriber (`bench-dr-0`), for the search."""
    index = (len(made) // 2) - (len(made) // 2) % 4  # copies go round robin: index % 4 == 0
    return f"Bulk{index:06d}"


if __name__ == "__main__":
    sys.exit(main())
