"""Error responses: the API's JSON error shape under /api, friendly pages everywhere else."""

from __future__ import annotations

from typing import Any

import sqlalchemy.exc
from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from rems.audit.asof import AsOfInFuture, AsOfUnreadable
from rems.auth.guard import ApiAuthError
from rems.common.errors import StateConflict, ValidationFailed
from rems.extensions import db
from rems.ratelimit import RateLimited, retry_after

API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}
API_MESSAGES = {
    403: "Your role may not do this.",
    404: "Not found.",
    405: "This method is not allowed here.",
    429: "Too many requests: wait the seconds Retry-After gives, then try again.",
    500: "Something went wrong on our side; nothing was stored.",
    503: "The database is not reachable right now; try again shortly.",
}


def api_error(status: int, message: str, details: dict[str, Any] | None = None, code=None):
    """A response in the API's error shape."""
    body = {"error": {"code": code or API_CODES.get(status, "error"), "message": message}}
    if details is not None:
        body["error"]["details"] = details
    response = jsonify(body)
    response.status_code = status
    return response


def _is_api() -> bool:
    """Whether the request is under the API's path."""
    return request.path == "/api" or request.path.startswith("/api/")


def _http_error(error: HTTPException):
    """Every HTTP error: JSON under /api, an error page elsewhere."""
    status = error.code or 500
    headers = {"Retry-After": str(retry_after(error))} if status == 429 else {}
    if _is_api():
        own = error.description if isinstance(error, RateLimited) else None
        message = own or API_MESSAGES.get(status)
        response = api_error(status, message or error.description or "Error.")
        if status == 405 and error.get_response().headers.get("Allow"):
            response.headers["Allow"] = error.get_response().headers["Allow"]
        response.headers.update(headers)
        return response
    template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/generic.html"
    return render_template(template, error=error, status=status), status, headers


def _csrf_error(error: CSRFError):
    """A form posted without a valid CSRF token (expired page, or a forged request)."""
    db.session.rollback()
    page = render_template(
        "errors/generic.html",
        status=400,
        error=error,
        message="This form has expired or did not come from this site. Go back, reload the "
        "page and submit it again.",
    )
    return page, 400


def _database_down(error: sqlalchemy.exc.OperationalError):
    """The database cannot be reached (or stayed locked): 503, and nothing was stored."""
    current_app.logger.error("database unavailable: %s", error)
    db.session.rollback()
    if _is_api():
        return api_error(503, API_MESSAGES[503])
    return render_template("errors/generic.html", status=503, error=error), 503


def _unexpected(error: Exception):
    """An unexpected failure: log it, roll back, show a 500."""
    current_app.logger.exception("unexpected error", exc_info=error)
    db.session.rollback()
    if _is_api():
        return api_error(500, API_MESSAGES[500])
    return render_template("errors/500.html", status=500), 500


def install(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(ApiAuthError, lambda e: api_error(401, str(e)))
    app.register_error_handler(AsOfUnreadable, lambda e: _as_of_error(400, e))
    app.register_error_handler(AsOfInFuture, lambda e: _as_of_error(422, e))
    app.register_error_handler(
        ValidationFailed,
        lambda e: _rollback_then(api_error(422, "Some fields are not valid.", e.errors)),
    )
    app.register_error_handler(StateConflict, lambda e: _rollback_then(api_error(409, str(e))))
    app.register_error_handler(sqlalchemy.exc.OperationalError, _database_down)
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)


def _as_of_error(status: int, error: Exception):
    """An API lookup's ?as_of= that is unreadable (400) or in the future (422)."""
    return api_error(status, str(error), {"as_of": [str(error)]})


def _rollback_then(response):
    """Roll the request's transaction back before answering with an error."""
    db.session.rollback()
    return response
