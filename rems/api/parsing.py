"""Strict JSON request bodies: right content type, an object, only known fields, typed values.
Each body is one pydantic model (a `Body`); the same class feeds the OpenAPI document."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from werkzeug.exceptions import BadRequest

from rems.common.errors import ValidationFailed

MESSAGES = {
    "missing": "This field is required.",
    "extra_forbidden": "Unknown field.",
    "model_type": "Send a JSON object.",
    "model_attributes_type": "Send a JSON object.",
}


class Body(BaseModel):
    """A request body: unknown fields are refused, and null reads as absent (so a required
    field sent as null is missing, and an optional one takes its default)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {name: value for name, value in data.items() if value is not None}
        return data


B = TypeVar("B", bound=Body)


def parse_body(model: type[Body]) -> dict[str, Any]:
    """The request's JSON body checked against `model`, as a dict of the fields sent (typed:
    dates are dates). Every problem is reported at once (422); malformed JSON is a 400."""
    return model_of(model).model_dump(exclude_none=True)


def model_of(model: type[B]) -> B:
    """The request's JSON body as an instance of `model` (see parse_body)."""
    if not request.is_json:
        raise BadRequest("Send the body as JSON with 'Content-Type: application/json'.")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("The body is not valid JSON.")
    try:
        return model.model_validate(body)
    except ValidationError as problem:
        raise ValidationFailed(field_errors(problem)) from None


def field_errors(problem: ValidationError) -> dict[str, list[str]]:
    """pydantic's errors as the API's `details`: each field with its messages."""
    errors: dict[str, list[str]] = {}
    for item in problem.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "body"
        errors.setdefault(field, []).append(_message(item))
    return errors


def _message(item: Any) -> str:
    """The caller-facing message of one pydantic error."""
    if item["type"] == "value_error":
        return str(item["ctx"]["error"])
    return MESSAGES.get(item["type"], item["msg"])
