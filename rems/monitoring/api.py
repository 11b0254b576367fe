"""POST /api/v1/patients/{patient_id}/results: a batch of monitoring results from an EHR
(api.md). Checked whole; any bad row → 422 naming it by index and field, nothing stored."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from pydantic import ValidationError
from werkzeug.exceptions import BadRequest

from rems.api.operations import BAD_BODY, UNAUTHORIZED, Answer, Param, operation
from rems.api.parsing import field_errors
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import ValidationFailed
from rems.common.localtime import program_today
from rems.common.transactions import reading
from rems.extensions import db
from rems.monitoring.results import ResultRow, row_problems
from rems.monitoring.schemas import ResultIn, ResultsBatch, ResultsStored
from rems.monitoring.storing import record_results
from rems.monitoring.validation import MAX_RESULTS
from rems.patients.api import PATIENT_ID
from rems.patients.queries import patient_for

bp = Blueprint("monitoring", __name__)


@bp.post("/patients/<patient_id>/results")
@roles(Role.PRESCRIBER, Role.DELEGATE)
@operation(
    "recordResults",
    "Record a batch of the patient's monitoring results",
    description="For the prescriber of record and their delegates. The batch is checked "
    "whole: any bad row gives 422 with `details` keyed by the row's index and field (e.g. "
    "`results.2.collected_on`), and nothing is stored.",
    body=ResultsBatch,
    params=(Param("patient_id", "path", "The REMS patient ID.", PATIENT_ID),),
    answers={
        201: Answer("Stored.", ResultsStored),
        400: BAD_BODY,
        401: UNAUTHORIZED,
        403: Answer("Only prescribers and their delegates record results."),
        404: Answer("No such patient, or not one of yours."),
        422: Answer("A row is not valid; nothing was stored."),
    },
)
def results_batch(patient_id: str):
    """Store a batch of the patient's results: 201 {"stored": N, "duplicates": [indexes]}."""
    with reading():  # read and check first: only the batch's short write takes the lock
        patient = patient_for(db.session, current_actor(), patient_id)
    if patient is None:
        abort(404)
    type_errors: dict[str, list[str]] = {}
    rows = []
    for index, item in enumerate(_results_list()):
        try:
            typed = ResultIn.model_validate(item)
        except ValidationError as problem:
            errors = field_errors(problem)
            if isinstance(item, dict):  # the other fields' problems too, in the same answer
                for name, message in row_problems(item, program_today()).items():
                    errors.setdefault(name, [message])
            type_errors |= {f"results.{index}.{name}": msgs for name, msgs in errors.items()}
            continue
        rows.append(ResultRow(f"results.{index}", patient, typed.model_dump()))
    if not rows:
        raise ValidationFailed(type_errors)
    try:
        recorded = record_results(
            db.session, current_actor(), rows, source="api", today=program_today()
        )
    except ValidationFailed as failure:
        raise ValidationFailed(failure.errors | type_errors) from None
    if type_errors:
        raise ValidationFailed(type_errors)  # the rest was fine; nothing is stored
    stored = len(recorded.stored)
    duplicates = [int(key.removeprefix("results.")) for key in recorded.duplicates]
    db.session.commit()
    return jsonify({"stored": stored, "duplicates": duplicates}), 201


def _results_list() -> list[Any]:
    """The body's `results` array (400 for a body that is not JSON, 422 for a wrong shape)."""
    if not request.is_json:
        raise BadRequest("Send the body as JSON with 'Content-Type: application/json'.")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("The body is not valid JSON.")
    if not isinstance(body, dict):
        raise ValidationFailed.single("body", "Send a JSON object.")
    errors = {name: ["Unknown field."] for name in body if name != "results"}
    items = body.get("results")
    if not isinstance(items, list) or not items:
        errors["results"] = ["Give a non-empty array of results."]
    elif len(items) > MAX_RESULTS:
        errors["results"] = [f"Send at most {MAX_RESULTS} results per request."]
    if errors:
        raise ValidationFailed(errors)
    return items
