"""What each API route declares about itself for the OpenAPI document: its body model, its
answers and its parameters. The document is generated from these and the app's own routes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict

from rems.common.identifiers import ALPHABET


class Shape(BaseModel):
    """A JSON answer, declared for the document: exactly these fields."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True, slots=True)
class Answer:
    """One response: a description and its body (a Shape, the Error shape when None, or a raw
    JSON Schema), with response headers if any."""

    description: str
    model: type[BaseModel] | None = None
    headers: dict[str, Any] | None = None
    schema: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """A path or header parameter."""

    name: str
    where: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    required: bool = True


@dataclass(frozen=True, slots=True)
class Operation:
    """Everything the document says about one route and method."""

    operation_id: str
    summary: str
    answers: dict[int, Answer]
    description: str = ""
    body: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()


def operation(
    operation_id: str,
    summary: str,
    *,
    answers: dict[int, Answer],
    description: str = "",
    body: type[BaseModel] | None = None,
    params: tuple[Param, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a route for the document (put it under the route and policy decorators)."""
    declared = Operation(operation_id, summary, answers, description, body, params)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.rems_operation = declared  # type: ignore[attr-defined]
        return view

    return decorate


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """The declared operation of a view function, or None."""
    return getattr(view, "rems_operation", None)


def identifier_schema(prefix: str, what: str, format_name: str) -> dict[str, Any]:
    """A program identifier as a path parameter: its canonical shape as a pattern, its check
    character named by a format (e.g. "rems-site-id") and explained."""
    body = "[" + "".join(sorted(set(ALPHABET))) + "]"
    return {
        "type": "string",
        "format": format_name,
        "pattern": f"^{prefix}{body}{{11}}$",
        "description": f"{what}: '{prefix}', ten characters of Crockford's base 32 "
        "(0-9 and A-Z without I, L, O, U) and a check character (Luhn mod 32 over all that "
        "precedes it). Lower case, spaces and dashes are accepted; O reads as 0, I and L as 1.",
    }


NPI_SCHEMA = {
    "type": "string",
    "format": "npi",
    "pattern": "^[0-9]{10}$",
    "description": "A National Provider Identifier: ten digits, the last the Luhn check digit "
    "computed over the prefix 80840 followed by the first nine.",
}

#: The answers most routes share.
BAD_BODY = Answer("Malformed JSON, or a body not sent as 'Content-Type: application/json'.")
UNAUTHORIZED = Answer("Missing, invalid or revoked token, or a token in the query string.")
SITE_STAFF_ONLY = Answer("The token's user is not site staff.")
DATABASE_DOWN = Answer("The database is unreachable; nothing was stored.")

#: ?as_of= on the lookups: the answer as of a past moment, from the recorded history.
AS_OF = Param(
    "as_of", "query",
    "Answer as of a past moment, from the recorded status history: a date (YYYY-MM-DD, the end "
    "of that day in the program's time zone) or an ISO 8601 time with its zone; years 1900 to "
    "9999. Not in the future.",
    {
        "type": "string",
        "format": "rems-as-of",
        "pattern": r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$",
        "description": "A past date, e.g. 2026-11-24, or time, e.g. 2026-11-24T13:00:00Z.",
    },
    required=False,
)  # fmt: skip
AS_OF_UNREADABLE = Answer("as_of is not a date, or a time without its zone.")
