"""A soak: gunicorn with the shipped settings (deploy/gunicorn.conf.py: gthread, 4 threads) under
a steady mixed load for `--minutes` (30 by default), each worker's resident memory (VmRSS)
sampled every minute, to see whether it levels off or keeps growing.

    .venv/bin/python -m bench.soak                         # 30 minutes on PostgreSQL
    .venv/bin/python -m bench.soak --minutes 5 --database sqlite

The load, each request one of these at random: ping (no database), health (one query), the
bearer-token read `/api/v1/me` (token lookup, user load) and a 404 read of an unknown
authorization (a query and the error path). Workers are not recycled during the soak
(`--max-requests 0`; the shipped file recycles them every ~10,000 requests), so what a worker
keeps stays visible. The samples go to `soak-rss.csv` in the run's scratch directory. The
verdict compares the growth of the last third of the run with the first: memory "levels off"
when every worker grew less than LEVEL_MB in the last third."""

from __future__ import annotations

import argparse
import csv
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench import harness, load
from bench.harness import LOOPBACK, ROOT, Server
from bench.load import Script, Variant

PASSWORD = "soak-password-" + secrets.token_hex(8)
#: A worker that grew less than this (MB) over the last third of the run has levelled off.
LEVEL_MB = 2.0


def main(argv: list[str] | None = None) -> int:
    """Run the soak; 0 when every worker levelled off, 1 when one kept growing."""
    args = _arguments(argv)
    kind = args.database
    if kind == "postgresql" and (problem := harness.postgres_problem()):
        print(f"PostgreSQL is not available: {problem}", file=sys.stderr)
        return 2
    with harness.prepared_database(kind) as url, _shipped_server(url, args.workers) as server:
        harness.create_user(url, "soak-reader", PASSWORD)
        token = harness.create_token(url, "soak-reader", "soak")
        harness.warm_up(server, "/api/v1/ping")
        print(f"soak: {args.minutes} min on {kind}, log {server.log_path}", flush=True)
        samples = _soak(server, _mixed_load(token), args)
    path = harness.run_dir() / "soak-rss.csv"
    _write_csv(path, samples)
    print(f"samples: {path}")
    return 0 if _verdict(samples) else 1


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--database", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    return parser.parse_args(argv)


@contextmanager
def _shipped_server(database_url: str, workers: int) -> Iterator[Server]:
    """gunicorn with deploy/gunicorn.conf.py on a loopback port, workers never recycled."""
    port = harness.free_port()
    log_path = harness.run_dir() / f"gunicorn-soak-{port}.log"
    command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py"),
               "--bind", f"{LOOPBACK}:{port}", "--workers", str(workers), "--max-requests", "0",
               *harness._private_control_socket(), "wsgi:app"]  # fmt: skip
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=harness.app_env(database_url), stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    server = Server(f"http://{LOOPBACK}:{port}", log_path, process)
    try:
        harness._wait_until_up(server)
        yield server
    finally:
        harness._stop(process)


def _mixed_load(token: str) -> Script:
    """The soak's requests, one of four at random."""
    bearer = (("Authorization", f"Bearer {token}"),)
    return Script("soak", "GET", (
        Variant((), path="/api/v1/ping"),
        Variant((), path="/api/v1/health"),
        Variant(bearer, path="/api/v1/me"),
        Variant(bearer, path="/api/v1/authorizations/AUNKNOWN0000"),
    ))  # fmt: skip


def _soak(server: Server, script: Script, args) -> list[dict]:
    """One minute of load at a time, then every worker's RSS."""
    samples = [_sample(server, 0, 0)]
    for minute in range(1, args.minutes + 1):
        result = load.run_wrk(server.url("/api/v1/ping"), 60, args.connections, 2, script,
                              name=f"minute {minute}")  # fmt: skip
        samples.append(_sample(server, minute, result.requests))
        rss = ", ".join(f"{pid}: {mb:.1f} MB" for pid, mb in samples[-1]["rss"].items())
        print(f"minute {minute:3d}  {result.requests:8.0f} requests  {rss}", flush=True)
    return samples


def _sample(server: Server, minute: int, requests: float) -> dict:
    """Each worker's resident memory now (MB)."""
    return {"minute": minute, "requests": requests,
            "rss": {pid: _rss_mb(pid) for pid in server.worker_pids()}}  # fmt: skip


def _rss_mb(pid: int) -> float:
    """VmRSS of a process, in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _write_csv(path: Path, samples: list[dict]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["minute", "requests", "worker_pid", "rss_mb"])
        for sample in samples:
            for pid, mb in sample["rss"].items():
                writer.writerow([sample["minute"], f"{sample['requests']:.0f}", pid, f"{mb:.1f}"])


def _verdict(samples: list[dict]) -> bool:
    """Print each worker's growth, over the whole run and over its last third; whether every
    worker levelled off. A worker replaced during the run (a crash) is reported, not judged."""
    first, last = samples[1] if len(samples) > 1 else samples[0], samples[-1]
    third = samples[max(1, len(samples) - 1 - (len(samples) - 1) // 3)]
    levelled = True
    for pid, mb in last["rss"].items():
        if pid not in first["rss"] or pid not in third["rss"]:
            print(f"worker {pid}: started during the soak ({mb:.1f} MB at the end)")
            continue
        total, tail = mb - first["rss"][pid], mb - third["rss"][pid]
        flat = tail < LEVEL_MB
        levelled &= flat
        state = "levels off" if flat else "GROWS"
        print(f"worker {pid}: {first['rss'][pid]:.1f} → {mb:.1f} MB after minute 1 "
              f"(+{total:.1f}); last third +{tail:.1f} MB: {state}")  # fmt: skip
    return levelled


if __name__ == "__main__":
    raise SystemExit(main())
