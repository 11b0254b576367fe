"""The reports benchmark: a report's streamed export at two database sizes (peak memory and
first byte), and the REMS assessment's render time, on PostgreSQL.

    .venv/bin/python -m bench.reports                      # 10,000 and 100,000 patients
    .venv/bin/python -m bench.reports --sizes 2000,20000 --report enrollments

For each size: a fresh database `rems_bench_reports` (dropped and made again), migrated, then
seeded by `bench.seed` (the cast through the services, the patients in bulk) plus each bulk
patient's status history row. Each measurement then runs in a fresh Python process, so its peak
resident memory (VmHWM) is its own: an auditor signs in, one small export warms everything up
and gives the baseline, then the full export is read chunk by chunk; the first chunk's time is
the first byte. The assessment is rendered three times over a period covering all data; the
median counts. Targets (issue 10): peak memory at the larger size within 1.2x of the smaller,
first byte under 1 s, the assessment at 100,000 patients under 5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import sqlalchemy as sa

ADMIN_URL = os.environ.get(
    "REMS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
DATABASE = "rems_bench_reports"
PASSWORD = "bench-reports-password-2026"  # noqa: S105  (a throwaway database)
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _env() -> dict[str, str]:
    """The app's environment for the bench database, with cheap password hashing."""
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{DATABASE}"
    return os.environ | {
        "DATABASE_URL": url, "REMS_ENV": "development", "REMS_ARGON2_TIME_COST": "1",
        "REMS_ARGON2_MEMORY_KIB": "8192", "SECRET_KEY": "bench-reports",
    }  # fmt: skip


def _run(*args: str) -> str:
    """A step in a subprocess with the bench database's environment; its stdout."""
    done = subprocess.run(
        [sys.executable, *args], env=_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"bench step failed: {' '.join(args)}")
    return done.stdout


def fresh_database() -> None:
    """Drop and create the bench database, then migrate it."""
    engine = sa.create_engine(ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1),
                              isolation_level="AUTOCOMMIT")  # fmt: skip
    with engine.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.exec_driver_sql(f"CREATE DATABASE {DATABASE}")
    engine.dispose()
    _run("-m", "flask", "--app", "wsgi", "db", "upgrade")


def seed(patients: int) -> None:
    """bench.seed's data plus the bulk patients' status history (they are enrolled)."""
    _run("-m", "bench.seed", "--patients", str(patients), "--targets", "1", "--readers", "1")
    _run("-m", "bench.reports", "history")


def add_history() -> None:
    """One 'enrolled' status history row for every patient that has none, and each patient's
    stored monitoring state per monitored test (first dose 100 to 400 days ago, so a share is
    overdue), as doses would have left it."""
    from rems import create_app
    from rems.extensions import db

    app = create_app()
    tests = app.extensions["rems_program"].monitored_tests()
    with app.app_context(), db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO status_change (entity_type, entity_id, from_status, to_status, "
            "changed_at) SELECT 'patient', p.id, 'pending', 'enrolled', p.created_at "
            "FROM patient p WHERE NOT EXISTS (SELECT 1 FROM status_change s "
            "WHERE s.entity_type = 'patient' AND s.entity_id = p.id)"
        )
        for test in tests:
            every, grace = test.monitoring.every_months, test.monitoring.grace_days
            connection.execute(sa.text(MONITORING_STATE), {
                "code": test.code, "every": every, "grace": grace,
            })  # fmt: skip
        connection.exec_driver_sql("ANALYZE")


#: One stored monitoring state row per patient for a test (PostgreSQL date arithmetic).
MONITORING_STATE = """
INSERT INTO monitoring_status (patient_id, test_code, prescriber_id, anchor_on, ends_on, next_k,
    next_due_on, next_window_start, overdue_after, open_items, satisfied, waived, closed,
    items_total)
SELECT p.id, :code, p.prescriber_id, a.anchor, (a.anchor + interval '48 months')::date, 1,
    (a.anchor + make_interval(months => :every))::date, a.anchor + 1,
    (a.anchor + make_interval(months => :every))::date + :grace,
    '1-' || (48 / :every)::text, 0, 0, 0, 48 / :every
FROM patient p
CROSS JOIN LATERAL (SELECT (current_date - 100 - (p.id % 300))::date AS anchor) a
"""


def _peak_kib() -> int:
    """This process's peak resident memory so far (VmHWM), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(row for row in status if row.startswith("VmHWM:"))
    return int(line.split()[1])


def _signed_in_client(app):
    """A test client signed in as a new auditor."""
    from rems.auth import users
    from rems.auth.models import Role
    from rems.common.transactions import writing
    from rems.extensions import db

    with app.app_context(), writing():
        name = f"bench-auditor-{time.time_ns()}"
        users.create_user(db.session, actor=None, actor_label="bench", username=name,
                          email=f"{name}@bench.example", full_name="Bench Auditor",
                          role=Role.AUDITOR, password=PASSWORD)  # fmt: skip
        db.session.commit()
    client = app.test_client()
    token = CSRF_RE.search(client.get("/sign-in").get_data(as_text=True)).group(1)
    client.post("/sign-in", data={"username": name, "password": PASSWORD, "csrf_token": token})
    return client


def measure_export(report: str) -> dict:
    """Warm up with a tiny export, then stream the whole report; memory and first byte."""
    from rems import create_app

    app = create_app()
    client = _signed_in_client(app)
    period = {"from": "2020-01-01", "to": "2029-01-01"}  # for reports with a period
    small = client.get(f"/reports/{report}/export", query_string=period | {"state": "WY"})
    assert small.status_code == 200, small.status_code
    baseline = _peak_kib()
    started = time.perf_counter()
    response = client.get(f"/reports/{report}/export", query_string=period, buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    first_byte = time.perf_counter() - started
    size = len(first) + sum(len(chunk) for chunk in chunks)
    response.close()
    return {
        "first_byte_s": round(first_byte, 3), "total_s": round(time.perf_counter() - started, 2),
        "bytes": size, "baseline_kib": baseline, "peak_kib": _peak_kib(),
    }  # fmt: skip


def measure_assessment() -> dict:
    """Render the assessment three times; the median and every run."""
    from rems import create_app

    app = create_app()
    client = _signed_in_client(app)
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        page = client.get("/reports/assessment", query_string={"from": "2020-01-01",
                                                               "to": "2026-12-31"})  # fmt: skip
        assert page.status_code == 200, page.status_code
        runs.append(round(time.perf_counter() - started, 2))
    return {"median_s": statistics.median(runs), "runs_s": runs}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("step", nargs="?", default="all", choices=["all", "history",
                        "export", "assessment"])  # fmt: skip
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--report", default="monitoring")
    args = parser.parse_args(argv)
    if args.step == "history":
        add_history()
        return 0
    if args.step == "export":
        print(json.dumps(measure_export(args.report)))
        return 0
    if args.step == "assessment":
        print(json.dumps(measure_assessment()))
        return 0
    return _all(args)


def _all(args) -> int:
    """Seed each size, measure, print the table; non-zero when a target is missed."""
    results = {}
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        print(f"seeding {size:,} patients …", file=sys.stderr, flush=True)
        fresh_database()
        seed(size)
        results[size] = json.loads(_run("-m", "bench.reports", "export", "--report", args.report))
        if size == max(sizes):
            results[size] |= json.loads(_run("-m", "bench.reports", "assessment"))
    return _table(args.report, sizes, results)


def _table(report: str, sizes: list[int], results: dict) -> int:
    """Print the figures and the targets; 1 when one is missed."""
    small, large = results[min(sizes)], results[max(sizes)]
    ratio = large["peak_kib"] / small["peak_kib"]
    growth = (large["peak_kib"] - large["baseline_kib"]) / 1024
    print(f"report export ({report}), PostgreSQL")
    for size in sizes:
        r = results[size]
        print(
            f"  {size:>7,} patients: first byte {r['first_byte_s']:.3f} s, all "
            f"{r['bytes'] / 1e6:.1f} MB in {r['total_s']} s, peak RSS "
            f"{r['peak_kib'] / 1024:.0f} MiB (after warm-up {r['baseline_kib'] / 1024:.0f} MiB)"
        )
    checks = {
        f"peak memory {ratio:.2f}x of the smaller (target <= 1.2x; growth during the large "
        f"export {growth:.1f} MiB)": ratio <= 1.2,
        f"first byte {large['first_byte_s']:.3f} s (target < 1 s)": large["first_byte_s"] < 1,
        f"assessment at {max(sizes):,} patients: median {large['median_s']} s of "
        f"{large['runs_s']} (target < 5 s)": large["median_s"] < 5,
    }  # fmt: skip
    for text, ok in checks.items():
        print(f"  {'ok  ' if ok else 'MISS'} {text}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
