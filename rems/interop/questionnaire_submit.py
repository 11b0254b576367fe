"""`POST /fhir/QuestionnaireResponse/$submit`: a completed patient enrollment form becomes a
**pending** enrollment (`patients.services.prepare_enrollment`, the app's own draft of an
enrollment: nothing is signed; the patient and the prescriber sign it in this app). Who may
submit what:

* the patient enrollment form: the prescriber of record's own API token, or a delegate's
  naming the prescriber's NPI as the response's `author.identifier` (as in the app);
* the prescriber and site enrollment forms and the knowledge assessment: nobody here. They
  are filled in before the party is certified, when its API tokens are refused, and the
  assessment is graded once per attempt; they are completed in the app (422).

Every bad answer is an OperationOutcome issue naming its `linkId`; nothing is stored then."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app, url_for

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.localtime import actor_today
from rems.extensions import db
from rems.interop.etasu_input import NPI
from rems.interop.fhir_blueprint import bp, fhir_base
from rems.interop.outcomes import FhirError, fhir_response, read_body
from rems.interop.questionnaires import FORM_IDS, PATIENT, questionnaire
from rems.patients.services import prepare_enrollment
from rems.prescribers.models import Prescriber
from rems.prescribers.services import prescriber_for

TEXT = ("first_name", "last_name")
FIELDS = {"first_name": "valueString", "last_name": "valueString", "date_of_birth": "valueDate",
          "sex": "valueString", "can_become_pregnant": "valueBoolean"}  # fmt: skip
IN_APP = "Complete this form in the LEMTRADA REMS app: it is not accepted here."


@bp.post("/QuestionnaireResponse/$submit")
@roles(Role.PRESCRIBER, Role.DELEGATE)
def questionnaire_submit():
    """Store a pending patient enrollment from a completed form."""
    response = _response(read_body())
    form = _form(response)
    answers = _answers(form, response)
    actor = current_actor()
    prescriber = _prescriber(actor, response)
    values = {name: answers.get(name) for name in FIELDS} | {"indication": None}
    try:
        patient = prepare_enrollment(db.session, actor, prescriber, values,
                                     today=actor_today(actor))  # fmt: skip
    except ValidationFailed as failure:
        raise FhirError(422, *_issues(failure.errors)) from None
    except StateConflict as conflict:
        raise FhirError(403, (str(conflict), "QuestionnaireResponse.author")) from None
    db.session.commit()
    link = url_for("patients.patient_detail", patient_id=patient.rems_id, _external=True)
    outcome = {"resourceType": "OperationOutcome", "issue": [{
        "severity": "information", "code": "informational",
        "diagnostics": f"Pending enrollment {patient.rems_id} stored. The patient and the "
                       f"prescriber sign it in the LEMTRADA REMS: {link}",
    }]}  # fmt: skip
    answer = fhir_response(outcome, 201)
    answer.headers["Location"] = link
    return answer


def _response(body: dict[str, Any]) -> dict[str, Any]:
    """The QuestionnaireResponse, sent as it is or as Parameters `questionnaire-response`."""
    if body.get("resourceType") == "Parameters":
        named = [p.get("resource") for p in body.get("parameter") or []
                 if p.get("name") == "questionnaire-response"]  # fmt: skip
        body = named[0] if named and isinstance(named[0], dict) else {}
    if body.get("resourceType") != "QuestionnaireResponse":
        raise FhirError(400, ("Send a QuestionnaireResponse.", "resourceType"))
    return body


def _form(response: dict[str, Any]) -> dict[str, Any]:
    """Our Questionnaire the response answers (its url, and version if given, must match)."""
    program = current_app.extensions["rems_program"]
    url, _, version = (response.get("questionnaire") or "").partition("|")
    forms = {f["url"]: f for f in (questionnaire(program, i, fhir_base()) for i in FORM_IDS)}
    form = forms.get(url)
    if form is None or (version and version != form["version"]):
        raise FhirError(422, ("'questionnaire' must be the canonical URL (and current version) "
                              "of one of our Questionnaires.",
                              "QuestionnaireResponse.questionnaire"))  # fmt: skip
    if form["id"] != PATIENT:
        raise FhirError(422, (IN_APP, "QuestionnaireResponse.questionnaire"))
    return form


def _answers(form: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """Each answered linkId's value, checked against the form: every bad linkId named."""
    known = dict(_items(form.get("item") or []))
    found: dict[str, Any] = {}
    issues: list[tuple[str, str]] = []
    for link_id, answer in _items(response.get("item") or []):
        if link_id not in known:
            issues.append((f"linkId '{link_id}' is not an item of this form.", link_id))
            continue
        values = answer.get("answer") or []
        if link_id in FIELDS:
            found[link_id] = _value(link_id, values, issues)
    for link_id in FIELDS:
        missing = known[link_id].get("required") and found.get(link_id) is None
        if missing and not any(where == link_id for _, where in issues):
            issues.append((f"linkId '{link_id}' needs an answer.", link_id))
    if issues:
        raise FhirError(422, *[(message, at_link(where)) for message, where in issues])
    return found


def at_link(link_id: str) -> str:
    """The FHIRPath of the response's item with this linkId, at any depth."""
    quoted = link_id.replace("\\", "\\\\").replace("'", "\\'")
    return f"QuestionnaireResponse.repeat(item).where(linkId='{quoted}')"


def _items(items: list[Any]):
    """(linkId, item) of every item, groups' items included."""
    for item in items:
        if isinstance(item, dict):
            yield str(item.get("linkId")), item
            yield from _items(item.get("item") or [])


def _value(link_id: str, answers: list[Any], issues: list) -> Any:
    kind = FIELDS[link_id]
    value = (answers[0] if answers and isinstance(answers[0], dict) else {}).get(kind)
    if value is None:
        issues.append((f"linkId '{link_id}' needs one answer as {kind}.", link_id))
        return None
    if kind == "valueDate":
        try:
            return date.fromisoformat(value)
        except (TypeError, ValueError):
            issues.append((f"linkId '{link_id}': a full date, YYYY-MM-DD.", link_id))
            return None
    return value.strip() if isinstance(value, str) else value


def _prescriber(actor, response: dict[str, Any]) -> Prescriber:
    """The prescriber of record: the caller, or (for a delegate) the author's NPI."""
    if actor.role == Role.PRESCRIBER:
        prescriber = prescriber_for(db.session, actor)
    else:
        identifier = (response.get("author") or {}).get("identifier") or {}
        npi = identifier.get("value") if identifier.get("system") == NPI else None
        prescriber = npi and db.session.scalar(sa.select(Prescriber).where(Prescriber.npi == npi))
    if not prescriber:
        raise FhirError(422, ("Name the prescriber of record by NPI in 'author.identifier'.",
                              "QuestionnaireResponse.author"))  # fmt: skip
    return prescriber


def _issues(errors: dict[str, list[str]]) -> list[tuple[str, str]]:
    """The service's field errors, each under the linkId it belongs to."""
    where = {name: at_link(name) for name in FIELDS}
    where["prescriber"] = "QuestionnaireResponse.author"
    return [(f"{name}: {' '.join(messages)}", where.get(name, name))
            for name, messages in errors.items()]  # fmt: skip
