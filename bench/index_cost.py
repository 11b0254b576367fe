"""What an index on a moment column costs the writes it is on: single-row inserts into
`lab_result` (a result entered; each its own transaction, as a result form or one CSV row is)
on a copy of the 100k world, with `ix_lab_result_entered_at` (migration 0030) and without it,
alternating rounds so that both see the same machine:

    python -m bench.index_cost [--rows 5000] [--rounds 6]

Builds the world if needed (`bench.scale`), copies it (`CREATE DATABASE … TEMPLATE`), drops the
copy at the end. Prints each round's µs per insert and the medians' ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid

import psycopg

INDEX, TABLE, COLUMN = "ix_lab_result_entered_at", "lab_result", "entered_at"
COPY = "rems_bench_index_cost"


def _round(connection, rows: int, patients: list[int], user_id: int) -> float:
    """µs per insert of `rows` results, each committed on its own."""
    started = time.perf_counter()
    for n in range(rows):
        with connection.transaction():
            connection.execute(
                "INSERT INTO lab_result (patient_id, test_code, collected_on, value, value_key,"
                " source, entered_at, entered_by_id, amendments) VALUES (%s, 'cbc',"
                " current_date - %s, 'normal', %s, 'csv', now(), %s, 0)",
                (patients[n % len(patients)], n % 700, uuid.uuid4().hex, user_id),
            )
    return (time.perf_counter() - started) / rows * 1e6


def main(argv: list[str]) -> int:
    from bench import scale

    parser = argparse.ArgumentParser(prog="python -m bench.index_cost")
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args(argv)
    world = scale.world_url(100_000).replace("postgresql+psycopg://", "postgresql://")
    admin = world.rsplit("/", 1)[0] + "/postgres"
    source = world.rsplit("/", 1)[1]
    with psycopg.connect(admin, autocommit=True) as server:
        server.execute(f"DROP DATABASE IF EXISTS {COPY}")
        server.execute(f"CREATE DATABASE {COPY} TEMPLATE {source}")
    try:
        with psycopg.connect(world.rsplit("/", 1)[0] + f"/{COPY}", autocommit=True) as db:
            patients = [
                row[0] for row in db.execute("SELECT id FROM patient ORDER BY id LIMIT 5000")
            ]
            user_id = db.execute("SELECT min(id) FROM user_account").fetchone()[0]
            figures: dict[bool, list[float]] = {True: [], False: []}
            indexed = True
            for number in range(args.rounds * 2):
                figures[indexed].append(_round(db, args.rows, patients, user_id))
                print(f"  round {number + 1}: {'with' if indexed else 'without'} the index "
                      f"{figures[indexed][-1]:.1f} µs per insert", flush=True)  # fmt: skip
                if indexed:
                    db.execute(f"DROP INDEX {INDEX}")
                else:
                    db.execute(f"CREATE INDEX {INDEX} ON {TABLE} ({COLUMN})")
                indexed = not indexed
    finally:
        with psycopg.connect(admin, autocommit=True) as server:
            server.execute(f"DROP DATABASE IF EXISTS {COPY}")
    with_index, without = statistics.median(figures[True]), statistics.median(figures[False])
    print(f"index_cost: {INDEX}: {with_index:.1f} µs per insert with it, {without:.1f} without: "
          f"{with_index / without:.3f}× (+{with_index - without:.1f} µs)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
