"""What `rems/common/direct.py` buys: the gate served with the hot statements on the driver,
against the same statements through `Session.execute` (SQLAlchemy's compiled cache), in one run.

    .venv/bin/python -m bench.hot_statements [--duration 5] [--rounds 4] [--databases …]

For each database: one 1,000-patient world seeded by `bench/seed.py`, and two gunicorn servers on
it, `driver` (as shipped) and `session` (`REMS_HOT_STATEMENTS=session`: each `Direct` statement
runs through `Session.execute` instead). Measurements alternate between the two servers in
A B B A order, round after round, so a machine that drifts, and a world whose courses fill up as
decisions hold doses, weigh on both alike: ping, the decision (POST), the authorization read.
Every figure is also given as a share of the same server's ping in the same round. The last
lines say how much more decision throughput the driver path gives (the issue's threshold: 20 %).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from collections import defaultdict
from contextlib import ExitStack

from bench import gate, harness, load
from bench.harness import Options

VARIANTS = ("driver", "session")
MEASURED = ("ping", "decide", "read")
TARGETS = 3000  # patients the decisions pick from: enough courses for every round


def main(argv: list[str] | None = None) -> int:
    """Measure both variants on each database; print the figures and the verdict."""
    parser = argparse.ArgumentParser(prog="python -m bench.hot_statements", description=__doc__)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=4, help="A B B A rounds")
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args(argv)
    options = Options(args.duration, 16, 2)
    for kind in args.databases.split(","):
        if kind == "postgresql" and harness.postgres_problem():
            print("PostgreSQL skipped: its server does not answer.")
            continue
        figures = _measure(kind, options, args.rounds)
        for line in _summary(kind, figures):
            print(line)
    return 0


def _measure(kind: str, options: Options, rounds: int) -> dict:
    """{(variant, measurement): [(req/s, p50 ms, ping req/s of that round)]}."""
    figures: dict[tuple[str, str], list] = defaultdict(list)
    with harness.prepared_database(kind) as url, ExitStack() as stack:
        output = harness.run_module(
            url, "bench.seed", "--patients", "5000", "--targets", str(TARGETS), "--readers", "200"
        )
        seeded = json.loads(output.strip().splitlines()[-1])
        servers = {}
        for variant in VARIANTS:
            os.environ["REMS_HOT_STATEMENTS"] = variant
            servers[variant] = stack.enter_context(
                harness.running_server(url, label=f"{kind}-hot-{variant}")
            )
        os.environ.pop("REMS_HOT_STATEMENTS")
        numbers = gate.grant_for_reads(servers["driver"], seeded)
        decide = gate.decide_script(kind, 5000, seeded)
        for round_number in range(rounds):
            order = VARIANTS if round_number % 2 == 0 else VARIANTS[::-1]
            for variant in (*order, *order[::-1]):
                _round(variant, servers[variant], options, decide, seeded, numbers, figures)
                print(f"  [{kind}] round {round_number + 1} {variant}: done")
    return figures


def _round(variant, server, options, decide, seeded, numbers, figures) -> None:
    """Ping, decide and read once on `variant`'s server."""
    harness.warm_up(server, "/api/v1/ping")
    ping = _load(server, "/api/v1/ping", options, None)
    figures[variant, "ping"].append((ping.rps, ping.p50_ms, ping.rps))
    result = _load(server, "/api/v1/authorizations", options, decide)
    figures[variant, "decide"].append((result.rps, result.p50_ms, ping.rps))
    headers = (("Authorization", f"Bearer {seeded['token']}"), ("User-Agent", harness.USER_AGENT))
    variants = tuple(load.Variant(headers, path=f"/api/v1/authorizations/{n}") for n in numbers)
    script = load.Script(f"read-{variant}", "GET", variants, '"authorization_number"')
    result = _load(server, f"/api/v1/authorizations/{numbers[0]}", options, script)
    figures[variant, "read"].append((result.rps, result.p50_ms, ping.rps))


def _load(server, path: str, options: Options, script):
    return load.run_wrk(
        server.url(path), options.duration, options.connections, options.threads, script,
        name=path,
    )  # fmt: skip


def _summary(kind: str, figures: dict) -> list[str]:
    """Median req/s, p50 and share of ping per variant and measurement; the decision verdict."""
    lines = [f"{kind}: median of {len(figures['driver', 'ping'])} measurements each"]
    for name in MEASURED:
        for variant in VARIANTS:
            rows = figures[variant, name]
            rps = statistics.median(r for r, _, _ in rows)
            p50 = statistics.median(p for _, p, _ in rows)
            share = statistics.median(r / ping for r, _, ping in rows)
            lines.append(
                f"  {name:<7} {variant:<8} {rps:8.1f} req/s  p50 {p50:7.2f} ms  {share:5.2f}× ping"
            )
    for name in ("decide", "read"):
        driver = statistics.median(r / p for r, _, p in figures["driver", name])
        session = statistics.median(r / p for r, _, p in figures["session", name])
        lines.append(
            f"  {name}: the driver path gives {100 * (driver / session - 1):+.1f} % "
            "throughput (as shares of ping) over Session.execute"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
