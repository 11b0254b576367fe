"""Command line of the benchmarks: which databases, how long and how hard, which scenario."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from types import ModuleType

from bench import foundation, gate, harness, monitoring, report, scale

SCENARIOS: dict[str, ModuleType] = {
    foundation.NAME: foundation,
    gate.NAME: gate,
    monitoring.NAME: monitoring,
    scale.NAME: scale,
}
DATABASES = ("sqlite", "postgresql")


def _databases(text: str) -> list[str]:
    """A comma-separated list of sqlite and/or postgresql."""
    kinds = [kind.strip() for kind in text.split(",") if kind.strip()]
    unknown = [kind for kind in kinds if kind not in DATABASES]
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(DATABASES)}, got {text!r}")
    return kinds


def _positive(text: str) -> int:
    """A whole number above zero."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number above zero, got {text!r}")
    return int(text)


def _sizes(text: str) -> tuple[int, ...]:
    """A comma-separated list of patient counts, each at least 1,000 (the gate samples 800)."""
    try:
        sizes = tuple(sorted({int(part.replace("_", "")) for part in text.split(",") if part}))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1000:
        raise argparse.ArgumentTypeError(f"patient counts of at least 1000, got {text!r}")
    return sizes


def _steps(text: str) -> tuple[str, ...]:
    """A comma-separated list of the scale scenario's measurements."""
    steps = tuple(step.strip() for step in text.split(",") if step.strip())
    unknown = [step for step in steps if step not in scale.MEASUREMENTS]
    if unknown or not steps:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(scale.MEASUREMENTS)}")
    return steps


def _only_choices() -> list[str]:
    """A scenario, one of its measurements (ping always runs: it is the reference), or both."""
    choices = list(SCENARIOS)
    for name, module in SCENARIOS.items():
        choices += [*module.MEASUREMENTS, *(f"{name}.{m}" for m in module.MEASUREMENTS)]
    return choices


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line's options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    databases = "comma-separated; PostgreSQL is skipped, with a note, if it does not answer"
    parser.add_argument("--databases", type=_databases, default="sqlite,postgresql", help=databases)
    parser.add_argument("--duration", type=_positive, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=_positive, default=16, help="open connections")
    parser.add_argument("--threads", type=_positive, default=2, help="wrk threads")
    sizes = "gate scenario: enrolled patients of each database compared (comma-separated)"
    parser.add_argument("--patients", type=_sizes, default="1000,100000", help=sizes)
    parser.add_argument("--worker-class", choices=("sync", "gthread"), default="sync",
                        help="gunicorn worker class")  # fmt: skip
    parser.add_argument("--worker-threads", type=_positive, default=4,
                        help="threads per worker with --worker-class gthread")  # fmt: skip
    parser.add_argument("--scale-patients", type=_sizes, default="100000,1000000",
                        help="scale scenario: the PostgreSQL worlds compared")  # fmt: skip
    parser.add_argument("--scale-steps", type=_steps, default=",".join(scale.MEASUREMENTS),
                        help="scale scenario: which of its measurements")  # fmt: skip
    parser.add_argument("--scale-page-samples", type=_positive, default=20,
                        help="scale scenario: requests per page line")  # fmt: skip
    parser.add_argument("--rebuild-worlds", action="store_true",
                        help="scale scenario: build the worlds again")  # fmt: skip
    only_help = "one scenario, or one measurement of it: " + ", ".join(_only_choices())
    parser.add_argument("--only", choices=_only_choices(), metavar="SCENARIO", help=only_help)
    args = parser.parse_args(argv)
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections")
    return args


def _selection(only: str | None) -> list[tuple[ModuleType, set[str] | None]]:
    """(scenario module, measurements to run or None for all) for --only."""
    if only is None or only in SCENARIOS:
        return [(m, None) for name, m in SCENARIOS.items() if only in (None, name)]
    scenario, _, measurement = only.rpartition(".")
    return [
        (module, {measurement})
        for name, module in SCENARIOS.items()
        if measurement in module.MEASUREMENTS and scenario in ("", name)
    ]


def _preamble(options: harness.Options) -> None:
    """Say how the figures are produced, before producing them."""
    wrk = shutil.which("wrk")
    version = "the Python fallback (wrk not found)"
    if wrk:
        first = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        version = f"{wrk} ({(first.stdout or first.stderr).splitlines()[0].strip()})"
    print(f"Load generator: {version}")
    print(
        f"Each measurement: {options.duration} s, {options.connections} connections, "
        f"{options.threads} threads; gunicorn -w 2 "
        f"{' '.join(harness.GUNICORN_OPTIONS) or '(sync workers)'} on 127.0.0.1; "
        f"{os.cpu_count()} CPU cores shared by server, database and load generator."
    )
    hashing = ", ".join(f"{k}={v}" for k, v in harness.CHEAP_HASHING.items())
    print(f"Password hashing cheapened for setup speed ({hashing}); no measured request hashes.")
    print(f"Scratch directory (server logs, wrk scripts): {harness.run_dir()}\n")


def _measure(kind: str, only: str | None, options: harness.Options, rows: list) -> bool:
    """Run the selected scenarios on one database into `rows`; False if one broke off."""
    ok = True
    for module, measurements in _selection(only):
        print(f"{module.NAME} on {kind}:")
        try:
            rows.extend(module.run(kind, options, measurements))
        except harness.BenchError as error:
            print(f"\nFAILED: {module.NAME} on {kind} broke off:\n{error}\n", file=sys.stderr)
            ok = False
    return ok


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the table; non-zero when anything FAILED."""
    args = parse_args(argv)
    options = harness.Options(args.duration, args.connections, args.threads)
    gate.SIZES = args.patients
    if args.worker_class == "gthread":
        harness.GUNICORN_OPTIONS[:] = ["-k", "gthread", "--threads", str(args.worker_threads)]
    monitoring.SIZES = args.patients
    scale.SIZES, scale.REBUILD = args.scale_patients, args.rebuild_worlds
    scale.STEPS, scale.SAMPLES["pages"] = args.scale_steps, args.scale_page_samples
    _preamble(options)
    rows: list[report.Row] = []
    ok = True
    for kind in args.databases:
        problem = harness.postgres_problem() if kind == "postgresql" else None
        if problem:
            print(f"Note: PostgreSQL skipped, its server does not answer ({problem}).\n")
            continue
        ok = _measure(kind, args.only, options, rows) and ok
    print()
    if rows:
        report.print_table(rows)
        for module in SCENARIOS.values():
            lines = module.summary() if hasattr(module, "summary") else []
            if lines:
                print(f"\n{module.NAME}:")
                print("\n".join(f"  {line}" for line in lines))
    else:
        print("Nothing was measured.")
    return 0 if ok and rows and not any(row.result.failed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
