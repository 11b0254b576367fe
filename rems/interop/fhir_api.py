"""The FHIR R4 endpoints under /fhir: the CapabilityStatement and the IG's `$rems-etasu`, a dry
run of the gate (`rems.authorizations.deciding.dry_run`: the same facts, the same pure
decision, nothing created; the read goes to the access log). Same bearer tokens and rate limits
as /api/v1, the date-of-birth guessing limit included."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import sqlalchemy as sa
from flask import current_app

from rems.audit.access import note_read
from rems.auth.models import Role
from rems.auth.permissions import current_identity, public, roles
from rems.authorizations import guessing
from rems.authorizations.deciding import dry_run
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.common.localtime import actor_today
from rems.extensions import db
from rems.interop.capability import capability_statement
from rems.interop.etasu_input import EtasuQuery, parse_etasu
from rems.interop.etasu_output import etasu_answer, etasu_failure
from rems.interop.fhir_blueprint import bp, fhir_base
from rems.interop.outcomes import fhir_response, read_body
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber

NOT_OURS = "The medication is not one this REMS administers (no RxNorm or NDC code of ours)."
UNKNOWN = "No patient with this REMS patient ID and birth date, or not one you may ask about."
UNKNOWN_NAME = (
    "No single patient with this name and birth date among the named prescriber's patients of "
    "record: send the REMS patient ID."
)
NO_CASE = "No case with this number among your pharmacy's requests."


@bp.get("/metadata")
@public
def metadata():
    """The CapabilityStatement: exactly what this server serves."""
    return fhir_response(capability_statement(fhir_base()))


@bp.post("/GuidanceResponse/$rems-etasu")
@roles(Role.SITE_STAFF)
def rems_etasu():
    """Would the gate authorize this pharmacy's request now? Answered without recording one."""
    program = current_app.extensions["rems_program"]
    query = parse_etasu(read_body(), program.medication)
    if not query.ours:
        return fhir_response(etasu_failure(NOT_OURS))
    if query.case_number is not None:
        body = _case_request(query.case_number)
        if body is None:
            return fhir_response(etasu_failure(NO_CASE))
    elif query.patient_id is None and _by_name(query):
        guessing.check_site_guesses(current_identity())
        rems_id = _of_record_by_name(query)
        if rems_id is None:
            guessing.note_name_not_found(current_identity())
            return fhir_response(etasu_failure(UNKNOWN_NAME))
        body = _gate_request(replace(query, patient_id=rems_id))
    elif query.patient_id is None or query.born is None:
        return fhir_response(etasu_failure(UNKNOWN))
    else:
        body = _gate_request(query)
    return _answer(body)


def _by_name(query: EtasuQuery) -> bool:
    """A lookup by name and birth date: allowed only with the prescriber's NPI."""
    return bool(query.family and query.given and query.born and query.prescriber_npi)


def _of_record_by_name(query: EtasuQuery) -> str | None:
    """The REMS ID of the one patient with this name and birth date whose prescriber of record
    is the named prescriber (None when there is none, or more than one)."""
    statement = (
        sa.select(Patient.rems_id)
        .join(Prescriber, Prescriber.id == Patient.prescriber_id)
        .where(
            Prescriber.npi == query.prescriber_npi,
            Patient.date_of_birth == query.born,
            sa.func.lower(Patient.last_name) == query.family.lower(),
            sa.func.lower(Patient.first_name) == query.given.lower(),
        )
        .limit(2)
    )
    found = db.session.scalars(statement).all()
    return found[0] if len(found) == 1 else None


def _answer(body: dict):
    """The dry run of one gate request body, with the not-found limit as the gate counts it."""
    identity = current_identity()
    guessing.check_site_guesses(identity)
    gathered, decision = dry_run(db.session, identity, body, today=actor_today(identity))
    db.session.rollback()
    if not gathered.facts.patient_found:
        guessing.note_patient_not_found(db.session, identity, body["patient_id"])
        return fhir_response(etasu_failure(UNKNOWN))
    note_read(identity, "api", "patient", gathered.refs.patient_rems_id)
    answer = etasu_answer(
        decision,
        rems_id=gathered.refs.patient_rems_id,
        site_given=body.get("infusion_site_id") is not None,
        extension_base=fhir_base(),
    )
    return fhir_response(answer)


def _gate_request(query: EtasuQuery) -> dict:
    """The gate's request body for this query (the prescriber of record when none is named)."""
    npi = query.prescriber_npi or _npi_of_record(query.patient_id, query.born)
    return {
        "patient_id": query.patient_id,
        "date_of_birth": query.born,
        "prescriber_npi": npi,
        "infusion_site_id": query.site_code,
    }


def _npi_of_record(rems_id: str, born: date) -> str | None:
    statement = (
        sa.select(Prescriber.npi)
        .join(Patient, Patient.prescriber_id == Prescriber.id)
        .where(Patient.rems_id == rems_id, Patient.date_of_birth == born)
    )
    return db.session.scalar(statement)


def _case_request(number: str) -> dict | None:
    """The stored request of one of this pharmacy's decisions (by decision ID or authorization
    number), to be decided again as of today; None when it is not this pharmacy's."""
    decision = AuthorizationDecision
    statement = (
        sa.select(decision.request)
        .outerjoin(Authorization, Authorization.id == decision.authorization_id)
        .where(sa.or_(decision.decision_id == number, Authorization.number == number))
        .where(decision.pharmacy_site_id == current_identity().site_id)
    )
    stored = db.session.scalar(statement)
    if stored is None:
        return None
    body = {key: stored.get(key) for key in ("patient_id", "prescriber_npi", "infusion_site_id")}
    return body | {"date_of_birth": date.fromisoformat(stored["date_of_birth"])}
