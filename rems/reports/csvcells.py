"""An export's CSV text written a column at a time, as the csv module would write it row by row.

What each column's values become is decided once per column, and each batch of rows is turned
into text with the loops in C wherever the values allow: a column of plain text (no leading
formula character) is taken as it is; coded cells, days and small numbers are looked up in a
memo of what they were written as; only the other values go through `safe_cell` one by one.
The lines are then joined, with the csv module's minimal quoting (a cell holding a comma, a
quote, CR or LF is quoted, its quotes doubled) and CRLF line ends. The bytes are the csv
module's: tests/reports/test_export_bytes.py holds them to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import Any

from rems.common.csvsafe import FORMULA_TRIGGERS, safe_cell
from rems.reports.framework import Column

#: At most this many values are remembered per column, so memory stays flat.
MEMO_SIZE = 4096
#: Types whose equal values are always written alike (unlike 1 and True, 1 and 1.0, 12.5 and
#: 12.50 as Decimals, or one moment in two zones): only these are remembered.
KEY_TYPES = frozenset({str, date, int, type(None)})
#: Kinds of column whose values repeat (codes, days, counts): worth remembering.
REPEATED_KINDS = frozenset({"date", "number", "percent"})
QUOTED = re.compile('[,"\r\n]')
#: Between a column's cells when they are looked at at once: a cell that needs a quote of
#: either kind (see `_text_cells`) is found in the joined text.
SEPARATOR = "\x1f"
_SPECIAL = re.compile(f'[,"\r\n]|(?:^|{SEPARATOR})[{re.escape("".join(FORMULA_TRIGGERS))}]')

ColumnWriter = Callable[[Sequence[Any]], Sequence[str]]


class Memo(dict):
    """`function`'s results for repeated arguments: a hit costs one dict lookup in C."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[Any], str]) -> None:
        super().__init__()
        self.function = function

    def __missing__(self, key: Any) -> str:
        value = self.function(key)
        if len(self) < MEMO_SIZE:
            self[key] = value
        return value


def column_writer(column: Column, label: Callable[[Any], Any] | None) -> ColumnWriter:
    """What turns one column's values (a batch of them) into their cells' text: labelled when
    the column holds codes, formula-safe, as `safe_cell` writes each."""
    if label is None and column.kind not in REPEATED_KINDS:
        return _text_cells
    return remembered(partial(_cell, label))


def remembered(function: Callable[[Any], Any]) -> ColumnWriter:
    """`function` over a column's values, remembering its results for repeated values."""
    return partial(_remembered_cells, Memo(function), function)


def _cell(label: Callable[[Any], Any] | None, value: Any) -> str:
    """One value's cell: labelled, formula-safe, quoted as the csv module quotes."""
    text = safe_cell(value if label is None else label(value))
    return '"' + text.replace('"', '""') + '"' if QUOTED.search(text) else text


def _text_cells(values: Sequence[Any]) -> Sequence[str]:
    """A column of text that needs no quote of either kind (no leading formula character,
    nothing the csv module quotes) is its own cells; any other, cell by cell."""
    try:
        joined = SEPARATOR.join(values)
    except TypeError:  # not all text (None, a number)
        joined = ","
    if not _SPECIAL.search(joined):
        return values
    return [_cell(None, value) for value in values]


def _remembered_cells(memo: Memo, plain: Callable[[Any], str], values: Sequence[Any]) -> list:
    """Values of the remembered types through the memo; a batch with any other, cell by cell
    (the memo only ever holds keys of those types, so no other value can match one)."""
    if KEY_TYPES.issuperset(map(type, values)):
        return list(map(memo.__getitem__, values))
    return list(map(plain, values))


def csv_lines(writers: Sequence[ColumnWriter], columns: Sequence[Sequence[Any]]) -> str:
    """The CSV lines of a batch of rows given as one sequence of values per column."""
    cells = [write(values) for write, values in zip(writers, columns, strict=True)]
    if len(cells) == 1:  # the csv module writes a row of one empty cell as `""`
        cells = [['""' if text == "" else text for text in cells[0]]]
    return "\r\n".join(map(",".join, zip(*cells, strict=True))) + "\r\n"
