"""The per-request guard: request ids, session timeouts, bearer tokens and route policies."""

from __future__ import annotations

import hmac
import re
import secrets

from flask import Flask, abort, current_app, flash, g, redirect, request, session, url_for
from flask_login import current_user, logout_user

from rems.auth.models import Role, User
from rems.auth.permissions import current_actor, policy_of
from rems.auth.tokens import TokenIdentity, authenticate_token, note_token_use
from rems.common.clock import utcnow
from rems.common.localtime import program_today
from rems.common.transactions import reading, request_may_write
from rems.extensions import db, login_manager

QUERY_TOKEN_PARAMS = ("access_token", "token", "api_key", "apikey", "bearer", "auth")
#: All a user whose password an administrator reset may reach until they choose a new one.
PASSWORD_PAGES = frozenset({"auth.change_password", "auth.sign_out"})
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NOT_CERTIFIED = (
    "This token's prescriber or site is not certified (suspended, revoked, expired or not yet "
    "certified): its API tokens are refused until it is certified again."
)
#: The endpoints an uncertified site's staff still reach: the gate records their request as
#: the denial PHARMACY_NOT_CERTIFIED (every attempt to dispense is on record), and its FHIR dry
#: run answers as the gate would.
GATE_ENDPOINT = "api.authorizations.authorization_request"
GATE_ENDPOINTS = (GATE_ENDPOINT, "fhir.rems_etasu")
#: Blueprints that authenticate with bearer tokens (the JSON API and the FHIR endpoints).
TOKEN_BLUEPRINTS = ("api", "fhir")


class ApiAuthError(Exception):
    """A bearer-token problem: refused with 401 in the API's error shape."""


@login_manager.user_loader
def load_user(identity: str) -> User | None:
    """The session's user, only while the session token in the cookie is still the current one."""
    user_id, _, token = identity.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


def install(app: Flask) -> None:
    """Register the guard's hooks on the app."""
    app.before_request(_assign_request_id)
    app.before_request(_enforce_policy)
    app.after_request(_finish_response)


def _assign_request_id() -> None:
    """Take a well-formed X-Request-ID from the caller or make one."""
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID_RE.match(supplied) else secrets.token_hex(8)


def _enforce_policy():
    """Deny by default: a route without a declared policy, or the wrong role, is refused."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    is_api = any(name in request.blueprints for name in TOKEN_BLUEPRINTS)
    user = _api_identity() if is_api else _web_identity()
    policy = policy_of(current_app.view_functions[request.endpoint])
    if policy is None:
        current_app.logger.error("route %s declares no policy; refused", request.endpoint)
        abort(403)
    if policy.public:
        return None
    if user is None:
        if is_api:
            raise ApiAuthError("Send a valid API token as 'Authorization: Bearer <token>'.")
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if not is_api and user.must_change_password and request.endpoint not in PASSWORD_PAGES:
        return redirect(url_for("auth.change_password"))
    if not policy.allows(user):
        abort(403)
    return None


def _api_identity() -> TokenIdentity | None:
    """The bearer token's identity; a token in the query string is refused outright."""
    if any(name in request.args for name in QUERY_TOKEN_PARAMS):
        raise ApiAuthError(
            "API tokens are refused in the query string; send 'Authorization: Bearer <token>'."
        )
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, credential = header.partition(" ")
    if scheme.lower() != "bearer" or not credential.strip():
        raise ApiAuthError("Use 'Authorization: Bearer <token>'.")
    identity = check_token(credential.strip())
    if not identity.certified(program_today()) and not _asks_the_gate(identity):
        raise ApiAuthError(NOT_CERTIFIED)
    g.api_identity = identity
    note_token_use(db.session, identity)
    return identity


def _asks_the_gate(identity: TokenIdentity) -> bool:
    """Site staff asking the gate: answered (and recorded) as a denial, not refused."""
    return request.endpoint in GATE_ENDPOINTS and identity.role == Role.SITE_STAFF


def check_token(credential: str) -> TokenIdentity:
    """The token check: one read, in a transaction of its own on SQLite for requests that
    write (their writes begin afresh, with the write lock, where they write); for a read
    on PostgreSQL, with no transaction at all (`RequestSession`)."""
    with reading():
        identity = authenticate_token(db.session, credential)
        if request_may_write() and db.engine.dialect.name == "sqlite":
            db.session.rollback()
    if identity is None:
        raise ApiAuthError("The API token is not valid, or it was revoked.")
    return identity


def _web_identity() -> User | None:
    """The signed-in web user, after enforcing the idle and absolute timeouts."""
    if not current_user.is_authenticated:
        return None
    now = utcnow().timestamp()
    seen_at = session.get("seen_at", 0)
    signed_in_at = session.get("signed_in_at", 0)
    idle = current_app.config["REMS_IDLE_TIMEOUT"].total_seconds()
    absolute = current_app.config["REMS_ABSOLUTE_TIMEOUT"].total_seconds()
    if now - seen_at > idle or now - signed_in_at > absolute:
        logout_user()
        session.clear()
        flash("Your session ended after a period of inactivity. Sign in again.", "info")
        return None
    session["seen_at"] = now
    return current_actor()


def _finish_response(response):
    """Security headers on every response; nothing personal is cached."""
    headers = response.headers
    headers["X-Request-ID"] = g.get("request_id", "")
    headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    headers["Referrer-Policy"] = "same-origin"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return response
