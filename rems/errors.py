"""Error responses: the API's JSON error shape under /api, friendly pages everywhere else."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import sqlalchemy.exc
from flask import Flask, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, SecurityError

from rems.audit.asof import AsOfInFuture, AsOfUnreadable
from rems.auth.guard import ApiAuthError
from rems.common.errors import (
    NeedsConfirmation,
    OutcomeUnknown,
    RequestInProgress,
    StateConflict,
    ValidationFailed,
)
from rems.common.transactions import SAFE_METHODS
from rems.extensions import db, login_manager
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
STORAGE_FULL = (
    "The database's disk is full, so nothing can be stored: nothing was. Reading still works; "
    "try the change again once the operators have freed space."
)
NO_CONNECTION_SLOTS = (
    "The database has no free connection right now: nothing was stored; try again shortly."
)
OUTCOME_UNKNOWN = (
    "The database connection broke while the change was being saved: it may or may not be "
    "stored. Retry with the same Idempotency-Key to get the stored answer, or read the record "
    "before trying again."
)
PAGE_UNKNOWN = (
    "The connection to the database broke while your change was being saved: it may or may "
    "not be stored. Look at the record before you submit it again."
)
STORED_API = (
    "The change is stored, but the answer could not be built (the database connection was "
    "lost). Read the record to see it; do not send the change again without its "
    "Idempotency-Key."
)
STORED_PAGE = (
    "Your change is saved, but the next page could not be shown because the connection to "
    "the database was lost. Reload in a moment to see it; do not submit it again."
)
LAST_RESORT = (
    "Something went wrong on our side; a change sent with this request may or may not be "
    "stored. Retry with the same Idempotency-Key, or read the record before trying again."
)


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
    if isinstance(error, SecurityError):  # a Host outside TRUSTED_HOSTS: no URL can be built
        return "This host name is not served here.", 400, {"Content-Type": "text/plain"}
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


def describe_database_error(error: sqlalchemy.exc.DBAPIError) -> str:
    """What a log may say about a database error: its classes, SQLSTATE and the request id.
    Never its message: drivers quote the offending values there ("Key (token_hash)=(…)")."""
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    return (
        f"{type(error).__name__} ({type(original).__name__}, SQLSTATE {sqlstate or '-'}) "
        f"in request {g.get('request_id', '-')} {request.method} {request.path}"
    )


def _database_down(error: sqlalchemy.exc.OperationalError):
    """The database cannot be reached (or stayed locked, or cannot store): 503, and nothing was
    stored — unless the request had already committed, which the answer then says. A full disk
    or full connection slots are named as such. The page is drawn for an anonymous visitor:
    asking the database who is signed in would fail again."""
    current_app.logger.error("database unavailable: %s", describe_database_error(error))
    _quiet_rollback()
    if _committed():
        return _stored_but_unanswered(503)
    code, message = _what_failed(error)
    if _is_api():
        return api_error(503, message, code=code)
    g._login_user = login_manager.anonymous_user()
    page_message = message if code != "service_unavailable" else None
    return render_template("errors/generic.html", status=503, error=error,
                           message=page_message), 503  # fmt: skip


def _what_failed(error: sqlalchemy.exc.OperationalError) -> tuple[str, str]:
    """The API's code and message for a database that cannot serve the request: its disk is
    full (PostgreSQL's SQLSTATE 53100, SQLite's SQLITE_FULL), its connection slots are taken
    (53300), or it cannot be reached."""
    original = getattr(error, "orig", None)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate == "53100" or getattr(original, "sqlite_errorname", None) == "SQLITE_FULL":
        return "storage_full", STORAGE_FULL
    if sqlstate == "53300":
        return "service_unavailable", NO_CONNECTION_SLOTS
    return "service_unavailable", API_MESSAGES[503]


def _in_progress(error: RequestInProgress):
    """A retry overlapping its first request: no answer yet, ask again after Retry-After."""
    db.session.rollback()
    response = api_error(409, str(error), code="request_in_progress")
    response.headers["Retry-After"] = str(current_app.config["REMS_RETRY_IN_PROGRESS_SECONDS"])
    return response


def _outcome_unknown(error: OutcomeUnknown):
    """The commit itself failed on a lost connection: say that the outcome is unknown."""
    current_app.logger.error("connection lost during commit: %s", error)
    if _is_api():
        return api_error(503, OUTCOME_UNKNOWN, code="outcome_unknown")
    return render_template("errors/generic.html", status=503, message=PAGE_UNKNOWN), 503


def _unexpected(error: Exception):
    """An unexpected failure: log it (a database error by its class only), roll back, 500."""
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        current_app.logger.error("database error: %s", describe_database_error(error))
    else:
        current_app.logger.exception(
            "unexpected error in request %s", g.get("request_id", "-"), exc_info=error
        )
    _quiet_rollback()
    if _committed():
        return _stored_but_unanswered(500)
    if _is_api():
        return api_error(500, API_MESSAGES[500])
    return render_template("errors/500.html", status=500), 500


def _committed() -> bool:
    """Whether this writing request had committed its change before the failure."""
    return request.method not in SAFE_METHODS and g.get("rems_committed", False)


def _stored_but_unanswered(status: int):
    """The change is on record but the answer could not be built: never say it failed."""
    if _is_api():
        return api_error(status, STORED_API, code="stored_answer_unavailable")
    return render_template("errors/generic.html", status=status, message=STORED_PAGE), status


def _quiet_rollback() -> None:
    """Roll back; on a connection that is already gone, just drop it."""
    try:
        db.session.rollback()
    except sqlalchemy.exc.DBAPIError:
        db.session.close()


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
    app.register_error_handler(
        NeedsConfirmation,
        lambda e: _rollback_then(api_error(422, e.message, e.errors, e.code)),
    )
    app.register_error_handler(StateConflict, lambda e: _rollback_then(api_error(409, str(e))))
    app.register_error_handler(RequestInProgress, _in_progress)
    app.register_error_handler(sqlalchemy.exc.OperationalError, _database_down)
    app.register_error_handler(OutcomeUnknown, _outcome_unknown)
    app.teardown_appcontext(_end_session)  # runs before Flask-SQLAlchemy's own teardown
    if not app.testing:
        app.register_error_handler(Exception, _unexpected)
        app.wsgi_app = JsonErrorsUnderApi(app.wsgi_app)


def _end_session(_error: BaseException | None) -> None:
    """End the request's session. The answer is decided by now; a connection that died since
    (its rollback fails) is dropped and logged, never turned into an error page in its place."""
    try:
        db.session.remove()
    except sqlalchemy.exc.DBAPIError as error:
        current_app.logger.warning("end-of-request rollback failed: %s", error)
        db.session.remove()  # the broken connection is invalidated: this closes cleanly


class JsonErrorsUnderApi:
    """Last resort: anything escaping the app under /api is answered in the API's error shape
    (the WSGI server would send an HTML page). Whether a write was stored is then unknown."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not (path == "/api" or path.startswith("/api/")):
            return self.wsgi_app(environ, start_response)
        try:
            return self.wsgi_app(environ, start_response)
        except Exception:
            logging.getLogger("rems").exception("unhandled error under /api")
            body = json.dumps({"error": {"code": "internal_error", "message": LAST_RESORT}})
            body = body.encode()
            headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
            start_response("500 INTERNAL SERVER ERROR", headers, sys.exc_info())
            return [body]


def _as_of_error(status: int, error: Exception):
    """An API lookup's ?as_of= that is unreadable (400) or in the future (422)."""
    return api_error(status, str(error), {"as_of": [str(error)]})


def _rollback_then(response):
    """Roll the request's transaction back before answering with an error."""
    db.session.rollback()
    return response
