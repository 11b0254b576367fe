"""The 1,000-row results batch, timed in the app's process: one CSV for 250 of the first
prescriber's patients × 4 tests, previewed then stored (checked whole, stored, each result
audited, each patient's monitoring state refreshed, committed), `--repeat` times.

Run with the app: `DATABASE_URL=… python -m bench.monitoring_batch --sample FILE`, FILE being a
JSON list of {"patient_id", "date_of_birth"}. Prints one JSON object: each run's seconds."""

from __future__ import annotations

import argparse
import json
import sys
import time

import sqlalchemy as sa

TESTS = ("cbc", "creatinine", "urinalysis", "tsh")
#: Makes every run's values new, so nothing is a duplicate of an earlier run.
STAMP = time.time_ns() % 1_000_000


def csv_for(patients: list[dict], day: str, run: int) -> bytes:
    """One row per patient and test, every value distinct from the other runs'."""
    lines = ["patient_id,date_of_birth,test,collected_on,value,unit,abnormal"]
    for number, patient in enumerate(patients):
        for test in TESTS:
            value = f"{STAMP}.{run}.{number}"
            lines.append(
                f"{patient['patient_id']},{patient['date_of_birth']},{test},{day},{value},u,no"
            )
    return ("\r\n".join(lines) + "\r\n").encode()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.monitoring_batch")
    parser.add_argument("--sample", required=True, help="JSON file of the patients to use")
    parser.add_argument("--username", default="bench-dr-0")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with open(args.sample) as file:
        patients = json.load(file)[:250]

    from rems import create_app
    from rems.auth.models import User
    from rems.common.clock import today
    from rems.common.transactions import writing
    from rems.extensions import db
    from rems.monitoring.upload import check_upload

    app = create_app()
    runs = []
    with app.app_context():
        day = today().isoformat()
        for run in range(args.repeat):
            content = csv_for(patients, day, run)
            with writing():
                actor = db.session.scalar(sa.select(User).where(User.username == args.username))
                started, cpu = time.perf_counter(), time.process_time()
                planned = check_upload(db.session, actor, content, None, today=today())
                previewed, cpu_previewed = time.perf_counter(), time.process_time()
                recorded = check_upload(db.session, actor, content, None, today=today(), store=True)
                db.session.commit()
                stored, cpu_stored = time.perf_counter(), time.process_time()
            db.session.remove()
            runs.append({
                "rows": len(planned), "stored": len(recorded.stored),
                "preview_s": round(previewed - started, 3), "store_s": round(stored - previewed, 3),
                "preview_cpu_s": round(cpu_previewed - cpu, 3),
                "store_cpu_s": round(cpu_stored - cpu_previewed, 3),
            })  # fmt: skip
        db.engine.dispose()
    print(json.dumps({"runs": runs}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
