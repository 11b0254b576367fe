"""The monitoring scenario: the worklist page, the patient read with its monitoring summary, and
a 1,000-row results batch, at 1,000 and 100,000 treated patients with result histories.

For each size, on a fresh database seeded by `bench/seed_monitoring.py`, under gunicorn:

* `ping (floor)` — this server's reference;
* `worklist (GET)` — `/worklist` as the first prescriber (signed in over HTTP), who has the
  same `--focus` patients at every size: due and overdue come from date comparisons in SQL;
* `patient (GET)` — `GET /api/v1/patients/{id}` over 200 of that prescriber's patients, with
  the monitoring summary;
* `patient, no summary` — the same read from a second server whose summary is a constant
  (`bench/no_summary.py`): what the patient read costs without the summary;
* the batch — `python -m bench.monitoring_batch` in the app's process: one CSV of 1,000 rows
  (250 patients × 4 tests), previewed, then stored and committed, three times.

`summary()` prints the issue's targets: p50 at the largest size within 1.2× of p50 at the
smallest (worklist and patient read), the summary costing the patient read at most 20 % of its
requests per second, and the 1,000-row batch validated and stored in under 2 s.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterator

from bench import harness, load, report
from bench.harness import Options, Server
from bench.load import Result, Script, Variant
from bench.report import Row

NAME = "monitoring"
MEASUREMENTS = ("worklist", "patient", "batch", "digest")
SIZES: tuple[int, ...] = (1_000, 100_000)
SCALING_TARGET, SUMMARY_COST_TARGET, BATCH_TARGET_S = 1.2, 0.20, 2.0
RESULTS: dict[tuple[str, int, str], tuple[Result, Result]] = {}
BATCHES: dict[tuple[str, int], list[dict]] = {}
DIGESTS: dict[tuple[str, int], dict] = {}


def size_label(size: int) -> str:
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def run(kind: str, options: Options, only: set[str] | None = None) -> Iterator[Row]:
    """Each size in turn, on a fresh, seeded `kind` database."""
    for size in SIZES:
        yield from _run_size(kind, size, options, only)


def _run_size(kind: str, size: int, options: Options, only: set[str] | None) -> Iterator[Row]:
    label = size_label(size)
    with harness.prepared_database(kind) as url:
        seeded = seed(url, kind, size)
        with harness.running_server(url, label=f"{kind}-monitoring-{label}") as server:
            print(f"  [{kind}] {label}: server up at {server.base_url}; log: {server.log_path}")
            harness.warm_up(server, "/api/v1/ping")
            ping = _load(server, "/api/v1/ping", options, name=f"ping (floor) {label}")
            print(report.describe(kind, ping))
            yield Row(kind, ping, ping)
            if only is None or "worklist" in only:
                result = measure_worklist(server, options, kind, size, seeded)
                yield _keep(kind, size, "worklist", result, ping, server)
            if only is None or "patient" in only:
                result = measure_patient(server, options, kind, size, seeded, "patient (GET)")
                yield _keep(kind, size, "patient", result, ping, server)
        if only is None or "patient" in only:
            bare_label = f"{kind}-monitoring-bare-{label}"
            with harness.running_server(url, label=bare_label, app="bench.no_summary:app") as bare:
                name = "patient, no summary"
                result = measure_patient(bare, options, kind, size, seeded, name)
                yield _keep(kind, size, "patient bare", result, ping, bare)
        if only is None or "digest" in only:
            measure_digest(url, kind, size)
        if only is None or "batch" in only:
            measure_batch(url, kind, size, seeded)


def _keep(kind: str, size: int, name: str, result: Result, ping: Result, server: Server) -> Row:
    print(report.describe(kind, result))
    if result.failed:
        print(f"  [{kind}] server log ({server.log_path}), last lines:")
        print("    " + server.log_tail().replace("\n", "\n    "))
    RESULTS[(kind, size, name)] = (result, ping)
    return Row(kind, result, ping)


def _load(server: Server, path: str, options: Options, script=None, *, name: str) -> Result:
    return load.run_wrk(
        server.url(path), options.duration, options.connections, options.threads, script,
        name=name,
    )  # fmt: skip


def seed(url: str, kind: str, size: int) -> dict:
    """`python -m bench.seed_monitoring` on the fresh database; its JSON report."""
    print(f"  [{kind}] seeding {size:,} treated patients with histories …")
    started = time.monotonic()
    output = harness.run_module(url, "bench.seed_monitoring", "--patients", str(size), timeout=3600)
    seeded = json.loads(output.strip().splitlines()[-1])
    counts = ", ".join(f"{n:,} {table}" for table, n in seeded["counts"].items())
    print(f"  [{kind}] seeded in {time.monotonic() - started:.1f} s: {counts}")
    return seeded


def measure_worklist(server: Server, options: Options, kind: str, size: int, seeded) -> Result:
    """GET /worklist as the first prescriber; a good answer lists patients."""
    session = harness.sign_in(server, seeded["username"], seeded["password"], "/worklist")
    headers = (("Cookie", session.cookie), ("User-Agent", harness.USER_AGENT))
    harness.warm_up(server, "/worklist", dict(headers))
    script = Script(f"{kind}-monitoring-worklist-{size_label(size)}", "GET",
                    (Variant(headers),), 'id="worklist"')  # fmt: skip
    name = f"worklist (GET) {size_label(size)}"
    return _load(server, "/worklist", options, script, name=name)


def measure_patient(server: Server, options: Options, kind: str, size: int, seeded, name: str):
    """GET /api/v1/patients/{id} over the sampled patients, as their prescriber."""
    headers = (("Authorization", f"Bearer {seeded['token']}"), ("User-Agent", harness.USER_AGENT))
    paths = [f"/api/v1/patients/{p['patient_id']}" for p in seeded["patients"]]
    harness.warm_up(server, paths[0], dict(headers))
    variants = tuple(Variant(headers, path=path) for path in paths)
    script = Script(f"{kind}-{name.split()[0]}-{len(name)}-{size_label(size)}", "GET", variants,
                    '"monitoring"')  # fmt: skip
    return _load(server, paths[0], options, script, name=f"{name} {size_label(size)}")


def measure_digest(url: str, kind: str, size: int) -> None:
    """The first prescriber's digest, in the app's process, with its floor (`SELECT 1`)."""
    timed = json.loads(harness.run_module(url, "bench.monitoring_digest").strip().splitlines()[-1])
    DIGESTS[(kind, size)] = timed
    print(f"  [{kind}] {size_label(size)}: digest {timed['digest_s'] * 1000:.1f} ms median "
          f"({timed['patients']} patients, {timed['items']} items); floor "
          f"{timed['floor_s'] * 1000:.3f} ms")  # fmt: skip


def measure_batch(url: str, kind: str, size: int, seeded: dict) -> None:
    """The 1,000-row batch, in the app's process."""
    sample = harness.run_dir() / f"monitoring-focus-{kind}-{size}.json"
    sample.write_text(json.dumps(seeded["focus"]))
    output = harness.run_module(url, "bench.monitoring_batch", "--sample", str(sample))
    runs = json.loads(output.strip().splitlines()[-1])["runs"]
    BATCHES[(kind, size)] = runs
    for number, batch in enumerate(runs, start=1):
        print(f"  [{kind}] {size_label(size)}: batch {number}: {batch['rows']} rows, "
              f"{batch['stored']} stored; preview {batch['preview_s']} s "
              f"(CPU {batch['preview_cpu_s']} s), store {batch['store_s']} s "
              f"(CPU {batch['store_cpu_s']} s)")  # fmt: skip


def summary() -> list[str]:
    """The targets, from this run's results."""
    lines = []
    small, large = min(SIZES), max(SIZES)
    for kind in sorted({k for k, _, _ in RESULTS} | {k for k, _ in BATCHES | DIGESTS}):
        lines += _digest_summary(kind, small, large)
        for name in ("worklist", "patient"):
            both = RESULTS.get((kind, small, name)), RESULTS.get((kind, large, name))
            if len(SIZES) > 1 and all(both):
                ratio = both[1][0].p50_ms / both[0][0].p50_ms if both[0][0].p50_ms else 0.0
                verdict = "met" if ratio <= SCALING_TARGET else "MISSED"
                lines.append(f"{kind:<10} {name:<8} p50 {size_label(large)} ÷ p50 "
                             f"{size_label(small)} = {ratio:.2f}× (target ≤ {SCALING_TARGET}×) "
                             f"— {verdict}")  # fmt: skip
        for size in SIZES:
            pair = RESULTS.get((kind, size, "patient")), RESULTS.get((kind, size, "patient bare"))
            if all(pair) and pair[1][0].rps:
                cost = 1 - pair[0][0].rps / pair[1][0].rps
                verdict = "met" if cost <= SUMMARY_COST_TARGET else "MISSED"
                lines.append(f"{kind:<10} summary  {size_label(size):>5}: costs the patient read "
                             f"{cost:.0%} of its req/s (target ≤ 20 %) — {verdict}")  # fmt: skip
            runs = BATCHES.get((kind, size))
            if runs:
                median = statistics.median(r["store_s"] for r in runs)
                cpu = statistics.median(r["store_cpu_s"] for r in runs)
                verdict = "met" if median < BATCH_TARGET_S else "MISSED"
                lines.append(f"{kind:<10} batch    {size_label(size):>5}: 1,000 rows validated "
                             f"and stored in {median:.2f} s median (CPU {cpu:.2f} s; target "
                             f"< {BATCH_TARGET_S} s) — {verdict}")  # fmt: skip
    return lines


def _digest_summary(kind: str, small: int, large: int) -> list[str]:
    """The digest at the largest size against the smallest, each divided by its own floor."""
    both = DIGESTS.get((kind, small)), DIGESTS.get((kind, large))
    if len(SIZES) < 2 or not all(both):
        return []
    relative = [d["digest_s"] / d["floor_s"] for d in both]
    ratio = relative[1] / relative[0]
    verdict = "met" if ratio <= SCALING_TARGET else "MISSED"
    return [f"{kind:<10} digest   ({both[1]['digest_s'] * 1000:.1f} ms ÷ floor) at "
            f"{size_label(large)} ÷ (same) at {size_label(small)} = {ratio:.2f}× "
            f"(target ≤ {SCALING_TARGET}×; raw {both[1]['digest_s'] / both[0]['digest_s']:.2f}×)"
            f" — {verdict}"]  # fmt: skip
