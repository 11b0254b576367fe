"""The scale scenario: a national program's volume (100,000 and 1,000,000 patients, PostgreSQL).

For each size, a database of its own (`rems_bench_100k`, `rems_bench_1m`) holds a world built by
`bench.scale_world` with `COPY`; a world of the right size and `scale_world.MARKER` is reused
(`--rebuild-worlds` builds it again). `flask db upgrade` runs on it either way, so a new
migration's indexes are in place. Then, under gunicorn (2 sync workers), one request at a time so
each figure is service time, not queueing (`SAMPLES` requests per line, after a warm-up):

* `ping`, the floor; the gate: `decide` (`POST /api/v1/authorizations`, 1 dose, as the pharmacy,
  over the world's ready patients) and `read` (`GET /api/v1/authorizations/{number}`);
* the worklist of the first prescriber (300 patients at every size), with every filter (each
  monitored test) and page 2; their patient list (page 1, last page, a name search);
* the reports catalogue and every report's page (default filters), as an auditor.

Then, not under the server's load: the REMS assessment (its default, the last 365 days) in a
process of its own, with the gate's decisions sampled beside it and `pg_stat_activity` watched
for backends waiting on a lock; `flask rems rebuild-monitoring` and `flask rems send-reminders`
(the daily digest; what it queued is deleted afterwards so the world stays the same), and every
report exported by `flask rems export` over the last 365 days (as XLSX too when it has 50,000 rows
or more): seconds, peak memory, rows/s.
`summary()` compares 1M with 100k and with the issue's targets.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta

import sqlalchemy as sa

from bench import harness, scale_jobs, scale_world
from bench.harness import Options, Server
from bench.load import Result
from bench.report import Row
from bench.seed import PASSWORD

NAME = "scale"
MEASUREMENTS = ("gate", "pages", "assessment", "jobs", "exports")
SIZES: tuple[int, ...] = (100_000, 1_000_000)
REBUILD = False
#: The measurements `--scale-steps` selects (all by default).
STEPS: tuple[str, ...] = MEASUREMENTS
SAMPLES = {"gate": 200, "pages": 20}
#: (size, line) → (p50, p95, p99) ms; plus the batch figures, for `summary()`.
FIGURES: dict[tuple[int, str], tuple[float, float, float]] = {}
BATCH: dict[int, dict] = {}
PAGE_TARGET_MS, RATIO_TARGET = 300.0, 1.2
#: Two workers loading the app on a busy shared machine can take longer than the default 30 s.
SERVER_START_S = 180.0
#: The worlds' databases are named <prefix>_100k, <prefix>_1m …: another prefix keeps a second
#: set of worlds (a copy made with CREATE DATABASE … TEMPLATE, marked like the original).
WORLD_PREFIX = os.environ.get("REMS_BENCH_SCALE_PREFIX", "rems_bench")


def _label(size: int) -> str:
    return f"{size // 1_000_000}m" if size >= 1_000_000 else f"{size // 1000}k"


def world_url(size: int) -> str:
    """The database of this size's world, built unless a finished one of this shape is there."""
    name = f"{WORLD_PREFIX}_{_label(size)}"
    admin = sa.create_engine(harness.POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        found = connection.scalar(sa.text(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"
        ), {"n": name})  # fmt: skip
        fresh = REBUILD or found != scale_world.marker(size)
        if fresh:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    url = sa.make_url(harness.POSTGRES_ADMIN_URL).set(database=name)
    url = url.render_as_string(hide_password=False)
    harness.flask_cli(url, "db", "upgrade")
    if fresh:
        print(f"  building the {size:,}-patient world in {name} …", flush=True)
        harness.run_module(url, "bench.scale_world", "--patients", str(size), timeout=7200)
    else:
        print(f"  reusing the {size:,}-patient world in {name}", flush=True)
    return url


def _numbers(url: str) -> list[str]:
    """The latest authorizations granted over HTTP (the bulk ones' numbers are not the app's)."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        numbers = connection.scalars(sa.text(
            "SELECT number FROM \"authorization\" WHERE number NOT LIKE 'AS%' "
            "ORDER BY id DESC LIMIT 200"
        )).all()  # fmt: skip
    engine.dispose()
    return list(numbers)


def _targets(url: str) -> tuple[list[dict], str]:
    """Ready patients' gate requests and the infusion site's code."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        ready = connection.execute(sa.text(
            "SELECT p.rems_id, p.date_of_birth, d.npi FROM patient p "
            "JOIN course c ON c.patient_id = p.id AND c.status = 'authorized' "
            "JOIN prescriber d ON d.id = p.prescriber_id "
            "WHERE c.doses_given + c.doses_held < c.doses_total ORDER BY p.id LIMIT 2000"
        )).all()  # fmt: skip
        site = connection.scalar(sa.text(
            "SELECT site_code FROM site WHERE infuses ORDER BY id LIMIT 1"
        ))  # fmt: skip
    engine.dispose()
    targets = [{"patient_id": r, "date_of_birth": b.isoformat(), "prescriber_npi": n}
               for r, b, n in ready]  # fmt: skip
    return targets, site


def _one(server: Server, request: tuple) -> tuple[float, int, str]:
    """One request: (milliseconds, status, the start of an error answer's body)."""
    path, headers, body = request
    target = harness.loopback(server.url(path))
    call = urllib.request.Request(target, data=body, headers=headers)  # noqa: S310
    begun = time.perf_counter()
    try:
        with urllib.request.urlopen(call, timeout=120) as response:  # noqa: S310
            response.read()
            status, sample = response.status, ""
    except urllib.error.HTTPError as error:
        status, sample = error.code, error.read().decode(errors="replace")[:300]
    return (time.perf_counter() - begun) * 1000, status, sample


def _result(name: str, latencies: list[float], statuses: dict, sample: str, elapsed: float):
    bad = sum(n for s, n in statuses.items() if s >= 400)
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    result = Result(name, len(latencies) / elapsed, q[49], q[98], len(latencies), bad,
                    non_2xx=bad, statuses=statuses, error_sample=sample)  # fmt: skip
    result.p95_ms = q[94]
    return result


def timed_together(lines: dict[int, tuple[Server, str, list[tuple]]], count: int) -> dict:
    """`count` requests per size, one at a time, **alternating between the sizes' servers**
    (which goes first swaps every round): whatever else loads the machine meanwhile weighs on
    both sizes alike, so their ratio is fair. lines: size → (server, line name, requests, used
    round robin). Returns size → Result."""
    taken = {size: ([], {}, [""], [0.0]) for size in lines}
    order = list(lines)
    for n in range(count):
        for size in order if n % 2 == 0 else order[::-1]:
            server, _, requests = lines[size]
            latencies, statuses, sample, spent = taken[size]
            ms, status, text = _one(server, requests[n % len(requests)])
            latencies.append(ms)
            spent[0] += ms / 1000
            statuses[status] = statuses.get(status, 0) + 1
            sample[0] = sample[0] or text
    return {
        size: _result(lines[size][1], latencies, statuses, sample[0], spent[0])
        for size, (latencies, statuses, sample, spent) in taken.items()
    }


def timed(server: Server, name: str, requests: list[tuple], count: int) -> Result:
    """`count` requests one after another (round robin over `requests`): latency percentiles."""
    return timed_together({0: (server, name, requests)}, count)[0]


def _record(size: int, key: str, result: Result) -> Result:
    FIGURES[(size, key)] = (result.p50_ms, result.p95_ms, result.p99_ms)
    print(f"  [{_label(size)}] {result.name}: p50 {result.p50_ms:.1f} ms, p95 "
          f"{result.p95_ms:.1f} ms, p99 {result.p99_ms:.1f} ms", flush=True)  # fmt: skip
    return result


def _gate_requests(token: str, targets: list[dict], site: str, rng) -> list[tuple]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json",
               "User-Agent": harness.USER_AGENT}  # fmt: skip
    picks = rng.sample(targets, min(len(targets), 600))
    return [("/api/v1/authorizations", headers, json.dumps(
        p | {"infusion_site_id": site, "doses": 1}).encode()) for p in picks]  # fmt: skip


def _web(session: harness.WebSession) -> dict:
    return {"Cookie": session.cookie, "User-Agent": harness.USER_AGENT}


def page_requests(server: Server, url: str, size: int) -> Iterator[tuple[str, list[tuple]]]:
    """(line, requests) of the worklist's filters, the patient list and the reports' pages."""
    from rems.program import DEFAULT_PROGRAM_FILE, load_program
    from rems.reports.catalogue import REPORTS

    doctor = _web(harness.sign_in(server, "bench-dr-0", PASSWORD, "/worklist"))
    yield "worklist", [("/worklist", doctor, None)]
    for test in load_program(DEFAULT_PROGRAM_FILE).monitored_tests():
        yield f"worklist {test.code}", [(f"/worklist?test={test.code}", doctor, None)]
    yield "worklist page 2", [("/worklist?page=2", doctor, None)]
    yield "patients", [("/patients", doctor, None)]
    yield "patients last", [("/patients?last=1", doctor, None)]
    yield "patients search", [("/patients?q=Scale00001", doctor, None)]
    auditor = f"bench-scale-auditor-{random.randrange(10**6)}"
    harness.create_user(url, auditor, PASSWORD)
    reader = _web(harness.sign_in(server, auditor, PASSWORD, "/reports"))
    yield "reports", [("/reports", reader, None)]
    for name in REPORTS:
        yield f"report {name}", [(f"/reports/{name}", reader, None)]


def _gate_requests_of(servers: dict, rng) -> tuple[dict, dict]:
    """Per size: the pharmacy's token and its decide requests over that world's ready patients."""
    tokens, decide = {}, {}
    for size, (_, url) in servers.items():
        tokens[size] = harness.create_token(url, "bench-site-staff-1", f"scale-{time.time_ns()}")
        targets, site = _targets(url)
        if not targets:
            raise harness.BenchError("no ready patient has doses left: run with --rebuild-worlds")
        decide[size] = _gate_requests(tokens[size], targets, site, rng)
    return tokens, decide


def _gate(servers: dict, rng, count: int) -> tuple[dict, list[tuple[int, Result]]]:
    """Decisions, then reads of what they granted, both sizes alternating."""
    tokens, decide = _gate_requests_of(servers, rng)
    for server, _ in servers.values():
        harness.warm_up(server, "/api/v1/ping")
    decided = timed_together({size: (server, f"decide {_label(size)}", decide[size])
                              for size, (server, _) in servers.items()}, count)  # fmt: skip
    reads = {
        size: (server, f"read {_label(size)}", [
            (f"/api/v1/authorizations/{n}", {"Authorization": f"Bearer {tokens[size]}"}, None)
            for n in _numbers(url)])
        for size, (server, url) in servers.items()
    }  # fmt: skip
    read = timed_together(reads, count)
    results = []
    for size in servers:
        results += [(size, _record(size, "decide", decided[size])),
                    (size, _record(size, "read", read[size]))]  # fmt: skip
    return decide, results


def _pages(servers: dict) -> Iterator[tuple[int, Result]]:
    """Every page line, both sizes alternating request by request."""
    streams = {size: page_requests(server, url, size) for size, (server, url) in servers.items()}
    for lines in zip(*streams.values(), strict=True):
        together = {size: (servers[size][0], f"{line} {_label(size)}", requests)
                    for size, (line, requests) in zip(streams, lines, strict=True)}  # fmt: skip
        for size, result in timed_together(together, SAMPLES["pages"]).items():
            yield size, _record(size, lines[0][0], result)


def _assessment_beside(server, url, size, decide, count) -> dict:
    """The assessment in its own process, the gate sampled beside it, locks watched."""
    alone = timed(server, "decide alone", decide, count)
    watch = scale_jobs.LockWatch(url)
    watch.start()
    beside, done = [], threading.Event()
    worker = threading.Thread(target=lambda: (
        beside.append(timed(server, "decide beside", decide, count)), done.set()))  # fmt: skip
    worker.start()
    output = harness.run_module(url, "bench.scale_jobs", "assessment", timeout=1800)
    figures = json.loads(output.strip().splitlines()[-1])
    worker.join()
    watch.stop.set()
    watch.join()
    return {
        "assessment_s": figures["seconds"], "status": figures["status"],
        "gate_p99_alone": round(alone.p99_ms, 1),
        "gate_p99_beside": round(beside[0].p99_ms, 1), "lock_waiters": watch.most,
        "lock_sample": watch.seen, "watch_samples": watch.samples,
    }  # fmt: skip


def run(kind: str, options: Options, only: set[str] | None = None) -> Iterator[Row]:
    """Every selected measurement at every size (PostgreSQL only). The request lines run with
    every size's server up at once, alternating between them; the batch steps size by size."""
    if kind != "postgresql":
        print("  the national-volume worlds are PostgreSQL only: nothing on sqlite")
        return
    wanted = set(only or MEASUREMENTS) & set(STEPS)
    rng = random.Random(2026)
    harness.SERVER_START_TIMEOUT = max(harness.SERVER_START_TIMEOUT, SERVER_START_S)
    urls = {size: world_url(size) for size in SIZES}
    if wanted & {"pages", "assessment"}:  # as the daily job would have, before anyone reads
        for size, url in urls.items():
            BATCH.setdefault(size, {})["summaries"] = _summarise(url)
    with contextlib.ExitStack() as stack:
        servers = {
            size: (stack.enter_context(harness.running_server(
                url, workers=2, label=f"scale-{_label(size)}")), url)
            for size, url in urls.items()
        }  # fmt: skip
        pings = timed_together({size: (server, f"ping {_label(size)}", [("/api/v1/ping", {}, None)])
                                for size, (server, _) in servers.items()}, 200)  # fmt: skip
        pings = {size: _record(size, "ping", result) for size, result in pings.items()}
        yield from (Row(kind, ping, ping) for ping in pings.values())
        decide = {}
        if wanted & {"gate", "assessment"}:
            decide, results = _gate(servers, rng, SAMPLES["gate"])
            if "gate" in wanted:
                yield from (Row(kind, result, pings[size]) for size, result in results)
        if "pages" in wanted:
            yield from (Row(kind, result, pings[size]) for size, result in _pages(servers))
        if "assessment" in wanted:
            for size, (server, url) in servers.items():
                batch = BATCH.setdefault(size, {})
                batch |= _assessment_beside(server, url, size, decide[size], SAMPLES["gate"])
                print(f"  [{_label(size)}] assessment: {batch}", flush=True)
    for size, url in urls.items():
        batch = BATCH.setdefault(size, {})
        if "jobs" in wanted:
            batch["jobs"] = _jobs(url)
        if "exports" in wanted:
            today = date.today()
            batch["exports"] = scale_jobs.export_all(
                url, _report_names(), (today - timedelta(days=364)).isoformat(), today.isoformat()
            )


def _report_names() -> list[str]:
    from rems.reports.catalogue import REPORTS

    return list(REPORTS)


def _summarise(url: str) -> dict:
    """`flask rems summarise-reports` on the world: its time, memory and what it did."""
    job = scale_jobs.run_job(url, "summarise-reports", "rems", "summarise-reports")
    lines = (line.strip() for line in job.output.splitlines())
    done = [line for line in lines if "summarised" in line or "snapshot" in line]
    print(f"    summarise-reports: {job.seconds} s, {job.peak_mib} MiB", flush=True)
    for line in done:
        print(f"      {line}", flush=True)
    return {
        "seconds": job.seconds,
        "peak_mib": job.peak_mib,
        "cpu_s": job.cpu_seconds,
        "done": done,
    }


def _jobs(url: str) -> dict:
    figures = {}
    job = scale_jobs.run_job(url, "rebuild-monitoring", "rems", "rebuild-monitoring")
    figures["rebuild"] = vars(job) | {"output": job.last_line}
    print(f"    rebuild-monitoring: {job.seconds} s, {job.peak_mib} MiB, {job.last_line}")
    tables = ("monitoring_reminder", "notification")
    before = scale_jobs.max_ids(url, tables)
    job = scale_jobs.run_job(url, "send-reminders", "rems", "send-reminders")
    figures["digest"] = vars(job) | {"output": job.last_line}
    print(f"    send-reminders: {job.seconds} s, {job.peak_mib} MiB, {job.last_line}")
    scale_jobs.undo_digest(url, before)
    return figures


def _ratio_line(line: str, key: str, index: int, label: str) -> str | None:
    small, large = SIZES[0], SIZES[-1]
    if (small, key) not in FIGURES or (large, key) not in FIGURES or small == large:
        return None
    a, b = FIGURES[(small, key)][index], FIGURES[(large, key)][index]
    ping = FIGURES.get((large, "ping"), (0, 0, 0))[index] / max(
        FIGURES.get((small, "ping"), (1, 1, 1))[index], 1e-9)  # fmt: skip
    verdict = "met" if b <= RATIO_TARGET * a else "MISSED"
    return (f"{line} {label}: {a:.1f} → {b:.1f} ms = {b / a:.2f}× ({_label(large)} ÷ "
            f"{_label(small)}, target ≤ {RATIO_TARGET}×; ping {ping:.2f}×) {verdict}")  # fmt: skip


def _export_verdict(export: dict, fast: bool) -> str:
    if not export["finished"]:
        return "MISSED (stopped)"
    if export["rows"] < 50_000:
        return "n/a (under 50,000 rows)"
    return "met" if fast else "MISSED"


def summary() -> list[str]:
    """The 1M ÷ 100k ratios and the issue's absolute targets."""
    lines = []
    for key in ("decide", "read"):
        lines += [x for x in (_ratio_line(key, key, 0, "p50"), _ratio_line(key, key, 2, "p99"))
                  if x]  # fmt: skip
    large = SIZES[-1]
    for (size, key), (_, p95, _) in sorted(FIGURES.items()):
        if size != large or key in ("ping", "decide", "read"):
            continue
        ratio = _ratio_line(key, key, 1, "p95") or ""
        verdict = "met" if p95 <= PAGE_TARGET_MS else "MISSED"
        lines.append(f"{key} p95 at {_label(size)}: {p95:.1f} ms (≤ {PAGE_TARGET_MS:.0f}) "
                     f"{verdict}; {ratio.split(': ', 1)[-1]}")  # fmt: skip
    for size, batch in BATCH.items():
        tag = _label(size)
        if "assessment_s" in batch:
            verdict = (
                "met"
                if batch["status"] == 200
                and batch["assessment_s"] <= 30
                and not batch["lock_waiters"]
                else "MISSED"
            )
            lines.append(
                f"assessment {tag}: {batch['assessment_s']} s, status {batch['status']} (≤ 30 s, "
                f"200); gate p99 alone "
                f"{batch['gate_p99_alone']} ms, beside it {batch['gate_p99_beside']} ms; backends "
                f"waiting on a lock meanwhile: {batch['lock_waiters']} (of "
                f"{batch['watch_samples']} samples) {verdict}"
            )
        for name, job in batch.get("jobs", {}).items():
            verdict = "met" if job["finished"] and job["seconds"] <= 600 else "MISSED"
            lines.append(
                f"{name} {tag}: {job['seconds']} s (≤ 600; {job['cpu_seconds']} CPU s), peak "
                f"{job['peak_mib']} MiB, "
                f"{job['progress']} progress lines; {job['output']} {verdict}"
            )
        for export in batch.get("exports", []):
            fast = export["net_rows_per_s"] >= 50_000
            lines.append(f"export {export['report']} {export.get('format', 'csv').upper()} {tag}: "
                         f"{export['rows']:,} rows in "
                         f"{export['seconds']} s = {export['rows_per_s']:,} rows/s, "
                         f"{export['net_rows_per_s']:,} after the CLI's {export['start_s']} s "
                         f"start (≥ 50,000), {export['rows_per_cpu_s']:,} per CPU second "
                         f"after the start's, peak {export['mib']} MiB, {export['bytes']:,} bytes "
                         f"{_export_verdict(export, fast)}")  # fmt: skip
    return lines
