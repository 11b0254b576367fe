"""The OpenAPI 3.1 document served at /api/v1/openapi.json, generated from the app's API routes:
each route's declared operation (rems.api.operations) and its pydantic models."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from rems.api.operations import Answer, Operation, Param, operation_of
from rems.api.schemas import Error
from rems.auth.permissions import policy_of

REF = "#/components/schemas/{model}"
SKIPPED_METHODS = {"HEAD", "OPTIONS"}
INFO = {
    "title": "LEMTRADA REMS API",
    "version": "1.0.0",
    "description": "Certification lookups, dispensing authorization, infusions and monitoring "
    "results for pharmacy, infusion-site and EHR systems. Errors always use the Error schema: "
    "400 malformed JSON or wrong content type, 401 missing or invalid token, 403 role may not, "
    "404 not found or not yours, 409 state conflict, 422 field validation (`details` maps each "
    "field to its messages; unknown fields are refused), 503 database down.",
}
#: Every operation may answer 429: the API's rate limits (rems/ratelimit.py).
RATE_LIMITED = {
    "description": "Too many requests from this token (or too many PATIENT_NOT_FOUND answers "
    "for this token or patient ID): wait the seconds Retry-After gives.",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
}
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "An API token created in the web app or by `flask rems create-token`. "
    "Never in the query string.",
}


def openapi_document(app: Flask, server_url: str) -> dict[str, Any]:
    """The whole document, with the server this request reached."""
    paths: dict[str, Any] = {}
    models: set[type[BaseModel]] = {Error}
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule):
        if rule.endpoint != "api" and not rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        declared = operation_of(view)
        if declared is None:
            raise LookupError(f"API route {rule.endpoint} declares no operation.")
        models |= _models_of(declared)
        public = bool(policy_of(view) and policy_of(view).public)
        for method in sorted(rule.methods - SKIPPED_METHODS):
            paths.setdefault(_path(rule.rule), {})[method.lower()] = _operation(declared, public)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "servers": [{"url": f"{server_url}/api/v1"}],
        "security": [{"bearerToken": []}],
        "paths": paths,
        "components": {"schemas": _schemas(models), "securitySchemes": {"bearerToken": BEARER}},
    }


def _path(rule: str) -> str:
    """/api/v1/sites/<site_id> as /sites/{site_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.removeprefix("/api/v1"))


def _models_of(declared: Operation) -> set[type[BaseModel]]:
    models = {answer.model for answer in declared.answers.values() if answer.model}
    return models | ({declared.body} if declared.body else set())


def _operation(declared: Operation, public: bool) -> dict[str, Any]:
    """One operation object."""
    result: dict[str, Any] = {"operationId": declared.operation_id, "summary": declared.summary}
    if declared.description:
        result["description"] = declared.description
    if public:
        result["security"] = []
    if declared.params:
        result["parameters"] = [_parameter(param) for param in declared.params]
    if declared.body:
        result["requestBody"] = {"required": True, "content": _json(_ref(declared.body))}
    result["responses"] = {
        str(status): _response(answer) for status, answer in sorted(declared.answers.items())
    } | {"429": RATE_LIMITED}
    return result


def _parameter(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": param.where,
        "required": param.required,
        "description": param.description,
        "schema": param.schema,
    }


def _response(answer: Answer) -> dict[str, Any]:
    schema = answer.schema or _ref(answer.model or Error)
    response: dict[str, Any] = {"description": answer.description, "content": _json(schema)}
    if answer.headers:
        response["headers"] = answer.headers
    return response


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _schemas(models: set[type[BaseModel]]) -> dict[str, Any]:
    """Every model's JSON Schema and those of the models they use, titles left out."""
    ordered = sorted(models, key=lambda model: model.__name__)
    _, top = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    return {name: _untitled(schema) for name, schema in sorted(top.get("$defs", {}).items())}


def _untitled(schema: Any) -> Any:
    """A schema without pydantic's generated `title` keywords (property names are kept) and
    with descriptions on one line."""
    if isinstance(schema, dict):
        return {
            key: _one_line(value) if key == "description" else _untitled(value)
            for key, value in schema.items()
            if not (key == "title" and isinstance(value, str))
        }
    if isinstance(schema, list):
        return [_untitled(item) for item in schema]
    return schema


def _one_line(value: Any) -> Any:
    return " ".join(value.split()) if isinstance(value, str) else _untitled(value)
