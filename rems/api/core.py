"""The /api/v1 blueprint and its own endpoints: ping, health, the OpenAPI document and the
caller's identity. Each domain's API is a blueprint of its own, nested in this one by
rems.api.v1."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from rems.api.openapi import openapi_document
from rems.api.operations import UNAUTHORIZED, Answer, operation
from rems.api.schemas import Health, Me, Ping
from rems.auth.permissions import current_identity, public, signed_in
from rems.errors import api_error
from rems.observability.health import health_report

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.get("/ping")
@public
@operation("ping", "Liveness without the database", answers={200: Answer("The app answers.", Ping)})
def ping():
    """Liveness without the database: the floor benchmarks compare against."""
    return {"status": "ok"}


@bp.get("/health")
@public
@operation(
    "health",
    "Readiness: the database, the rate-limit store and the mail relay",
    answers={
        200: Answer("The gate can decide (the database answers).", Health),
        503: Answer("The database is down; `details` gives every dependency's state."),
    },
)
def health():
    """Readiness for operators: each dependency's state; 503 only when the database is down
    (then the gate cannot decide)."""
    report, status = health_report()
    if status == 503:
        details = {name: [state] for name, state in report.items() if name != "status"}
        return api_error(503, "The database is not reachable.", details)
    return report


@bp.get("/openapi.json")
@public
@operation(
    "openapi",
    "This document",
    answers={200: Answer("The OpenAPI 3.1 document.", schema={"type": "object"})},
)
def openapi():
    """The OpenAPI 3.1 description of this API, generated from its routes. Its server URL is
    relative: nothing from the request (a forged Host header) is reflected into it."""
    return jsonify(openapi_document(current_app, ""))


@bp.get("/me")
@signed_in
@operation(
    "whoAmI",
    "The user the token acts as",
    answers={200: Answer("The token's user.", Me), 401: UNAUTHORIZED},
)
def me():
    """Who the token acts as: user, role, site or prescriber (read with the token, no query)."""
    user = current_identity()
    return {
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role.value,
        "is_authorized_representative": user.is_authorized_representative,
        "site_id": user.site_code,
    }
