"""The first prescriber's monitoring digest, timed in the app's process: their overdue items
and those falling due this week read from the stored state (`candidates` for one prescriber),
checked against what earlier digests told (`new_reminders`) and written out as text
(`digest_text`); nothing is queued (rolled back). The floor is a `SELECT 1` on the same
session, timed the same way in the same run.

Run with the app: `DATABASE_URL=… python -m bench.monitoring_digest`. Prints one JSON object:
the median seconds of the digest and of the floor, and what the digest held."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import sqlalchemy as sa


def _median(work, repeat: int) -> float:
    """The median seconds of `repeat` calls of `work`."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.monitoring_digest")
    parser.add_argument("--username", default="bench-dr-0")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args(argv)
    from rems import create_app
    from rems.auth.models import User
    from rems.common.localtime import program_today
    from rems.extensions import db
    from rems.prescribers.models import Prescriber
    from rems.reminders.services import candidates, digest_text, new_reminders

    app = create_app()
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.username == args.username))
        prescriber_id = db.session.scalar(
            sa.select(Prescriber.id).where(Prescriber.user_id == user.id)
        )
        today = program_today()
        held = {}

        def digest() -> None:
            found = [r for _, rs in candidates(db.session, today, prescriber_id) for r in rs]
            fresh = new_reminders(db.session, found)
            text = digest_text(fresh, today)
            held.update(items=len(found), patients=len({r.patient_id for r in found}),
                        chars=len(text))  # fmt: skip
            db.session.rollback()

        def floor() -> None:
            db.session.execute(sa.text("SELECT 1"))
            db.session.rollback()

        digest()  # warm: the program file, the statements
        floor_s, digest_s = _median(floor, args.repeat), _median(digest, args.repeat)
    json.dump({"digest_s": digest_s, "floor_s": floor_s, **held}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
