"""The gate scenario: dispensing decisions and authorization reads at 1,000 and 100,000 patients.

For each size, on a fresh database seeded by `bench/seed.py` (the cast through the real services,
the rest of the patients in bulk), under gunicorn:

* `ping (floor)` — the reference of this server, as in the foundation scenario;
* `me (bearer)` — `GET /api/v1/me`: the token check alone;
* `decide (POST)` — `POST /api/v1/authorizations` as the pharmacy, a random one of `TARGETS`
  patients per request, 1 dose each (courses last), plus ~10 % of requests with a wrong date of
  birth (PATIENT_NOT_FOUND denials). Grants (201) and denials (200) are both good answers; once a
  course's five doses are held, further requests for it are DOSES_EXCEEDED denials;
* `read (GET)` — `GET /api/v1/authorizations/{number}` over `READERS` authorizations granted
  over HTTP during setup;
* `list page 1`, `list last page`, `list search` — the prescriber's patient list (a web page);
* the audit-trail CSV export, timed with the workers' peak memory;
* `ping (again)` — the floor once more, to see whether the machine stayed quiet.

After the decisions: the audit chain must verify, the stored decisions must match the answers,
and every course's `doses_held` must equal what its live authorizations hold (nothing over-held,
nothing leaked). `summary()` prints the scaling (p50 at the largest size ÷ p50 at the smallest)
and the issue's targets (`/me` ≥ 0.6× ping, read ≥ 0.4×, decide ≥ 0.15×, decision p99 ≤ 4× its p50
on SQLite, scaling ≤ 1.2×: `TARGETS_OF`, `TAIL_TARGET`, `SCALING_TARGET`).
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import sqlalchemy as sa

from bench import harness, load, pages, report
from bench.harness import Options, Server
from bench.load import Result, Script, Variant
from bench.report import Row

NAME = "gate"
MEASUREMENTS = ("me", "decide", "read", "list", "last", "search", "csv")
LIST_STEPS = (("list", ""), ("last", "?last=1"), ("search", "?q={search}"))
LIST_NAMES = {"list": "list page 1", "last": "list last page", "search": "list search"}
#: Enrolled patients in the databases compared; set by `--patients`.
SIZES: tuple[int, ...] = (1_000, 100_000)
TARGETS = 600  # patients the decision load picks from (the same count at every size)
READERS = 200  # authorizations granted during setup, read by the read load
WRONG_DOB_SHARE = 0.10
#: The issue's targets: share of ping's req/s, decision p99 ÷ p50 on SQLite, p50 scaling.
TARGETS_OF = {"me": 0.6, "read": 0.4, "decide": 0.15}
TAIL_TARGET, SCALING_TARGET = 4.0, 1.2
SCALED = ("decide", "read", "list", "last", "search")
JSON = ("Content-Type", "application/json")
#: (database, size, measurement) → (result, the ping of the same server), for `summary()`.
RESULTS: dict[tuple[str, int, str], tuple[Result, Result]] = {}
#: (database, size) → the audit CSV's figures.
CSV_RESULTS: dict[tuple[str, int], pages.CsvFigures] = {}


def size_label(size: int) -> str:
    """1000 → "1k", 100000 → "100k"."""
    return f"{size // 1000}k" if size % 1000 == 0 else str(size)


def run(kind: str, options: Options, only: set[str] | None = None) -> Iterator[Row]:
    """Each size in turn, on a fresh, seeded `kind` database and its own server."""
    for size in SIZES:
        yield from _run_size(kind, size, options, only)


def _run_size(kind: str, size: int, options: Options, only: set[str] | None) -> Iterator[Row]:
    label = size_label(size)
    with harness.prepared_database(kind) as url:
        seeded = seed(url, kind, size)
        with harness.running_server(url, label=f"{kind}-gate-{label}") as server:
            print(f"  [{kind}] {label}: server up at {server.base_url}; log: {server.log_path}")
            numbers = grant_for_reads(server, seeded)
            harness.warm_up(server, "/api/v1/ping")
            ping = _load(server, "/api/v1/ping", options, name=f"ping (floor) {label}")
            print(report.describe(kind, ping))
            yield Row(kind, ping, ping)
            wanted = lambda name: only is None or name in only  # noqa: E731
            if wanted("me"):
                result = pages.measure_me(server, options, kind, label, seeded["token"])
                yield _keep(kind, size, "me", result, ping, server)
            if wanted("decide"):
                result = measure_decide(url, server, options, kind, size, seeded)
                yield _keep(kind, size, "decide", result, ping, server)
            if wanted("read"):
                result = measure_read(server, options, kind, size, seeded, numbers)
                yield _keep(kind, size, "read", result, ping, server)
            yield from _lists(server, options, kind, size, seeded, ping, wanted)
            if wanted("csv"):
                figures = pages.measure_csv(url, server, seeded["password"])
                CSV_RESULTS[(kind, size)] = figures
                print(f"  [{kind}] {label}: audit CSV: {pages.describe_csv(figures)}")
            again = _load(server, "/api/v1/ping", options, name=f"ping (again) {label}")
            print(report.describe(kind, again))
            warning = report.drift_warning(ping, again)
            if warning:
                print(f"  [{kind}] {label}: WARNING: {warning}")
            RESULTS[(kind, size, "ping again")] = (again, ping)
            yield Row(kind, again, ping)


def _lists(server, options, kind, size, seeded, ping, wanted) -> Iterator[Row]:
    """The prescriber's patient list: page 1, the last page, a search."""
    steps = [(n, q) for n, q in LIST_STEPS if wanted(n)]
    if not steps:
        return
    web = pages.prescriber_session(server, seeded["password"])
    label = size_label(size)
    for name, query in steps:
        query = query.format(search=seeded["search"])
        result = pages.measure_list(server, options, kind, label, web, query, LIST_NAMES[name])
        yield _keep(kind, size, name, result, ping, server)


def _keep(kind: str, size: int, name: str, result: Result, ping: Result, server: Server) -> Row:
    """Report, remember for the summary, and show the server log when it failed."""
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


# --- Setup ----------------------------------------------------------------------------------


def seed(url: str, kind: str, size: int) -> dict:
    """`python -m bench.seed` on the fresh database; its JSON report."""
    print(f"  [{kind}] seeding {size:,} enrolled patients (bench/seed.py) …")
    started = time.monotonic()
    output = harness.run_module(
        url, "bench.seed", "--patients", str(size), "--targets", str(TARGETS),
        "--readers", str(READERS),
    )  # fmt: skip
    seeded = json.loads(output.strip().splitlines()[-1])
    counts = ", ".join(f"{n:,} {table}" for table, n in seeded["counts"].items())
    print(f"  [{kind}] seeded in {time.monotonic() - started:.1f} s: {counts}")
    return seeded


def _headers(seeded: dict) -> tuple[tuple[str, str], ...]:
    return (("Authorization", f"Bearer {seeded['token']}"), ("User-Agent", harness.USER_AGENT))


def _body(seeded: dict, patient: dict, *, born: str | None = None) -> str:
    return json.dumps({
        "patient_id": patient["patient_id"], "date_of_birth": born or patient["date_of_birth"],
        "prescriber_npi": patient["prescriber_npi"], "infusion_site_id": seeded["site_code"],
        "doses": 1,
    }, separators=(",", ":"))  # fmt: skip


def grant_for_reads(server: Server, seeded: dict) -> list[str]:
    """One 1-dose authorization per reader patient, over HTTP; their numbers."""
    headers = dict((*_headers(seeded), JSON))

    def grant(patient: dict) -> str:
        data = _body(seeded, patient).encode()
        request = urllib.request.Request(  # noqa: S310  (loopback only, checked below)
            server.url("/api/v1/authorizations"), data=data, headers=headers, method="POST"
        )
        if not request.full_url.startswith(f"http://{harness.LOOPBACK}:"):
            raise harness.BenchError(f"not a loopback URL: {request.full_url}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                body = json.loads(response.read())
                status = response.status
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read().decode(errors="replace")[:500]
        if status != 201:
            raise harness.BenchError(f"setup grant for {patient['patient_id']}: {status} {body}")
        return body["authorization_number"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(grant, seeded["readers"]))


# --- Measurements ---------------------------------------------------------------------------


def decide_script(kind: str, size: int, seeded: dict) -> Script:
    """1-dose requests for the target patients, and some with a day-off date of birth."""
    headers = (*_headers(seeded), JSON)
    variants = [Variant(headers, _body(seeded, p)) for p in seeded["targets"]]
    rng = random.Random(size)
    wrong = round(len(variants) * WRONG_DOB_SHARE / (1 - WRONG_DOB_SHARE))
    for patient in rng.sample(seeded["targets"], wrong):
        born = date.fromisoformat(patient["date_of_birth"]) + timedelta(days=1)
        variants.append(Variant(headers, _body(seeded, patient, born=born.isoformat())))
    return Script(f"{kind}-gate-decide-{size_label(size)}", "POST", tuple(variants), '"decision"')


def measure_decide(url: str, server: Server, options: Options, kind: str, size: int, seeded):
    """POST /api/v1/authorizations under load; then the chain, the decisions and the doses."""
    before = _decisions(url)
    script = decide_script(kind, size, seeded)
    name = f"decide (POST) {size_label(size)}"
    result = _load(server, "/api/v1/authorizations", options, script, name=name)
    grants, denials = result.statuses.get(201, 0), result.statuses.get(200, 0)
    print(f"  [{kind}] {size_label(size)}: {grants} granted (201), {denials} denied (200)")
    if not grants or not denials:
        result.problems.append(f"expected grants and denials, got {result.statuses}")
    time.sleep(1)  # requests wrk left in flight finish before the database is read
    _check_decisions(url, kind, result, _decisions(url) - before, options.connections)
    _check_doses(url, result)
    try:
        _, line = harness.audit_verify(url)
        print(f"  [{kind}] {size_label(size)}: audit-verify: {line}")
    except harness.BenchError as error:
        result.problems.append(f"audit chain broken after the decisions: {error}")
    return result


def measure_read(server: Server, options: Options, kind: str, size: int, seeded, numbers):
    """GET /api/v1/authorizations/{number} over the authorizations granted in setup."""
    headers = _headers(seeded)
    variants = tuple(Variant(headers, path=f"/api/v1/authorizations/{n}") for n in numbers)
    harness.warm_up(server, f"/api/v1/authorizations/{numbers[0]}", dict(headers))
    script = Script(
        f"{kind}-gate-read-{size_label(size)}", "GET", variants, '"authorization_number"'
    )
    name = f"read (GET) {size_label(size)}"
    return _load(server, f"/api/v1/authorizations/{numbers[0]}", options, script, name=name)


# --- Checks on the database -----------------------------------------------------------------


def _scalar(url: str, statement: str) -> int:
    engine = sa.create_engine(harness_url(url))
    try:
        with engine.connect() as connection:
            return int(connection.exec_driver_sql(statement).scalar() or 0)
    finally:
        engine.dispose()


def harness_url(url: str) -> str:
    """The app's URL as SQLAlchemy in this process takes it (psycopg 3 for PostgreSQL)."""
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _decisions(url: str) -> int:
    return _scalar(url, "SELECT count(*) FROM authorization_decision")


def _check_decisions(url: str, kind: str, result: Result, added: int, connections: int) -> None:
    """One stored decision per answer (plus those wrk left in flight when it stopped)."""
    answered = result.statuses.get(200, 0) + result.statuses.get(201, 0)
    print(f"  [{kind}] {added} decisions stored for {answered} answers wrk counted")
    if not answered <= added <= answered + connections + result.errors:
        result.problems.append(f"{added} decisions were stored for {answered} answers")


def _check_doses(url: str, result: Result) -> None:
    """Every course holds exactly what its live authorizations hold, within its dose count."""
    off = _scalar(url, """
        SELECT count(*) FROM course c
        WHERE c.doses_given + c.doses_held > c.doses_total
           OR c.doses_held <> (
                SELECT coalesce(sum(a.doses - a.doses_given), 0) FROM "authorization" a
                WHERE a.course_id = c.id AND a.status IN ('issued', 'partially_used'))
    """)  # fmt: skip
    if off:
        result.problems.append(f"{off} courses hold doses their live authorizations do not")


# --- Summary --------------------------------------------------------------------------------


def summary() -> list[str]:
    """The issue's targets, from this run's results: ratios to ping, the decision's tail on
    SQLite, scaling from the smallest to the largest size, the audit CSV."""
    lines = []
    kinds = sorted({kind for kind, _, _ in RESULTS}, key=lambda k: k != "sqlite")
    for kind in kinds:
        for size in SIZES:
            lines += _ratio_lines(kind, size)
        if len(SIZES) > 1:
            lines += _scaling_lines(kind)
        for size in SIZES:
            figures = CSV_RESULTS.get((kind, size))
            if figures:
                lines.append(
                    f"{kind:<10} csv    {size_label(size):>5}: {pages.describe_csv(figures)}"
                )
    return lines


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _ratio_lines(kind: str, size: int) -> list[str]:
    """Each endpoint's req/s as a share of ping's, and the decision's p99 ÷ p50."""
    lines = []
    for name, target in TARGETS_OF.items():
        found = RESULTS.get((kind, size, name))
        if not found:
            continue
        result, ping = found
        share = result.rps / ping.rps if ping.rps else 0.0
        lines.append(
            f"{kind:<10} {name:<6} {size_label(size):>5}: {share:.2f}× ping's req/s "
            f"(target ≥ {target}×) — {_verdict(share >= target)}"
        )
        if name == "decide" and kind == "sqlite" and result.p50_ms:
            tail = result.p99_ms / result.p50_ms
            lines.append(
                f"{kind:<10} {name:<6} {size_label(size):>5}: p99 ÷ p50 = {tail:.1f}× "
                f"(target ≤ {TAIL_TARGET}×) — {_verdict(tail <= TAIL_TARGET)}"
            )
    return lines


def _scaling_lines(kind: str) -> list[str]:
    """p50 at the largest size ÷ p50 at the smallest, beside ping's own change."""
    lines = []
    small, large = min(SIZES), max(SIZES)
    for name in SCALED:
        both = RESULTS.get((kind, small, name)), RESULTS.get((kind, large, name))
        if not all(both) or not both[0][0].p50_ms:
            continue
        p50 = both[1][0].p50_ms / both[0][0].p50_ms
        pings = both[1][1].p50_ms / both[0][1].p50_ms if both[0][1].p50_ms else 0.0
        lines.append(
            f"{kind:<10} {name:<6} scaling: p50 {size_label(large)} ÷ p50 {size_label(small)} = "
            f"{p50:.2f}× (target ≤ {SCALING_TARGET}×) — {_verdict(p50 <= SCALING_TARGET)}; "
            f"ping's p50 moved {pings:.2f}× between the two servers"
        )
    return lines
