"""Build the national-volume world into the current PostgreSQL database, with `COPY`.

Run with the app, like the CLI: `DATABASE_URL=… python -m bench.scale_world --patients 1000000`
(the scale scenario does this through `harness.run_module` on a database of its own). Steps:

1. the cast through the real services (`bench.seed.build_cast`: prescribers, sites, guides, one
   template patient each), as every bench seed does;
2. the secondary indexes and unique constraints of the bulk tables are dropped (their definitions
   kept), foreign-key triggers are off for this session (`session_replication_role = replica`:
   the rows are consistent by construction, which `tests/bench/test_scale_world.py` checks);
3. one `COPY … FROM STDIN` per table from the streams of `bench.scale_streams`;
4. the indexes and constraints are created again, the tables a live program appends to laid out
   in the order of their moment (`TIME_ORDERED`), the id sequences moved past the new ids,
   `VACUUM (ANALYZE)` (as autovacuum leaves a live database), and the database is marked
   (`COMMENT ON DATABASE`) with `MARKER` and the size, so a later bench run reuses it instead
   of building it again.

Prints one JSON object on stdout: counts per table and the seconds of each step.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import sqlalchemy as sa

from bench import scale_rows, scale_streams

#: Bumped whenever the world's shape changes, so older worlds are rebuilt.
#: v2: periodic-status rows; v3: item_states; v4: vacuumed; v5: the cast certified before the
#: history; v6: decisions, infusions and results in the order they were written.
MARKER = "rems-scale-world v6"
BULK_TABLES = tuple(name for name, _ in scale_streams.STREAMS)
#: Tables a live program appends to as things happen, so their rows lie on disk in the order of
#: their moment: the streams write them patient by patient, so they are rewritten in that order
#: (CLUSTER) after the load. Else a day's decisions lie on a thousand pages at 1M, not on a few.
TIME_ORDERED = (
    ("authorization_decision", "ix_authorization_decision_decided_at"),
    ("infusion", "ix_infusion_recorded_at"),
    ("lab_result", "ix_lab_result_entered_at"),
)


def _log(message: str) -> None:
    print(f"    scale world: {message}", file=sys.stderr, flush=True)


def marker(patients: int) -> str:
    return f"{MARKER} patients={patients}"


def _secondary_indexes(cursor) -> list[tuple[str, str, str]]:
    """(drop statement, create statement, name) of every non-primary index of the bulk tables."""
    cursor.execute(
        """
        SELECT t.relname, i.relname, pg_get_indexdef(i.oid), c.conname,
               pg_get_constraintdef(c.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        LEFT JOIN pg_constraint c
          ON c.conindid = x.indexrelid AND c.conrelid = t.oid AND c.contype IN ('u', 'x')
        WHERE t.relname = ANY(%s) AND NOT x.indisprimary
        """,
        (list(BULK_TABLES),),
    )
    found = []
    for table, index, index_def, constraint, constraint_def in cursor.fetchall():
        if constraint:
            found.append((f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"',
                          f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {constraint_def}',
                          constraint))  # fmt: skip
        else:
            found.append((f'DROP INDEX "{index}"', index_def, index))
    return found


def _columns(cursor, table: str) -> tuple[str, ...]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    )
    return tuple(row[0] for row in cursor.fetchall())


def _world(connection, cast: dict, args, today) -> scale_rows.World:
    from bench.seed import _template_rows
    from rems.audit.trail import GENESIS_HASH
    from rems.common.clock import utcnow
    from rems.extensions import db
    from rems.monitoring import rules
    from rems.program import DEFAULT_PROGRAM_FILE, load_program

    tables = db.metadata.tables
    shapes = []
    for patient_id, npi in cast["templates"]:
        shape = _template_rows(connection, tables, patient_id)
        shape["patient"].pop("id")
        shape["course"].pop("id")
        shapes.append(shape | {"npi": npi})
    base = {
        name: (connection.scalar(sa.select(sa.func.max(tables[name].c.id))) or 0) + 1
        for name in BULK_TABLES
        if "id" in tables[name].c
    }
    head = connection.execute(sa.text(
        "SELECT seq, row_hash FROM audit_event ORDER BY seq DESC LIMIT 1"
    )).first()  # fmt: skip
    program = load_program(DEFAULT_PROGRAM_FILE)
    cast = cast | {"audit_head": tuple(head) if head else (0, GENESIS_HASH), "now": utcnow()}
    return scale_rows.World(
        count=args.patients - len(shapes), focus=args.focus, today=today, missed=args.missed,
        cast=cast, shapes=shapes, base=base, program=program,
        tests=rules.monitored_tests(program),
    )  # fmt: skip


def load(world: scale_rows.World, raw) -> tuple[dict, dict]:
    """Indexes off, every table copied, indexes on, sequences moved; (counts, seconds)."""
    counts, timings = {}, {}
    with raw.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        cursor.execute("SET statement_timeout = 0")  # the app's limit is for requests
        indexes = _secondary_indexes(cursor)
        for drop, _, _ in indexes:
            cursor.execute(drop)
        for name, stream in scale_streams.STREAMS:
            started = time.perf_counter()
            columns = scale_streams.FIXED_COLUMNS.get(name) or _columns(cursor, name)
            counts[name] = scale_rows.copy_table(cursor, world, name, stream, columns)
            timings[f"copy {name}"] = round(time.perf_counter() - started, 1)
            _log(f"{name}: {counts[name]:,} rows in {timings[f'copy {name}']} s")
        started = time.perf_counter()
        for _, create, _ in indexes:
            cursor.execute(create)
        timings["indexes"] = round(time.perf_counter() - started, 1)
        _log(f"{len(indexes)} indexes and constraints created in {timings['indexes']} s")
        started = time.perf_counter()
        for table, index in TIME_ORDERED:
            cursor.execute(f'CLUSTER "{table}" USING {index}')
        timings["cluster"] = round(time.perf_counter() - started, 1)
        _log(f"{len(TIME_ORDERED)} tables laid out in the order they were written, in "
             f"{timings['cluster']} s")  # fmt: skip
        for name in BULK_TABLES:
            if name not in ("monitoring_status", "patient_status_due"):  # keyed by patient
                sequence = f"pg_get_serial_sequence('\"{name}\"', 'id')"
                cursor.execute(f'SELECT setval({sequence}, (SELECT max(id) FROM "{name}"))')  # noqa: S608
        cursor.execute("SET session_replication_role = DEFAULT")
    raw.commit()
    return counts, timings


def build(patients: int, prescribers: int, focus: int, missed: float) -> tuple[dict, dict]:
    """The world, in the app's database (inside an app context); (rows per table, seconds)."""
    from bench.seed import build_cast
    from bench.seed_monitoring import _cast_ids
    from rems.common.clock import today
    from rems.extensions import db

    started = time.perf_counter()
    cast = build_cast(prescribers, today())
    cast |= _cast_ids(db.session, cast)
    _certified_before_history(db.session)
    db.session.close()
    timings = {"cast": round(time.perf_counter() - started, 1)}
    sizes = argparse.Namespace(patients=patients, focus=focus, missed=missed)
    with db.engine.connect() as connection:
        world = _world(connection, cast, sizes, today())
    raw = db.engine.raw_connection()
    try:
        counts, copied = load(world, raw.driver_connection)
    finally:
        raw.close()
    return counts, timings | copied


def _certified_before_history(session) -> None:
    """The cast was certified today, through the services; the world's authorizations go back
    `HISTORY_DAYS`. Their status histories are moved back before the oldest enrollment, order
    kept, so that every authorization was issued while its prescriber and pharmacy were
    certified, as in a live program (else the assessment's gate proof counts every dose)."""
    days = scale_rows.HISTORY_DAYS + 60
    session.execute(
        sa.text("UPDATE status_change SET changed_at = changed_at - make_interval(days => :days) "
                "WHERE entity_type IN ('prescriber', 'site')"), {"days": days},
    )  # fmt: skip
    session.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_world",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    parser.add_argument("--patients", type=int, required=True, help="patients in all")
    parser.add_argument("--prescribers", type=int, default=4)
    parser.add_argument("--focus", type=int, default=300, help="the first prescriber's patients")
    parser.add_argument("--missed", type=float, default=0.78,
                        help="share of monitoring items without a result")  # fmt: skip
    args = parser.parse_args(argv)
    if args.patients < args.prescribers + args.focus:
        parser.error("--patients must cover the templates and the focus patients")

    from rems import create_app
    from rems.extensions import db

    app = create_app()
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            parser.error("the national-volume world is built on PostgreSQL only")
        counts, timings = build(args.patients, args.prescribers, args.focus, args.missed)
        started = time.perf_counter()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            # VACUUM as well: a live database's tables have been vacuumed by autovacuum, so
            # their visibility maps let a capped count read an index alone; a world fresh from
            # COPY has none, and its counts would visit the heap as no real program's do.
            connection.exec_driver_sql("VACUUM (ANALYZE)")
            name = connection.scalar(sa.text("SELECT current_database()"))
            connection.exec_driver_sql(
                f"COMMENT ON DATABASE \"{name}\" IS '{marker(args.patients)}'"
            )
        timings["analyze"] = round(time.perf_counter() - started, 1)
        db.engine.dispose()
    print(json.dumps({"counts": counts, "timings": timings, "marker": marker(args.patients)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
