"""The scale scenario's batch measurements: CLI jobs and exports with time and peak memory, and
the REMS assessment in a process of its own (`python -m bench.scale_jobs assessment`).

A job is the real CLI (`flask --app wsgi rems …`) in a child process: its wall time, its peak
resident memory (`ru_maxrss` from `wait4`, the child's own, not the bench's) and how many
progress lines it wrote (`... 10,000 of 100,000 patients` on stderr).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from bench import harness

#: A job slower than this is stopped and reported as such: the issue's target is 10 minutes.
JOB_LIMIT_S = 600.0
#: Long CLI jobs run without the per-statement limit meant for requests (docs/operations.md).
NO_TIMEOUT = {"REMS_DB_STATEMENT_TIMEOUT_SECONDS": "0"}
EXPORTED_RE = re.compile(r"Exported (\d+) row")
#: Reports with at least this many rows are exported as XLSX too (the target is 50,000 rows/s).
XLSX_FROM_ROWS = 50_000


@dataclass
class Job:
    """One CLI run's figures."""

    name: str
    seconds: float
    peak_mib: float
    progress: int
    output: str
    finished: bool
    #: User + system CPU seconds of the job's process: on a shared machine, what it cost.
    cpu_seconds: float = 0.0

    @property
    def last_line(self) -> str:
        """The job's own report ("Checked …", "Queued …"), else its last line."""
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        said = [line for line in lines if line.startswith(("Checked", "Queued", "Exported"))]
        if not self.finished:
            return f"stopped after {self.seconds} s"
        return (said or lines or [""])[-1]


def run_job(database_url: str, name: str, *args: str, limit: float = JOB_LIMIT_S) -> Job:
    """`flask --app wsgi ARGS…`, timed, its peak RSS taken from wait4; stopped after `limit`."""
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *args]
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=harness.ROOT, env=harness.app_env(database_url) | NO_TIMEOUT,
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        timer = threading.Timer(limit, process.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        output = out.read().decode(errors="replace")
    finished = process.returncode == 0
    if not finished and seconds < limit:
        raise harness.BenchError(
            f"{' '.join(args)} failed ({process.returncode}):\n{output[-2000:]}"
        )
    progress = sum(1 for line in output.splitlines() if line.startswith("... "))
    cpu = round(usage.ru_utime + usage.ru_stime, 1)
    return Job(name, round(seconds, 1), round(usage.ru_maxrss / 1024, 1), progress, output,
               finished, cpu)  # fmt: skip


def export_all(database_url: str, names: list[str], date_from: str, date_to: str) -> list[dict]:
    """Every report exported by the CLI over the period as CSV, and as XLSX too when it has at
    least `XLSX_FROM_ROWS` rows; rows, rows/s, seconds, peak memory."""
    figures = []
    with tempfile.TemporaryDirectory(prefix="rems-scale-export-") as folder:
        # The CLI's start (interpreter, app, first query) timed on a one-day export of exports.
        first = Path(folder) / "start.csv"
        start = run_job(database_url, "export start", "rems", "export", "exports", "--from",
                        date_to, "--to", date_to, "-o", str(first))  # fmt: skip
        for name in names:
            figure = _export(database_url, name, "csv", date_from, date_to, folder, start)
            figures.append(figure)
            if figure["rows"] >= XLSX_FROM_ROWS:
                figures.append(_export(database_url, name, "xlsx", date_from, date_to, folder,
                                       start))  # fmt: skip
    return figures


def _export(database_url, name, fmt, date_from, date_to, folder, start: Job) -> dict:
    """One report exported by the CLI in one format, timed."""
    target = Path(folder) / f"{name}.{fmt}"
    job = run_job(database_url, f"export {name} {fmt}", "rems", "export", name, "--from",
                  date_from, "--to", date_to, "--format", fmt, "-o", str(target))  # fmt: skip
    rows = int(EXPORTED_RE.search(job.output).group(1)) if job.finished else 0
    size = target.stat().st_size if target.exists() else 0
    target.unlink(missing_ok=True)
    print(f"    export {name} {fmt}: {rows:,} rows in {job.seconds} s, peak {job.peak_mib} MiB",
          file=sys.stderr, flush=True)  # fmt: skip
    return {
        "report": name, "format": fmt, "rows": rows, "seconds": job.seconds, "mib": job.peak_mib,
        "rows_per_s": round(rows / job.seconds) if job.seconds else 0,
        "net_rows_per_s": round(rows / max(job.seconds - start.seconds, 0.1)),
        "rows_per_cpu_s": round(rows / max(job.cpu_seconds - start.cpu_seconds, 0.1)),
        "start_s": start.seconds,
        "bytes": size, "finished": job.finished,
    }  # fmt: skip


def undo_digest(database_url: str, before: dict[str, int]) -> None:
    """Remove what a digest run queued, so the next run over the same world finds the same."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        for table, last in before.items():
            connection.exec_driver_sql(f'DELETE FROM "{table}" WHERE id > {int(last)}')  # noqa: S608
    engine.dispose()


def max_ids(database_url: str, tables: tuple[str, ...]) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        found = {t: connection.scalar(sa.text(f'SELECT coalesce(max(id), 0) FROM "{t}"'))  # noqa: S608
                 for t in tables}  # fmt: skip
    engine.dispose()
    return found


class LockWatch(threading.Thread):
    """Samples pg_stat_activity: the most backends seen waiting on a lock at once, and what."""

    def __init__(self, database_url: str):
        super().__init__(daemon=True)
        self.engine = sa.create_engine(database_url)
        self.stop = threading.Event()
        self.most, self.samples, self.seen = 0, 0, ""

    def run(self) -> None:
        with self.engine.connect() as connection:
            while not self.stop.is_set():
                waiting = connection.execute(sa.text(
                    "SELECT query FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )).scalars().all()  # fmt: skip
                connection.rollback()
                self.samples += 1
                if len(waiting) > self.most:
                    self.most, self.seen = len(waiting), waiting[0][:200]
                self.stop.wait(0.1)
        self.engine.dispose()


def _assessment() -> int:
    """Render /reports/assessment (its default period: the last 365 days) as an auditor; JSON."""
    from bench.reports import _signed_in_client
    from rems import create_app

    app = create_app()
    client = _signed_in_client(app)
    started = time.perf_counter()
    page = client.get("/reports/assessment")
    seconds = time.perf_counter() - started
    print(json.dumps({"status": page.status_code, "seconds": round(seconds, 2)}))
    return 0  # a failed page (a statement past the limit, say) is a figure: the bench judges


if __name__ == "__main__":
    if sys.argv[1:] != ["assessment"]:
        sys.exit("usage: python -m bench.scale_jobs assessment")
    sys.exit(_assessment())
