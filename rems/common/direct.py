"""Statements run straight on the driver: the hot paths' way past SQLAlchemy's per-call work.

`Session.execute` spends more time per statement than the driver does on a hot path: a cache-key
walk over the statement, parameter and result set-up, and (psycopg) a column description built
for every result. The few statements every dispensing request sends (the token check, the
decision's facts, the dose hold, its inserts, the audit row) are built with SQLAlchemy Core as
everywhere else, then run here instead: compiled once per dialect (and, for an INSERT, per set
of columns given), each call binds its values through the column types' own processors, runs
on the DBAPI cursor of the session's connection (so in the session's transaction, begun by the
same events), and returns named tuples converted by the types' result processors, which is
what `Session.execute` would have returned.

What SQLAlchemy guarantees around a statement is kept: the engine's `before_cursor_execute`
and `after_cursor_execute` listeners see every statement (the statement-count tests count them
there), and a driver error is wrapped and handled by SQLAlchemy itself, so a lost connection
invalidates the pool and reaches the app as the usual `DBAPIError`. Python-side column defaults
are not applied: an INSERT must give every column it writes (a missing one fails loudly). Values
the statement carries itself (literals, a LIMIT, a fixed IN list) are bound once, at its first
run: build such statements once, with `bindparam` for whatever varies.
"""

from __future__ import annotations

import os
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

#: For `bench/hot_statements.py` only: run every statement through `Session.execute` instead,
#: to measure what the driver path buys on the served gate.
THROUGH_SESSION = os.environ.get("REMS_HOT_STATEMENTS") == "session"


@dataclass(frozen=True, slots=True)
class _Plan:
    """One statement for one dialect and one shape of values (which keys are given, how long
    each list is): the final SQL, and where each driver argument comes from."""

    sql: str
    positional: bool
    #: (driver name, given key or None for a value fixed in the statement, list index or None,
    #: bind processor or None, the fixed value already processed)
    slots: tuple[tuple[str, str | None, int | None, Callable | None, Any], ...]
    row: type | None
    readers: tuple[Callable[[Any], Any] | None, ...]


class Direct:
    """A Core statement run on the driver (see the module). Build one per statement, once."""

    __slots__ = ("_plans", "statement")

    def __init__(self, statement: sa.Executable) -> None:
        self.statement = statement
        self._plans: dict[tuple, _Plan] = {}

    def all(self, session: Session, params: Mapping[str, Any] | None = None) -> list:
        """Every row, as named tuples."""
        return self._run(session, params or {}, fetch=True)

    def first(self, session: Session, params: Mapping[str, Any] | None = None):
        """The first row, or None."""
        rows = self._run(session, params or {}, fetch=True)
        return rows[0] if rows else None

    def one(self, session: Session, params: Mapping[str, Any] | None = None):
        """Exactly one row (NoResultFound / MultipleResultsFound otherwise)."""
        rows = self._run(session, params or {}, fetch=True)
        if len(rows) != 1:
            error = sa.exc.NoResultFound if not rows else sa.exc.MultipleResultsFound
            raise error(f"expected one row, got {len(rows)}")
        return rows[0]

    def execute(self, session: Session, params: Mapping[str, Any] | None = None) -> None:
        """Run it for its effect; nothing is fetched."""
        self._run(session, params or {}, fetch=False)

    def _run(self, session: Session, params: Mapping[str, Any], *, fetch: bool):
        if THROUGH_SESSION:
            result = session.execute(self.statement, dict(params))
            return result.all() if fetch else None
        connection = session.connection()
        plan = self._plan(connection.dialect, params)
        sql, args = plan.sql, _arguments(plan, params)
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            for listener in connection.dispatch.before_cursor_execute:
                listener(connection, cursor, sql, args, None, False)
            cursor.execute(sql, args)
            rows = cursor.fetchall() if fetch else None
            for listener in connection.dispatch.after_cursor_execute:
                listener(connection, cursor, sql, args, None, False)
        except connection.dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, sql, args, cursor, None)  # raises, wrapped
        finally:
            cursor.close()
        return _read(plan, rows) if fetch else None

    def _plan(self, dialect: sa.engine.Dialect, params: Mapping[str, Any]) -> _Plan:
        lengths = tuple(sorted((k, len(v)) for k, v in params.items() if isinstance(v, list)))
        shape = (dialect.name, frozenset(params), lengths)
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plans[shape] = _make_plan(self.statement, dialect, params)
        return plan


def _make_plan(statement, dialect: sa.engine.Dialect, params: Mapping[str, Any]) -> _Plan:
    """Compile for the dialect and these keys, expand IN lists once (SQLAlchemy's own
    expansion, run here on the first values of this shape), and note where each argument comes
    from; plus the row type and the result processors of the columns."""
    keys = sorted(params) if isinstance(statement, sa.Insert) else None
    compiled = statement.compile(dialect=dialect, column_keys=keys)
    state = compiled.construct_expanded_state(params)
    processors = {**compiled._bind_processors, **state.processors}
    origin = {key: (key, None) for key in params}  # given value: (its key, list index)
    for key, names in state.parameter_expansion.items():
        if key in params:
            origin.update({name: (key, index) for index, name in enumerate(names)})
    slots = []
    for name in state.positiontup if dialect.positional else state.parameters:
        key, index = origin.get(name, (None, None))
        fixed = None
        if key is None:  # a value the statement carries (a literal, a LIMIT, a fixed IN list)
            value = state.parameters[name]
            fixed = processors[name](value) if name in processors else value
        slots.append((name, key, index, processors.get(name), fixed))
    columns = list(statement.exported_columns)
    names = list(statement.exported_columns.keys())
    readers = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
    )
    row = _row_type(names) if names else None
    return _Plan(state.statement, dialect.positional, tuple(slots), row, readers)


def _row_type(names: list[str]) -> type:
    """A named tuple with the `_mapping` view SQLAlchemy's rows have."""
    base = namedtuple("Row", names)
    mapping = property(lambda row: dict(zip(row._fields, row, strict=True)))
    return type("Row", (base,), {"__slots__": (), "_mapping": mapping})


def _arguments(plan: _Plan, params: Mapping[str, Any]) -> Sequence | dict:
    """The driver's arguments for these values, each through its type's bind processor."""
    values = []
    for _name, key, index, processor, fixed in plan.slots:
        if key is None:
            values.append(fixed)
            continue
        value = params[key] if index is None else params[key][index]
        values.append(value if processor is None else processor(value))
    if plan.positional:
        return tuple(values)
    return {slot[0]: value for slot, value in zip(plan.slots, values, strict=True)}


def _read(plan: _Plan, rows: list) -> list:
    """Driver rows as named tuples, each value through its column type's result processor."""
    if plan.row is None:
        return rows
    readers = plan.readers
    make = plan.row._make
    if not any(readers):
        return [make(row) for row in rows]
    return [
        make(
            [
                value if read is None else read(value)
                for read, value in zip(readers, row, strict=True)
            ]
        )
        for row in rows
    ]
