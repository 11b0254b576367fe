"""The dispensing-authorization and infusion endpoints of the JSON API (api.md)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, jsonify

from rems.api.idempotency import answer_once, idempotency_key
from rems.api.operations import (
    BAD_BODY,
    DATABASE_DOWN,
    SITE_STAFF_ONLY,
    UNAUTHORIZED,
    Answer,
    Param,
    identifier_schema,
    operation,
)
from rems.api.parsing import parse_body
from rems.auth.models import Role
from rems.auth.permissions import current_actor, current_identity, roles, signed_in
from rems.authorizations import guessing, presenters
from rems.authorizations.deciding import AUTHORIZATION_PREFIX, request_authorization
from rems.authorizations.facts import LIVE
from rems.authorizations.models import Authorization
from rems.authorizations.queries import authorization_for, authorization_row
from rems.authorizations.schemas import Authorization as AuthorizationShape
from rems.authorizations.schemas import (
    AuthorizationDenial,
    AuthorizationGrant,
    AuthorizationRequest,
    Reversal,
)
from rems.authorizations.services import reverse_authorization
from rems.common.localtime import actor_today, local_today_for_site
from rems.common.transactions import commit_answer, write_of_its_own
from rems.courses.settling import needs_settling, settle_authorization
from rems.extensions import db
from rems.infusions.not_infused import record_not_infused
from rems.infusions.schemas import (
    InfusionRecord,
    InfusionRecorded,
    NotInfusedRecord,
    NotInfusedRecorded,
)
from rems.infusions.services import record_infusion
from rems.sites.models import Site

bp = Blueprint("authorizations", __name__)
NOT_YOURS = (
    "No authorization with this number (or its check character is wrong), or the caller is "
    "not party to it: the same answer for both."
)
NUMBER = Param(
    "number",
    "path",
    "The authorization number.",
    identifier_schema(AUTHORIZATION_PREFIX, "An authorization number", "rems-authorization"),
)
IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    "header",
    "A retry with the same key and body returns the first answer and creates nothing. The same "
    "key with another body is refused with 422 (`details` names `Idempotency-Key`): use a new "
    "key for every new request. Keys are per user.",
    {"type": "string", "minLength": 1, "maxLength": 200},
    required=False,
)
WRITE_UNAVAILABLE = Answer(
    "`service_unavailable`: the database is unreachable and nothing was stored. "
    "`outcome_unknown`: the connection broke during the commit, so the change may or may not "
    "be stored; retry with the same Idempotency-Key to get the stored answer."
)
KEY_REFUSED = (
    " The Idempotency-Key is longer than 200 characters, or it was used before with another "
    "body or on another authorization."
)
IN_PROGRESS = (
    " `request_in_progress` (with Retry-After): a request with the same Idempotency-Key is "
    "still running; retry with the key after that many seconds to get its answer."
)
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key and body; absent otherwise.",
        "schema": {"const": "true"},
    }
}


@bp.post("/authorizations")
@roles(Role.SITE_STAFF)
@operation(
    "requestAuthorization",
    "Ask whether a pharmacy may dispense (the gate)",
    description="For site staff of a pharmacy. Granted: 201 with the authorization. "
    "Denied: 200 with every failing reason (the decision is recorded too). A valid token of a "
    "site that is not (or no longer) certified is answered here, not refused: the request is "
    "recorded and denied as PHARMACY_NOT_CERTIFIED, whose message names the certification's "
    "state, and administrators are told; every other endpoint refuses that token (401). "
    "DOSES_EXCEEDED names, in its message and `held_by`, the live authorization holding the "
    "doses. Reason codes and who "
    "acts on them: PHARMACY_NOT_CERTIFIED (program), SITE_NOT_CERTIFIED (site), "
    "PRESCRIBER_NOT_CERTIFIED and PRESCRIBER_NOT_OF_RECORD (prescriber), PATIENT_NOT_FOUND "
    "(site: no patient with that ID and date of birth), PATIENT_NOT_ENROLLED, "
    "GUIDE_NOT_ACKNOWLEDGED and COURSE_NOT_AUTHORIZED (prescriber), DOSES_EXCEEDED (site).",
    body=AuthorizationRequest,
    params=(IDEMPOTENCY_KEY,),
    answers={
        201: Answer("Granted.", AuthorizationGrant, REPLAYED),
        200: Answer("Denied, with every failing reason.", AuthorizationDenial, REPLAYED),
        400: BAD_BODY,
        401: Answer(
            "Missing, invalid or revoked token, or a token in the query string (a token of an "
            "uncertified site is answered with the denial PHARMACY_NOT_CERTIFIED instead)."
        ),
        403: SITE_STAFF_ONLY,
        422: Answer(
            "A field is not valid, an unknown field was sent, the Idempotency-Key is longer "
            "than 200 characters, or it was used before with another body; `details` maps "
            "each field to its messages. Nothing was recorded."
        ),
        503: WRITE_UNAVAILABLE,
    },
)
def authorization_request():
    """A pharmacy asks whether it may dispense: 201 with the grant, 200 with the denial."""
    key = idempotency_key()
    body = parse_body(AuthorizationRequest)
    guessing.check_site_guesses(current_identity())
    try:
        outcome = _decide(body, key)
        answer = presenters.decision_response(outcome)
        commit_answer()
        guessing.note_outcome(db.session, current_identity(), outcome, body["patient_id"])
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        if key is None or "idempotency_key" not in str(error.orig):
            raise
        # The same key raced another request, which stored its answer first: replay it.
        outcome = _decide(body, key)
        if not outcome.replayed:
            raise
        answer = presenters.decision_response(outcome)
    return answer


def _decide(body: dict, key: str | None):
    """The gate's decision on the request, as the caller's identity, on its program day."""
    identity = current_identity()
    return request_authorization(
        db.session, identity, body, today=actor_today(identity), idempotency_key=key
    )


@bp.get("/authorizations/<number>")
@signed_in
@operation(
    "readAuthorization",
    "One dispensing authorization",
    description="For the holding pharmacy, the receiving site, the prescriber of record, "
    "auditors and administrators; anyone else gets 404.",
    params=(NUMBER,),
    answers={
        200: Answer("The authorization.", AuthorizationShape),
        401: UNAUTHORIZED,
        404: Answer(NOT_YOURS),
        503: DATABASE_DOWN,
    },
)
def authorization_read(number: str):
    """One authorization, for the parties to it (anyone else: 404). A read past the last day
    records the expiry first, in a short write of its own. One Core select otherwise."""
    row = authorization_row(db.session, current_identity(), number)
    if row is None:
        abort(404)
    day = actor_today(current_identity())
    if row.status.value not in LIVE or day <= row.valid_until:
        return jsonify(presenters.read_body(row))
    authorization = _visible_or_404(number)
    if needs_settling(authorization, day):
        with write_of_its_own(db.session):
            settle_authorization(db.session, authorization, day)
    return jsonify(presenters.authorization_body(authorization))


@bp.post("/authorizations/<number>/reversal")
@roles(Role.SITE_STAFF)
@operation(
    "reverseAuthorization",
    "The holding pharmacy takes an authorization back",
    description="Only before any dose is given; the doses return to the course.",
    body=Reversal,
    params=(NUMBER, IDEMPOTENCY_KEY),
    answers={
        200: Answer("Reversed.", AuthorizationShape, REPLAYED),
        400: BAD_BODY,
        401: UNAUTHORIZED,
        403: SITE_STAFF_ONLY,
        404: Answer(NOT_YOURS + " Only the holding pharmacy may reverse."),
        409: Answer("A dose was already given, or the authorization is not live." + IN_PROGRESS),
        422: Answer(
            "The reason is missing or not valid, or an unknown field was sent." + KEY_REFUSED
        ),
        503: WRITE_UNAVAILABLE,
    },
)
def authorization_reversal(number: str):
    """The holding pharmacy reverses an authorization before any dose is given. The answer is
    built before the commit; with an Idempotency-Key a retry gets it again."""
    authorization = _visible_or_404(number)
    if authorization.pharmacy_site_id != current_actor().site_id:
        abort(404)
    body = parse_body(Reversal)

    def reverse():
        reverse_authorization(db.session, authorization, current_actor(), reason=body["reason"],
                              today=actor_today(current_identity()))  # fmt: skip
        return presenters.authorization_body(authorization), 200

    return answer_once(f"reversal {authorization.number}", body, reverse)


@bp.post("/authorizations/<number>/infusions")
@roles(Role.SITE_STAFF)
@operation(
    "recordInfusion",
    "The receiving infusion site records one dose",
    body=InfusionRecord,
    params=(NUMBER, IDEMPOTENCY_KEY),
    answers={
        201: Answer("The dose is recorded.", InfusionRecorded, REPLAYED),
        400: BAD_BODY,
        401: UNAUTHORIZED,
        403: SITE_STAFF_ONLY,
        404: Answer(NOT_YOURS + " Only the receiving site may record infusions."),
        409: Answer(
            "Another dose of the course was recorded at the same moment, or the course has no "
            "dose left that another authorization does not hold." + IN_PROGRESS
        ),
        422: Answer(
            "`validation_error`: impossible data (a date after today or a time later than now "
            "at the site, an end before its start, a start on another day, a second infusion "
            "that day); `details` maps each field to its messages. "
            "`deviations_not_acknowledged`: the record has protocol deviations and "
            "`deviations_acknowledged` is not true; `details.deviations_acknowledged` lists "
            "each as `code (severity): message`; nothing is stored." + KEY_REFUSED
        ),
        503: WRITE_UNAVAILABLE,
    },
)
def infusion_record(number: str):
    """The receiving infusion site records one dose given under the authorization. The answer
    is built before the commit; with an Idempotency-Key a retry gets it again."""
    authorization = _visible_or_404(number)
    if authorization.infusion_site_id != current_actor().site_id:
        abort(404)
    body = parse_body(InfusionRecord)

    def infuse():
        site = db.session.get(Site, authorization.infusion_site_id)
        recorded = record_infusion(
            db.session, authorization, current_actor(), body, today=local_today_for_site(site)
        )
        return presenters.infusion_body(recorded), 201

    return answer_once(f"infusion {authorization.number}", body, infuse)


@bp.post("/authorizations/<number>/not-infused")
@roles(Role.SITE_STAFF)
@operation(
    "recordNotInfused",
    "The receiving infusion site records a visit that ended without an infusion",
    body=NotInfusedRecord,
    params=(NUMBER,),
    answers={
        201: Answer("The visit is on record; no dose was counted.", NotInfusedRecorded),
        400: BAD_BODY,
        401: UNAUTHORIZED,
        403: SITE_STAFF_ONLY,
        404: Answer(NOT_YOURS + " Only the receiving site records its visits."),
        422: Answer("The day is after today at the site, the reason is not one of the "
                    "program's, or `other` has no notes; `details` names each field."),
        503: WRITE_UNAVAILABLE,
    },
)  # fmt: skip
def not_infused_record(number: str):
    """The receiving infusion site records a visit that ended not infused, with its reason."""
    authorization = _visible_or_404(number)
    if authorization.infusion_site_id != current_actor().site_id:
        abort(404)
    body = parse_body(NotInfusedRecord)
    visit = record_not_infused(db.session, authorization, current_actor(), body)
    answer = {"visit_id": visit.id, "visit_on": visit.visit_on.isoformat(), "reason": visit.reason}
    commit_answer()
    return answer, 201


def _visible_or_404(number: str) -> Authorization:
    """The authorization if the caller is party to it."""
    authorization = authorization_for(db.session, current_actor(), number)
    if authorization is None:
        abort(404)
    return authorization
