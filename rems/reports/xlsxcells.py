"""An export's XLSX cells written a column at a time, as the worksheet's XML (SpreadsheetML).

Each column holds one type, chosen by the column's kind: dates and date-times as serial numbers
with a date style, numbers and percentages as numbers, flags as yes/no, everything else as an
inline string (`<is><t>…</t></is>`: there is no shared-string table to hold in memory, and text
is never a formula or a link). A value of the wrong type for its column stays visible, as text.
What a column's values become is decided once per column, as for the CSV (`csvcells`): codes,
days, counts and flags are looked up in a memo of their cell's XML; a batch of a text column that
needs nothing but its tags (no character to escape or drop, no edge whitespace, no empty cell)
is found so with a few scans of its joined text, in C, and its values go in as they are; only
the other values are looked at one by one. The rows are then joined in C (`rows_xml`); every
cell is written, an empty one as `<c r="B7"/>`.

Text is XML-escaped (`&`, `<`, `>`); characters XML 1.0 forbids (control characters other
than tab, line feed and carriage return; U+FFFE, U+FFFF; lone surrogates) are dropped. As
Excel does, a carriage return is written `_x000D_` (XML would turn it into a line feed) and a
literal `_xHHHH_` has its underscore escaped (`_x005F_xHHHH_`) so that it is not read as one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from itertools import repeat
from typing import Any

from rems.reports.csvcells import remembered

#: The cell styles of `workbook.STYLES`, by position: 0 plain, then these.
STYLE_DATE, STYLE_DATETIME, STYLE_PERCENT, STYLE_HEADER = 1, 2, 3, 4
#: Kinds of column whose cells are remembered by value (they repeat: codes, days, counts).
REMEMBERED_KINDS = frozenset({"date", "number", "percent", "flag"})
#: Excel's day 1 is 1900-01-01, day 0 this (the serial of a date is the days since it, plus one
#: from 1900-03-01 on: Excel counts a 29 February 1900 that never was).
EPOCH = datetime(1899, 12, 31)
EPOCH_DAY = EPOCH.date()
EPOCH_UTC = EPOCH.replace(tzinfo=UTC)

_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_EXCEL_ESCAPE = re.compile("_(x[0-9A-Fa-f]{4}_)")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "_x000D_"})
_SPECIAL = re.compile(
    "[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_x[0-9A-Fa-f]{4}_|\\A\\s|\\s\\Z"
)
_TEXT_OPEN = '" t="inlineStr"><is><t>'
_TEXT_CLOSE = "</t></is></c>"

#: An empty cell, after its `<c r="B7`.
EMPTY = '"/>'

#: What turns a column's values (a batch of them) into its cells: (True, the values) when they
#: are text that goes between `<t>` tags as it is, else (False, each cell after its `<c r="B7`).
ColumnWriter = Callable[[Sequence[Any]], tuple[bool, Sequence[str]]]


def letters(index: int) -> str:
    """A column's letters: 0 is A, 25 Z, 26 AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def text_cell(text: str, style: int = 0) -> str:
    """A text cell after its `<c r="B7`: escaped, forbidden characters dropped; "" when nothing
    is left."""
    if _SPECIAL.search(text):
        text = _FORBIDDEN.sub("", text)
        if "_x" in text:
            text = _EXCEL_ESCAPE.sub(r"_x005F_\1", text)
        text = text.translate(_ESCAPES)
    if not text:
        return ""
    styled = f'" s="{style}"' if style else '"'
    if text[0].isspace() or text[-1].isspace():
        return f'{styled} t="inlineStr"><is><t xml:space="preserve">{text}{_TEXT_CLOSE}'
    return f'{styled} t="inlineStr"><is><t>{text}{_TEXT_CLOSE}'


YES, NO = text_cell("yes"), text_cell("no")


def cell(kind: str, value: Any) -> str:
    """One value's cell after its `<c r="B7` (its type, style and value), as its column's
    kind has it; `EMPTY` for no value."""
    if value is None or value == "":
        return EMPTY
    if kind in ("number", "percent"):
        number = _number(value)
        if number is not None:
            style = '" s="3"' if kind == "percent" else '"'
            return f"{style}><v>{number:.16G}</v></c>"
    elif kind == "date":
        day = _date(value)
        if day is not None:
            return f'" s="1"><v>{serial_of_day(day)}</v></c>'
    elif kind == "datetime":
        moment = _datetime(value)
        if moment is not None:
            return f'" s="2"><v>{serial(moment):.16G}</v></c>'
    elif kind == "flag" or isinstance(value, bool):
        return YES if value and value not in ("0", "false", "no") else NO
    return text_cell(str(value)) or EMPTY  # a value of the wrong type stays visible, as text


def shown_width(kind: str, value: Any) -> int:
    """How many characters the cell shows (for the column's width)."""
    if value is None or value == "":
        return 0
    if kind in ("number", "percent"):
        number = _number(value)
        if number is not None:
            return len(f"{number:g}")
    elif kind == "date":
        if _date(value) is not None:
            return 10
    elif kind == "datetime":
        if _datetime(value) is not None:
            return 16
    elif kind == "flag" or isinstance(value, bool):
        return 3 if value and value not in ("0", "false", "no") else 2
    return len(str(value))


def serial_of_day(day: date) -> int:
    """A day as Excel's serial number (1900 date system)."""
    days = (day - EPOCH_DAY).days
    return days + 1 if days > 59 else days


def serial(moment: datetime) -> float:
    """A naive date-time as Excel's serial number: days, and the time as a fraction of one."""
    delta = moment - EPOCH
    days = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return days + 1 if days > 59 else days


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return number if math.isfinite(number) else None


def _date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _datetime(value: Any) -> datetime | None:
    """A naive UTC date-time (Excel has no zones; the column's heading names it)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return None


def column_writer(kind: str, label: Callable[[Any], Any] | None) -> ColumnWriter:
    """What turns one column's values into its cells: labelled when the column holds codes."""
    if label is None and kind == "datetime":
        return _mapped(_moment_cell)
    if label is None and kind not in REMEMBERED_KINDS:
        return _text_cells
    one = partial(cell, kind) if label is None else partial(_labelled, label, kind)
    return (
        _remembered(remembered(one))
        if label is not None or kind in REMEMBERED_KINDS
        else (_mapped(one))
    )


def rows_xml(first: int, columns: Sequence[str], cells: Sequence[tuple[bool, Sequence]]) -> str:
    """The `<row>`s of a batch, numbered from `first`, given each column's letters and what
    its writer made of the batch. Each row is one join, in C, of its pieces: the row numbers,
    the cells, and between them the constant text (tags, a cell's reference up to its row
    number), repeated down the batch."""
    numbers = list(map(str, range(first, first + len(cells[0][1]))))
    pieces: list[Iterable[str]] = [repeat('<row r="'), numbers]
    between = '">'
    for column, (plain, values) in zip(columns, cells, strict=True):
        pieces += [repeat(f'{between}<c r="{column}'), numbers]
        if plain:
            pieces += [repeat(_TEXT_OPEN), values]
            between = _TEXT_CLOSE
        else:
            pieces.append(values)
            between = ""
    pieces.append(repeat(f"{between}</row>"))
    return "".join(map("".join, zip(*pieces, strict=False)))  # the repeats are endless


def _moment_cell(value: Any) -> str:
    """A date-time's cell, as `cell` writes it; a `datetime` (the usual value) taken faster."""
    if type(value) is not datetime:
        return cell("datetime", value)
    delta = value - (EPOCH if value.tzinfo is None else EPOCH_UTC)
    days = delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400
    return f'" s="2"><v>{days + 1 if days > 59 else days:.16G}</v></c>'


def _labelled(label: Callable[[Any], Any], kind: str, value: Any) -> str:
    return cell(kind, label(value))


def _mapped(one: Callable[[Any], str]) -> ColumnWriter:
    return lambda values: (False, list(map(one, values)))


def _remembered(bodies: Callable[[Sequence[Any]], Sequence[str]]) -> ColumnWriter:
    return lambda values: (False, bodies(values))


_text_cell_of = _mapped(partial(cell, "text"))


def _text_cells(values: Sequence[Any]) -> tuple[bool, Sequence[str]]:
    """A batch of a text column that needs nothing but its tags is its own cells' text; any
    other, cell by cell."""
    try:
        joined = " ".join(values)
    except TypeError:  # not all text (None, a number, a flag)
        return _text_cell_of(values)
    plain = (
        joined.isprintable()  # no control character, lone surrogate, U+FFFE/U+FFFF (nor some
        and "&" not in joined  # spaces and format characters, which simply go one by one)
        and "<" not in joined
        and ">" not in joined
        and "_x" not in joined
        and "" not in values
        and joined == " ".join(map(str.strip, values))  # no edge whitespace
    )
    return (True, values) if plain else _text_cell_of(values)
