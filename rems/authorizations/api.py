"""The dispensing-authorization and infusion endpoints of the JSON API (api.md)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, jsonify, request

from rems import ratelimit
from rems.api import bp
from rems.api.parsing import iso_date, json_body, positive_int, text
from rems.auth.models import Role
from rems.auth.permissions import current_actor, current_identity, roles, signed_in
from rems.authorizations import presenters
from rems.authorizations.deciding import request_authorization
from rems.authorizations.facts import LIVE
from rems.authorizations.models import Authorization
from rems.authorizations.queries import authorization_for, authorization_row
from rems.authorizations.services import (
    needs_settling,
    reverse_authorization,
    settle_authorization,
)
from rems.common.clock import today
from rems.common.errors import ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db
from rems.infusions.api_fields import INFUSION_FIELDS
from rems.infusions.services import record_infusion

REQUEST_FIELDS = {
    "patient_id": (text(20), True),
    "date_of_birth": (iso_date, True),
    "prescriber_npi": (text(10), True),
    "infusion_site_id": (text(20), True),
    "doses": (positive_int(99), False),
}


@bp.post("/authorizations")
@roles(Role.SITE_STAFF)
def authorization_request():
    """A pharmacy asks whether it may dispense: 201 with the grant, 200 with the denial."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and (not 1 <= len(key) <= 200 or "\x00" in key):
        raise ValidationFailed.single("Idempotency-Key", "Use 1 to 200 printable characters.")
    body = json_body(REQUEST_FIELDS)
    caller = ratelimit.caller_key()
    ratelimit.check_patient_lookups(caller, body["patient_id"])
    try:
        outcome = request_authorization(
            db.session, current_identity(), body, today=today(), idempotency_key=key
        )
        answer = presenters.decision_response(outcome)
        db.session.commit()
        if any(reason["code"] == "PATIENT_NOT_FOUND" for reason in outcome.decision.reasons):
            ratelimit.note_patient_not_found(caller, body["patient_id"])
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        if key is None or "idempotency_key" not in str(error.orig):
            raise
        # The same key raced another request, which stored its answer first: replay it.
        outcome = request_authorization(
            db.session, current_identity(), body, today=today(), idempotency_key=key
        )
        if not outcome.replayed:
            raise
        answer = presenters.decision_response(outcome)
    return answer


@bp.get("/authorizations/<number>")
@signed_in
def authorization_read(number: str):
    """One authorization, for the parties to it (anyone else: 404). A read past the last day
    records the expiry first, in a short write of its own. One Core select otherwise."""
    row = authorization_row(db.session, current_identity(), number)
    if row is None:
        abort(404)
    if row.status.value not in LIVE or today() <= row.valid_until:
        return jsonify(presenters.read_body(row))
    authorization = _visible_or_404(number)
    if needs_settling(authorization, today()):
        db.session.rollback()
        with writing():
            settle_authorization(db.session, authorization, today())
            db.session.commit()
    return jsonify(presenters.authorization_body(authorization))


@bp.post("/authorizations/<number>/reversal")
@roles(Role.SITE_STAFF)
def authorization_reversal(number: str):
    """The holding pharmacy reverses an authorization before any dose is given."""
    authorization = _visible_or_404(number)
    if authorization.pharmacy_site_id != current_actor().site_id:
        abort(404)
    body = json_body({"reason": (text(2000), True)})
    reverse_authorization(db.session, authorization, current_actor(), reason=body["reason"],
                          today=today())  # fmt: skip
    db.session.commit()
    return jsonify(presenters.authorization_body(authorization))


@bp.post("/authorizations/<number>/infusions")
@roles(Role.SITE_STAFF)
def infusion_record(number: str):
    """The receiving infusion site records one dose given under the authorization."""
    authorization = _visible_or_404(number)
    if authorization.infusion_site_id != current_actor().site_id:
        abort(404)
    body = json_body(INFUSION_FIELDS)
    recorded = record_infusion(db.session, authorization, current_actor(), body, today=today())
    db.session.commit()
    return jsonify(presenters.infusion_body(recorded)), 201


def _visible_or_404(number: str) -> Authorization:
    """The authorization if the caller is party to it."""
    authorization = authorization_for(db.session, current_actor(), number)
    if authorization is None:
        abort(404)
    return authorization
