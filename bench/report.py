"""The benchmark's table: figures as ratios to ping measured in the same run."""

from __future__ import annotations

from dataclasses import dataclass

from bench.harness import DRIFT_LIMIT, SOCKET_ERROR_LIMIT
from bench.load import Result

# --- The table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A measurement beside the ping measured on the same server in the same run."""

    database: str
    result: Result
    ping: Result


HEADER = ("scenario", "database", "req/s", "req/s vs ping", "p50 ms", "p50 vs ping", "p99 ms")
HEADER += ("p99/p50", "errors", "result")


def _ratio(value: float, reference: float) -> str:
    """`value` as a multiple of ping's figure."""
    return f"{value / reference:.2f}× ping" if reference else "n/a"


def _cells(row: Row) -> tuple[str, ...]:
    """One table line."""
    result, ping = row.result, row.ping
    return (
        result.name, row.database, f"{result.rps:.1f}", _ratio(result.rps, ping.rps),
        f"{result.p50_ms:.2f}", _ratio(result.p50_ms, ping.p50_ms), f"{result.p99_ms:.2f}",
        f"{result.p99_ms / result.p50_ms:.1f}×" if result.p50_ms else "n/a",
        f"{result.errors}/{result.requests}", "FAILED" if result.failed else "ok",
    )  # fmt: skip


def format_table(rows: list[Row]) -> str:
    """The rows as an aligned text table: names left-aligned, figures right-aligned."""
    lines = [HEADER, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    text = []
    for line in lines:
        pairs = enumerate(zip(line, widths, strict=True))
        cells = [cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in pairs]
        text.append("  ".join(cells).rstrip())
    text.insert(1, "-" * len(text[0]))
    return "\n".join(text)


def failure_reasons(result: Result) -> list[str]:
    """Why a measurement is FAILED, in words."""
    reasons = list(result.problems)
    if result.requests == 0:
        reasons.append("no request completed")
    if result.non_2xx:
        reasons.append(f"{result.non_2xx} non-2xx/3xx answers; statuses {result.statuses or '?'}")
    if result.socket_errors > SOCKET_ERROR_LIMIT * result.requests:
        reasons.append(f"{result.socket_errors} socket errors (connect/read/write/timeout)")
    if result.error_sample:
        reasons.append(f"first error answer: {result.error_sample[:300]}")
    return reasons


def print_table(rows: list[Row]) -> None:
    """Print the table, then the reasons behind every FAILED line."""
    print(format_table(rows))
    for row in rows:
        if row.result.failed:
            print(f"\nFAILED: {row.result.name} on {row.database}:")
            for reason in failure_reasons(row.result):
                print(f"  - {reason}")


def drift_warning(first: Result, last: Result) -> str | None:
    """A warning when ping's throughput moved between the start and the end of a run."""
    if not first.rps:
        return None
    change = last.rps / first.rps - 1
    if abs(change) <= DRIFT_LIMIT:
        return None
    return (
        f"ping moved {change:+.0%} between the start and the end of the run: something else "
        "used the CPUs meanwhile; compare this run's ratios with care"
    )


def describe(database: str, result: Result) -> str:
    """A one-line progress report of a finished measurement."""
    verdict = "FAILED" if result.failed else "ok"
    return (
        f"  [{database}] {result.name}: {result.rps:.1f} req/s, p50 {result.p50_ms:.2f} ms, "
        f"p99 {result.p99_ms:.2f} ms, {result.errors} errors in {result.requests} — {verdict}"
    )
