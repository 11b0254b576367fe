"""`flask rems export REPORT …`: a report to a file for scheduled jobs, with a progress bar,
audited like every export."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from rems.audit.access import note_reads
from rems.common.errors import ValidationFailed
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.reports.catalogue import REPORTS, report_named
from rems.reports.exporting import FORMATS, WRITERS, Export
from rems.reports.filters import parse_filters
from rems.reports.framework import count_of, ordered
from rems.reports.queries import dialect_of, row_batches
from rems.reports.services import hashed, new_export, record_export

FILTER_NAMES = ("prescriber", "site", "state", "status", "party", "within_days")
ACTOR_LABEL = "cli:export"


@click.command("export")
@click.argument("report_name", metavar="REPORT")
@click.option("--from", "date_from", default="", help="First day of the period (YYYY-MM-DD).")
@click.option("--to", "date_to", default="", help="Last day of the period (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="csv")
@click.option("--deidentified", is_flag=True, help="Remove identifiers, key and shift patients.")
@click.option("--filter", "extra", multiple=True, metavar="NAME=VALUE",
              help=f"Narrow further: {', '.join(FILTER_NAMES)}.")  # fmt: skip
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_report(report_name, date_from, date_to, fmt, deidentified, extra, output):
    """Export a report (see /reports for the names) to a CSV or XLSX file."""
    report = report_named(report_name)
    if report is None:
        _fail(ValidationFailed.single("REPORT", f"No report {report_name!r}; one of: "
                                                f"{', '.join(REPORTS)}."))  # fmt: skip
    args = {"from": date_from, "to": date_to, **_pairs(extra)}
    try:
        filters = parse_filters(
            db.session, report, args, today=program_today(),
            max_days=current_app.config["REMS_REPORT_MAX_DAYS"],
        )  # fmt: skip
    except ValidationFailed as failure:
        _fail(failure)
    total = db.session.scalar(count_of(ordered(report, filters, dialect_of(db.session))))
    job = new_export(report, filters, fmt, deidentified, ACTOR_LABEL)
    _write(job, row_batches(db.session, report, filters), output, total or 0)
    click.echo(f"Exported {job.rows} row(s) of {report.name} to {output}; its metadata "
               f"(filters, period, SHA-256) to {_sidecar(output)}.")  # fmt: skip


def _sidecar(output: Path) -> Path:
    """Where the file's metadata goes: `<file>.json` beside it."""
    return output.with_name(output.name + ".json")


def _fail(failure: ValidationFailed) -> None:
    """Print the refusal field by field and exit non-zero; no file was written."""
    for field, messages in failure.errors.items():
        for message in messages:
            click.echo(f"Error: {field}: {message}", err=True)
    raise SystemExit(1)


def _pairs(extra: Iterable[str]) -> dict[str, str]:
    """NAME=VALUE options as a dict; an unknown name is refused."""
    pairs = {}
    for item in extra:
        name, _, value = item.partition("=")
        if name not in FILTER_NAMES:
            _fail(ValidationFailed.single("filter", f"Unknown filter {name!r}; one of: "
                                                    f"{', '.join(FILTER_NAMES)}."))  # fmt: skip
        pairs[name] = value
    return pairs


def _write(job: Export, batches: Iterator[Sequence], output: Path, total: int) -> None:
    """Write the file next to its name and move it in place only when whole."""
    partial = output.with_name(output.name + ".part")
    with click.progressbar(length=total, label=f"Exporting {job.report.name}",
                           file=sys.stderr) as bar:  # fmt: skip
        chunks = hashed(WRITERS[job.fmt](job, _ticking(batches, bar)), _recorder(job, output))
        try:
            with partial.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    partial.replace(output)


def _ticking(batches: Iterator[Sequence], bar) -> Iterator[Sequence]:
    """Move the progress bar by each batch of rows."""
    for batch in batches:
        yield batch
        bar.update(len(batch))


def _recorder(job: Export, output: Path):
    """Record the export when the file ends (complete or not), then the patients it named in
    the access log; a complete file gets its metadata beside it."""

    def on_end(sha256: str, completed: bool) -> None:
        db.session.rollback()
        with writing():
            record_export(
                db.session, job, actor=None, actor_label=ACTOR_LABEL, sha256=sha256,
                completed=completed,
            )  # fmt: skip
            db.session.commit()
        note_reads(None, "export", "patient", job.patients, actor_label=ACTOR_LABEL)
        if completed:
            text = json.dumps(job.metadata(sha256, completed), indent=2, sort_keys=True)
            sidecar.write_text(text + "\n", encoding="utf-8")

    sidecar = _sidecar(output)
    return on_end
