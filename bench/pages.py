"""The gate scenario's other measurements: `/me`, the prescriber's patient list (page 1, the
last page, a search) and the audit-trail CSV, on the same seeded server as the decisions.

The list pages are loaded with wrk like every other line, as the prescriber `bench-dr-0`
signed in over HTTP (the seed gives each of the 4 prescribers a quarter of the patients, so
25,000 at 100,000). The last page is the list's "Last" link (`?last=1`, a keyset page); the
search is a last-name prefix that matches one patient of that prescriber.

The CSV is not a throughput figure: one auditor downloads `/audit/events.csv` (the seed writes
one chained audit event per bulk patient, so ~100,000 rows at 100,000) `CSV_ROUNDS` times in a
row; the line reports rows per second, seconds per download and the serving worker's peak
resident memory (VmHWM) before and after, which must stay flat.
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench import harness, load
from bench.harness import Options, Server
from bench.load import Result, Script, Variant

PRESCRIBER = "bench-dr-0"
AUDITOR = "bench-auditor"
CSV_ROUNDS = 3
#: Only the patient list shows this heading: the page really is the list, not the sign-in form.
LIST_MARK = "REMS ID"


@dataclass(frozen=True)
class CsvFigures:
    """One CSV measurement: rows per download, seconds per download, worker memory."""

    rows: int
    seconds: float
    rss_before_kib: int
    rss_after_kib: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def measure_me(server: Server, options: Options, kind: str, label: str, token: str) -> Result:
    """GET /api/v1/me with the pharmacy's token: the token check and nothing else."""
    headers = (("Authorization", f"Bearer {token}"), ("User-Agent", harness.USER_AGENT))
    harness.warm_up(server, "/api/v1/me", dict(headers))
    script = Script(f"{kind}-me-{label}", "GET", (Variant(headers),), expect='"username"')
    return _load(server, "/api/v1/me", options, script, name=f"me (bearer) {label}")


def prescriber_session(server: Server, password: str) -> harness.WebSession:
    """The first prescriber, signed in over HTTP."""
    return harness.sign_in(server, PRESCRIBER, password, "/patients")


def measure_list(server, options, kind: str, label: str, web, query: str, name: str) -> Result:
    """GET /patients<query> as the signed-in prescriber."""
    headers = (("Cookie", web.cookie), ("User-Agent", harness.USER_AGENT))
    path = f"/patients{query}"
    harness.warm_up(server, path, dict(headers))
    script = Script(f"{kind}-list-{name}-{label}", "GET", (Variant(headers),), expect=LIST_MARK)
    return _load(server, path, options, script, name=f"{name} {label}")


def measure_csv(url: str, server: Server, password: str) -> CsvFigures:
    """Download the whole audit trail as CSV, CSV_ROUNDS times; rows/s and worker memory."""
    harness.create_user(url, AUDITOR, password, role="auditor")
    web = harness.sign_in(server, AUDITOR, password, "/audit/events")
    request = urllib.request.Request(  # noqa: S310  (loopback, checked by the harness)
        harness.loopback(server.url("/audit/events.csv")),
        headers={"Cookie": web.cookie, "User-Agent": harness.USER_AGENT},
    )
    before = _peak_rss(server)
    rows, started = 0, time.perf_counter()
    for _ in range(CSV_ROUNDS):
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            lines = sum(
                chunk.count(b"\n") for chunk in iter(lambda r=response: r.read(1 << 16), b"")
            )
        rows = lines - 1  # the header
    seconds = (time.perf_counter() - started) / CSV_ROUNDS
    return CsvFigures(rows, seconds, before, _peak_rss(server))


def describe_csv(figures: CsvFigures) -> str:
    """One line: rows, seconds and rows per second per download, the workers' peak memory."""
    return (
        f"{figures.rows:,} rows in {figures.seconds:.2f} s = {figures.rows_per_second:,.0f} "
        f"rows/s; workers' peak RSS {figures.rss_before_kib:,} → {figures.rss_after_kib:,} KiB"
    )


def _peak_rss(server: Server) -> int:
    """The largest VmHWM (peak resident memory, KiB) among the server's worker processes."""
    peak = 0
    for pid in server.worker_pids():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peak = max(peak, int(line.split()[1]))
    return peak


def _load(server: Server, path: str, options: Options, script, *, name: str) -> Result:
    return load.run_wrk(
        server.url(path), options.duration, options.connections, options.threads, script,
        name=name,
    )  # fmt: skip
