"""Path-aware readers of parsed TOML tables; each failure names the file and the dotted key path."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from rems.common.zones import is_time_zone

_Built = TypeVar("_Built")

_SNAKE_CASE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")


class ProgramFileError(ValueError):
    """The program file cannot be read, parsed or validated; the message says where and why."""


def describe(value: Any) -> str:
    """Render a TOML value for an error message, naming its type where the type may be the fault."""
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a boolean)"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return f"{value!r} (a string)"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return f"{value} (a {type(value).__name__})"


def quoted(values: Iterable[str]) -> str:
    """Join values as a readable list of quoted strings: 'a', 'b'."""
    return ", ".join(repr(value) for value in values)


def _integer_kind(minimum: int) -> str:
    if minimum == 1:
        return "a positive integer"
    if minimum == 0:
        return "a non-negative integer"
    return f"an integer >= {minimum}"


def _count_rule(min_count: int, max_count: int | None) -> str:
    if max_count is None:
        return f"at least {min_count} {'entry' if min_count == 1 else 'entries'}"
    return f"{min_count} to {max_count} entries"


@dataclass(slots=True, frozen=True)
class Node:
    """One TOML table together with the file name and the dotted path it was read from."""

    file: str
    path: str
    data: dict[str, Any]

    def key_path(self, key: str | None = None) -> str:
        """Dotted path of `key` in this table (or of the table itself when key is None)."""
        if key is None:
            return self.path or "(top level)"
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, message: str) -> ProgramFileError:
        """Build the error for `key` of this table: 'file: path.key: message'."""
        return ProgramFileError(f"{self.file}: {self.key_path(key)}: {message}")

    def has(self, key: str) -> bool:
        """Whether the table sets `key`."""
        return key in self.data

    def refuse_unknown(self, *allowed: str) -> None:
        """Refuse any key of this table that is not among `allowed`."""
        for key in self.data:
            if key not in allowed:
                raise self.error(key, f"unknown key (expected one of: {', '.join(allowed)})")

    def value(self, key: str) -> Any:
        """The raw value of a required key."""
        if key not in self.data:
            raise self.error(key, "required key is missing")
        return self.data[key]

    def table(self, key: str) -> Node:
        """A required sub-table."""
        if key not in self.data:
            raise self.error(key, "required table is missing")
        return self._as_table(key, self.data[key])

    def tables(self, key: str) -> tuple[Node, ...]:
        """A required, non-empty array of tables ([[key]]), each entry addressed as key[i]."""
        if key not in self.data:
            raise self.error(key, "required array of tables is missing")
        value = self.data[key]
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of tables, got {describe(value)}")
        if not value:
            raise self.error(key, "must have at least 1 entry, got 0")
        return tuple(self._as_table(f"{key}[{index}]", item) for index, item in enumerate(value))

    def each(
        self, key: str, build: Callable[[Node], _Built], unique: str, what: str
    ) -> tuple[_Built, ...]:
        """Build every entry of the array of tables `key`; no two may share their `unique` key."""
        entries = self.tables(key)
        built = tuple(build(entry) for entry in entries)
        refuse_duplicates(((entry, unique, entry.data[unique]) for entry in entries), what)
        return built

    def _as_table(self, key: str, value: Any) -> Node:
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table, got {describe(value)}")
        return Node(self.file, self.key_path(key), value)

    def integer(self, key: str, minimum: int = 1) -> int:
        """A required integer >= minimum (1 by default); a boolean is not an integer."""
        value = self.value(key)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.error(key, f"must be {_integer_kind(minimum)}, got {describe(value)}")
        return value

    def optional_integer(self, key: str, minimum: int = 1) -> int | None:
        """An integer >= minimum if the key is set, else None."""
        return self.integer(key, minimum) if key in self.data else None

    def text(self, key: str) -> str:
        """A required, non-blank string."""
        return self._text(key, self.value(key))

    def _text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"must be a non-empty string, got {describe(value)}")
        return value

    def time_zone(self, key: str) -> str:
        """A required IANA time zone name, e.g. America/New_York (known to zoneinfo)."""
        value = self.text(key)
        if not is_time_zone(value):
            message = "must be an IANA time zone name such as 'America/New_York'"
            raise self.error(key, f"{message}, got {value!r}")
        return value

    def flag(self, key: str) -> bool:
        """A required boolean."""
        value = self.value(key)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {describe(value)}")
        return value

    def choice(self, key: str, allowed: Collection[str]) -> str:
        """A required string that is one of `allowed`."""
        value = self.text(key)
        if value not in allowed:
            raise self.error(key, f"must be one of {quoted(allowed)}, got {value!r}")
        return value

    def optional_choice(self, key: str, allowed: Collection[str]) -> str | None:
        """A string among `allowed` if the key is set, else None."""
        return self.choice(key, allowed) if key in self.data else None

    def identifier(self, key: str) -> str:
        """A required snake_case identifier (a code or id that the database stores)."""
        return self._identifier(key, self.text(key))

    def _identifier(self, key: str, value: str) -> str:
        if not _SNAKE_CASE.fullmatch(value):
            message = "must be a snake_case identifier (a-z, 0-9 and single underscores)"
            raise self.error(key, f"{message}, got {value!r}")
        return value

    def texts(
        self,
        key: str,
        *,
        min_count: int = 1,
        max_count: int | None = None,
        identifiers: bool = False,
    ) -> tuple[str, ...]:
        """A required array of distinct non-blank strings (snake_case if `identifiers`)."""
        value = self.value(key)
        if not isinstance(value, list):
            raise self.error(key, f"must be an array of strings, got {describe(value)}")
        if len(value) < min_count or (max_count is not None and len(value) > max_count):
            raise self.error(
                key, f"must have {_count_rule(min_count, max_count)}, got {len(value)}"
            )
        items = tuple(self._text(f"{key}[{i}]", item) for i, item in enumerate(value))
        if identifiers:
            items = tuple(self._identifier(f"{key}[{i}]", item) for i, item in enumerate(items))
        refuse_duplicates(((self, f"{key}[{i}]", item) for i, item in enumerate(items)), "value")
        return items


def refuse_duplicates(entries: Iterable[tuple[Node, str, str]], what: str) -> None:
    """Refuse a value seen twice among (table, key, value) entries, naming both places."""
    seen: dict[str, str] = {}
    for node, key, value in entries:
        if value in seen:
            raise node.error(key, f"duplicate {what} {value!r} (already used at {seen[value]})")
        seen[value] = node.key_path(key)
