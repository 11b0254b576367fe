"""CSV export that spreadsheet programs cannot turn into formulas, and what to say of an
uploaded CSV the csv module cannot read."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> str:
    """A cell as text; text that a spreadsheet would read as a formula gets a leading quote."""
    if type(value) is str:  # the common case first: most cells are text
        return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The CSV text, one line at a time, for a streamed download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield _drain(buffer)
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        yield _drain(buffer)


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[Any]], *, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """The CSV text in chunks of `rows_per_chunk` rows, for a long streamed download: one
    write to the socket per chunk instead of one per row, memory bounded by the chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow([safe_cell(value) for value in row])
        pending += 1
        if pending == rows_per_chunk:
            yield _drain(buffer)
            pending = 0
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    """Take what the writer wrote so far."""
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def unreadable_csv(line: int, error: csv.Error) -> str:
    """What to say of a file the csv module gives up on, at `line`."""
    return (f"Line {line} cannot be read as CSV ({error}): a cell longer than "
            f"{csv.field_size_limit():,} characters, or a quote that is never closed.")  # fmt: skip
