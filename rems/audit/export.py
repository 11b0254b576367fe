"""The audit-trail CSV, fast at 100,000 rows and more, in flat memory.

Both databases write the same bytes as `csv_chunks(EXPORT_HEADER, export_rows(...))`: the
formula guard of rems/common/csvsafe.py, the csv module's quoting (a field with a comma, a
quote, CR or LF is quoted, quotes doubled) and CRLF line ends.

* PostgreSQL: the database formats each row as one CSV line (the formula guard is a CASE on the
  leading character) and streams the lines with `COPY (SELECT …) TO STDOUT`; Python only joins
  them into chunks. A row whose JSON was stored before the canonical serializer (spaces after
  separators) comes out as a marker and is written by the Python path below.
* SQLite (and any other database): a Core select of the raw columns, each row turned into a
  tuple by one function with the formatting chosen up front, `writerows` per chunk.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.audit.queries import (
    EXPORT_COLUMNS,
    EXPORT_HEADER,
    JSON_COLUMNS,
    EventFilter,
    _json_cell,
    events_statement,
)
from rems.common.csvsafe import FORMULA_TRIGGERS

ROWS_PER_CHUNK = 1000
_MARK = "\x01"  # a line that is only this and a seq: the row is written in Python
_COPY_ESCAPES = {"\\": "\\", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_COPY_ESCAPE = re.compile(r"\\(.)")


def export_chunks(session, filters: EventFilter) -> Iterator[str]:
    """The filtered trail as CSV text (header first), in chunks of about ROWS_PER_CHUNK rows."""
    yield "\r\n".join((",".join(EXPORT_HEADER), ""))
    if session.get_bind().dialect.name == "postgresql":
        yield from _copy_chunks(session, filters)
    else:
        yield from _python_chunks(session, filters, _sqlite_stamp)


def _safe(value: str | None) -> str:
    """csvsafe.safe_cell for a text column."""
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def _sqlite_stamp(text: str) -> str:
    """SQLite's stored UTC text as datetime.isoformat() of the aware value writes it."""
    if len(text) == 26 and text[19] == ".":
        tail = "" if text.endswith("000000") else text[19:]
        return f"{text[:10]}T{text[11:19]}{tail}+00:00"
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


def _aware_stamp(value: datetime) -> str:
    """An aware UTC datetime as the CSV writes it."""
    return value.isoformat()


def _raw_statement(filters: EventFilter, raw_stamp: bool) -> sa.Select:
    """The export's columns, JSON as stored text, the timestamp raw on SQLite."""
    table = AuditEvent.__table__
    columns = []
    for name in EXPORT_COLUMNS:
        column = table.c[name]
        if name in JSON_COLUMNS:
            column = sa.cast(column, sa.Text).label(name)
        elif name == "occurred_at" and raw_stamp:
            column = sa.type_coerce(column, sa.String).label(name)
        columns.append(column)
    return events_statement(filters).with_only_columns(*columns)


def _row_formatter(stamp: Callable) -> Callable:
    """One function from a raw row to the CSV row's cells."""

    def cells(row) -> tuple:
        seq, at, actor, action, kind, entity, old, new, reason, request, ip, digest = row
        return (
            seq, stamp(at), _safe(actor), _safe(action), _safe(kind), _safe(entity),
            _safe(_json_cell(old)), _safe(_json_cell(new)), _safe(reason), _safe(request),
            _safe(ip), _safe(digest),
        )  # fmt: skip

    return cells


def _python_chunks(session, filters: EventFilter, stamp: Callable) -> Iterator[str]:
    """The rows formatted in Python, `writerows` per chunk."""
    statement = _raw_statement(filters, raw_stamp=stamp is _sqlite_stamp)
    result = session.connection().execute(statement.execution_options(yield_per=2000))
    cells = _row_formatter(stamp)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for rows in result.partitions(ROWS_PER_CHUNK):
        writer.writerows(map(cells, rows))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _sql_safe(text: sa.ColumnElement) -> sa.ColumnElement:
    """csvsafe.safe_cell in SQL: NULL as empty, a leading formula character gets a quote."""
    triggers = [sa.literal(t) for t in FORMULA_TRIGGERS]
    return sa.case(
        (text.is_(None), ""),
        (sa.func.left(text, 1).in_(triggers), sa.literal("'") + text),
        else_=text,
    )


def _sql_quoted(cell: sa.ColumnElement) -> sa.ColumnElement:
    """The csv module's minimal quoting in SQL: quote a cell with a comma, quote, CR or LF."""
    return sa.case(
        (
            cell.regexp_match('[,"\r\n]'),
            sa.literal('"') + sa.func.replace(cell, '"', '""') + sa.literal('"'),
        ),
        else_=cell,
    )


def _sql_json(column: sa.ColumnElement) -> sa.ColumnElement:
    """Stored JSON text as the CSV writes it: SQL NULL or JSON null as empty."""
    text = sa.cast(column, sa.Text)
    return sa.case((text == "null", None), else_=text)


def _copy_statement(filters: EventFilter) -> sa.Select:
    """One text column: the row's CSV line (no line end), or the marker and the seq for a row
    whose stored JSON is not in the canonical spelling."""
    table = AuditEvent.__table__
    at = sa.func.timezone("UTC", table.c.occurred_at)
    micro = sa.func.to_char(at, "US")
    stamp = (
        sa.func.to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS')
        + sa.case((micro == "000000", ""), else_=sa.literal(".") + micro)
        + sa.literal("+00:00")
    )
    cells = []
    for name in EXPORT_COLUMNS:
        if name == "seq":
            cells.append(sa.cast(table.c.seq, sa.Text))
        elif name == "occurred_at":
            cells.append(stamp)
        else:
            raw = _sql_json(table.c[name]) if name in JSON_COLUMNS else table.c[name]
            cells.append(_sql_quoted(_sql_safe(raw)))
    legacy = sa.or_(
        *(
            sa.func.strpos(sa.cast(table.c[name], sa.Text), separator) > 0
            for name in sorted(JSON_COLUMNS)
            for separator in (", ", ": ")
        )
    )
    line = sa.case(
        (legacy, sa.literal(_MARK) + sa.cast(table.c.seq, sa.Text)),
        else_=sa.func.concat_ws(",", *cells),
    )
    return events_statement(filters).with_only_columns(line)


def _copy_chunks(session, filters: EventFilter) -> Iterator[str]:
    """COPY's lines, ROWS_PER_CHUNK at a time, turned into the csv module's bytes."""
    compiled = _copy_statement(filters).compile(dialect=session.get_bind().dialect)
    sql = f"COPY ({compiled.string}) TO STDOUT"
    dbapi = session.connection().connection.dbapi_connection
    parts: list[bytes] = []
    with dbapi.cursor() as cursor, cursor.copy(sql, compiled.params) as copy:
        for data in copy:
            parts.append(bytes(data))
            if len(parts) == ROWS_PER_CHUNK:
                yield _copy_text(session, b"".join(parts))
                parts.clear()
    if parts:
        yield _copy_text(session, b"".join(parts))


def _copy_text(session, data: bytes) -> str:
    """COPY's text format (one column, lines ending in LF, backslash escapes) as CSV lines
    ending in CRLF; marked rows written by the Python path."""
    text = data.decode()
    if _MARK in text:
        text = _with_legacy_rows(session, text)
    text = text.replace("\n", "\r\n")
    if "\\" in text:
        text = _COPY_ESCAPE.sub(lambda match: _COPY_ESCAPES[match.group(1)], text)
    return text


def _with_legacy_rows(session, text: str) -> str:
    """Replace each marked line with the row as the Python path writes it (escaped for COPY's
    text format, which the caller then undoes)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(_MARK):
            written = _legacy_row(session, int(line[1:]))
            for plain, escape in (("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r")):
                written = written.replace(plain, escape)
            lines[index] = written
    return "\n".join(lines)


def _legacy_row(session, seq: int) -> str:
    """One row (by seq) as the Python path writes it, without its line end. Read on a
    connection of its own: the export's connection is busy with COPY."""
    statement = _raw_statement(EventFilter(), raw_stamp=False)
    statement = statement.where(AuditEvent.__table__.c.seq == seq)
    with session.get_bind().connect() as connection:
        row = connection.execute(statement).one()
    buffer = io.StringIO()
    csv.writer(buffer).writerow(_row_formatter(_aware_stamp)(row))
    return buffer.getvalue().removesuffix("\r\n")
