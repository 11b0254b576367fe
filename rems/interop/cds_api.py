"""CDS Hooks 2.0 services: discovery (`GET /cds-services`) and one service per hook
(`POST /cds-services/<id>`), answering with cards built from the gate's facts and rules
(`cds_cards`). Calls are trusted by their JWT (`cds_trust`), not by our API tokens; errors are
JSON in the API's error shape: 400 malformed, 401 a bad, replayed or unknown-audience JWT,
404 an unknown service, 412 a missing `patient` prefetch. Nothing is created but the JWT's
`jti` (the replay cache) and the access-log entry of the patient read."""

from __future__ import annotations

import json
from types import SimpleNamespace

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from werkzeug.exceptions import HTTPException

from rems.audit.access import note_read
from rems.auth.permissions import public
from rems.extensions import db
from rems.interop.cds_cards import cards_for
from rems.interop.cds_input import CdsRequestError, parse_hook
from rems.interop.cds_trust import CdsAuthError, note_jti, verify_call

bp = Blueprint("cds", __name__, url_prefix="/cds-services")
ORDER_PREFETCH = {"patient": "Patient/{{context.patientId}}", "practitioner": "{{context.userId}}"}
SERVICES = {
    "lemtrada-rems-order-sign": ("order-sign", ORDER_PREFETCH),
    "lemtrada-rems-order-select": ("order-select", ORDER_PREFETCH),
    "lemtrada-rems-patient-view": ("patient-view", ORDER_PREFETCH | {
        "medicationRequests":
            "MedicationRequest?subject={{context.patientId}}&_include=MedicationRequest:medication",
    }),
}  # fmt: skip
DESCRIPTION = (
    "LEMTRADA REMS: what the program still needs before LEMTRADA can be dispensed for this "
    "patient (enrollment, certification, Medication Guide, baseline labs, monitoring)."
)


def _error(status: int, code: str, message: str) -> Response:
    db.session.rollback()
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return response


@bp.errorhandler(CdsAuthError)
def _unauthorized(error: CdsAuthError):
    return _error(401, "unauthorized", str(error))


@bp.errorhandler(CdsRequestError)
def _bad_request(error: CdsRequestError):
    code = "precondition_failed" if error.status == 412 else "bad_request"
    return _error(error.status, code, str(error))


@bp.errorhandler(HTTPException)
def _http(error: HTTPException):
    return _error(error.code or 500, "http_error", error.description or "Error.")


@bp.get("")
@public
def discovery():
    """The services this system offers (CDS Hooks discovery)."""
    services = [
        {"hook": hook, "id": service_id, "title": f"LEMTRADA REMS ({hook})",
         "description": DESCRIPTION, "prefetch": prefetch}
        for service_id, (hook, prefetch) in SERVICES.items()
    ]  # fmt: skip
    return jsonify({"services": services})


@bp.post("/<service_id>")
@public  # trusted by the JWT checked below, not by a session or an API token
def service(service_id: str):
    """One hook call: verify the JWT, read the request, answer with cards."""
    if service_id not in SERVICES:
        return _error(404, "not_found", "No such CDS service.")
    hook = SERVICES[service_id][0]
    audience = url_for("cds.service", service_id=service_id, _external=True)
    call = verify_call(db.session, request.headers.get("Authorization", ""), audience)
    body = _json_body()
    query = parse_hook(body, hook, current_app.extensions["rems_program"].medication)
    note_jti(db.session, call)
    db.session.commit()  # the token is spent even if the answer below fails
    cards, read = cards_for(db.session, call.client, query)
    db.session.rollback()
    if read is not None:
        reader = SimpleNamespace(id=None, username=f"cds:{call.client.name}"[:120])
        note_read(reader, "api", "patient", read)
    return jsonify({"cards": cards})


def _json_body():
    if (request.mimetype or "").lower() != "application/json":
        raise CdsRequestError(400, "Send the body as application/json.")
    try:
        return json.loads(request.get_data(as_text=True) or "")
    except (ValueError, RecursionError) as error:
        raise CdsRequestError(400, f"The body is not valid JSON: {error}.") from None
