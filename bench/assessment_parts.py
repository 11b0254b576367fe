"""Time the REMS assessment's slow parts one by one, for the last 365 days, in the app's
context (its environment: DATABASE_URL, SECRET_KEY, REMS_ENV; long statements need
REMS_DB_STATEMENT_TIMEOUT_SECONDS=0):

    python -m bench.assessment_parts monitoring denial_resolution gate_proof

Prints each part's wall and CPU seconds (this process only; the database's own time shows in
wall) and the monitoring totals, so two runs' figures can be compared. `--rules` counts the
monitoring items with the schedule's items (`rules.resolve` per patient, as before the fast
path) to time the two on the same world.
"""

from __future__ import annotations

import resource
import sys
import time
from datetime import UTC, datetime, timedelta

PARTS = ("monitoring", "denial_resolution", "gate_proof")


def main(args: list[str]) -> int:
    from rems import create_app
    from rems.common.programday import day_of
    from rems.extensions import db
    from rems.reports import assessment_monitoring as monitoring
    from rems.reports import assessment_period as period
    from rems.reports import gateproof

    asked = [a for a in args if a in PARTS]
    if not asked or len(asked) + ("--rules" in args) != len(args):
        sys.exit(f"usage: python -m bench.assessment_parts [--rules] {' '.join(PARTS)}")
    if "--rules" in args:
        monitoring.count_items = _by_rules(monitoring)
    with create_app().app_context():
        date_to = day_of(datetime.now(UTC))
        date_from = date_to - timedelta(days=364)
        work = {"monitoring": monitoring.monitoring, "denial_resolution": period.denial_resolution,
                "gate_proof": gateproof.prove}  # fmt: skip
        for part in asked:
            wall, cpu = time.perf_counter(), time.process_time()
            found = work[part](db.session, date_from, date_to)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(f"{part}: wall {wall:.1f} s, CPU {cpu:.1f} s", flush=True)
            if part == "monitoring":
                print(f"  total {found['total']}", flush=True)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MiB")
    return 0


def _by_rules(monitoring):
    """count_items by the schedule's items, as the assessment counted before."""

    def count(facts, date_from, date_to, by_test, by_month):
        items = monitoring.rules.resolve(facts)
        monitoring._count_items(items, date_from, date_to, by_test, by_month)

    return count


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
