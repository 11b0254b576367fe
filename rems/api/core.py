"""The API's own endpoints: ping, health, the OpenAPI document and the caller's identity."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from rems.api import bp
from rems.api.openapi import openapi_document
from rems.auth.permissions import current_identity, public, signed_in
from rems.errors import api_error
from rems.extensions import db


@bp.get("/ping")
@public
def ping():
    """Liveness without the database: the floor benchmarks compare against."""
    return {"status": "ok"}


@bp.get("/health")
@public
def health():
    """Readiness: 200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return api_error(503, "The database is not reachable.", {"database": ["unreachable"]})
    return {"status": "ok", "database": "ok"}


@bp.get("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 description of this API, as implemented."""
    return jsonify(openapi_document(request.host_url.rstrip("/")))


@bp.get("/me")
@signed_in
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
