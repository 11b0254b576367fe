"""FHIR answers: `application/fhir+json` bodies, and every error as an OperationOutcome with the
status the standard gives it (400 malformed, 401, 403, 404, 422, 429)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import HTTPException

from rems.auth.guard import ApiAuthError
from rems.common.errors import ValidationFailed
from rems.extensions import db
from rems.ratelimit import RateLimited, retry_after

FHIR_JSON = "application/fhir+json"
ISSUE_CODES = {400: "structure", 401: "login", 403: "forbidden", 404: "not-found",
               405: "not-supported", 413: "too-long", 415: "not-supported", 422: "invalid",
               429: "throttled", 503: "transient"}  # fmt: skip
MESSAGES = {
    403: "Your role may not do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    429: "Too many requests: wait the seconds Retry-After gives, then try again.",
}


class FhirError(Exception):
    """A request refused with an OperationOutcome: its status and one issue per problem
    (message, and the FHIRPath `expression` of the element at fault when known)."""

    def __init__(self, status: int, *issues: tuple[str, str | None]):
        super().__init__(issues[0][0])
        self.status, self.issues = status, issues


def fhir_response(resource: dict[str, Any], status: int = 200) -> Response:
    """A resource as `application/fhir+json`."""
    body = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
    return Response(body, status=status, mimetype=FHIR_JSON)


def operation_outcome(status: int, issues, severity: str = "error") -> dict[str, Any]:
    """An OperationOutcome with one issue per (message, expression)."""
    code = ISSUE_CODES.get(status, "processing")
    entries = []
    for message, expression in issues:
        issue = {"severity": severity, "code": code, "diagnostics": message}
        if expression:
            issue["expression"] = [expression]
        entries.append(issue)
    return {"resourceType": "OperationOutcome", "issue": entries}


def outcome_response(status: int, issues, headers: dict[str, str] | None = None) -> Response:
    """The OperationOutcome answer; nothing was stored (the session is rolled back)."""
    db.session.rollback()
    response = fhir_response(operation_outcome(status, issues), status)
    response.headers.update(headers or {})
    return response


def read_body() -> dict[str, Any]:
    """The request's JSON object, parsed strictly: anything else is a 400 naming the problem."""
    kind = (request.mimetype or "").lower()
    if kind not in (FHIR_JSON, "application/json"):
        raise FhirError(415, (f"Send the body as {FHIR_JSON}.", None))
    try:
        body = json.loads(request.get_data(as_text=True) or "")
    except (ValueError, RecursionError) as error:
        raise FhirError(400, (f"The body is not valid JSON: {error}.", None)) from None
    if not isinstance(body, dict):
        raise FhirError(400, ("The body must be a JSON object (a FHIR resource).", None))
    return body


def install_errors(bp: Blueprint) -> None:
    """Every error under the blueprint answered as an OperationOutcome."""
    bp.register_error_handler(FhirError, lambda e: outcome_response(e.status, e.issues))
    bp.register_error_handler(ApiAuthError, lambda e: outcome_response(401, [(str(e), None)]))
    bp.register_error_handler(ValidationFailed, _validation_failed)
    bp.register_error_handler(HTTPException, _http_error)


def _validation_failed(error: ValidationFailed) -> Response:
    issues = [(f"{field}: {' '.join(messages)}", field) for field, messages in error.errors.items()]
    return outcome_response(422, issues)


def _http_error(error: HTTPException) -> Response:
    status = error.code or 500
    own = error.description if isinstance(error, RateLimited) else None
    message = own or MESSAGES.get(status) or error.description or "Error."
    headers = {"Retry-After": str(retry_after(error))} if status == 429 else {}
    if status >= 500:
        current_app.logger.error("FHIR request failed with %s", status)
    return outcome_response(status, [(message, None)], headers)
