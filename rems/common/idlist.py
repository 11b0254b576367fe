"""`column IN (ids)` sent as one bound value, whatever the number of ids: on PostgreSQL
`column = ANY(an integer array)`, on SQLite `column IN (SELECT value FROM json_each(a JSON
array))`. A plain IN sends one parameter per id, and a thousand of them cost more to render,
send and plan than the query costs to run (the assessment's patients read by the old way:
scattered ids, a thousand at a time); the statement's text is also the same for every
number of ids, so it is compiled and prepared once."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


class _Ids(sa.TypeDecorator[list[int]]):
    """A list of integer ids: an integer array on PostgreSQL, JSON text elsewhere."""

    impl = sa.String
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> Any:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(sa.Integer))
        return dialect.type_descriptor(sa.String())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        ids = [int(each) for each in value]  # an id that is not an integer fails here, loudly
        return ids if dialect.name == "postgresql" else json.dumps(ids)


class AmongIds(ColumnElement[bool]):
    """`column` is one of `ids` (see the module's text)."""

    __visit_name__ = "among_ids"
    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a condition as it stands (SQLite: no "= 1" after it)
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, ids: Iterable[int]) -> None:
        self.column = column.expression  # an ORM attribute or a column: its SQL expression
        self.ids = sa.bindparam("ids", list(ids), type_=_Ids(), unique=True)


@compiles(AmongIds)
def _among_ids(element: AmongIds, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 (compiled parts)


@compiles(AmongIds, "postgresql")
def _among_ids_postgresql(element: AmongIds, compiler: Any, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"  # the driver's dialect casts the value to INTEGER[]


def among_ids(column: Any, ids: Iterable[int]) -> AmongIds:
    """`column IN ids`, the ids sent as one value."""
    return AmongIds(column, ids)
