"""The Patient Enrollment Form: prepared (prescriber or delegate), signed by the patient in
clinic with the Medication Guide acknowledged, then signed by the prescriber. Callers commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.audit.trail import record_event
from rems.auth.models import Role, User
from rems.auth.signatures import sign, sign_for_patient
from rems.certification.forms_common import clean_fields
from rems.certification.models import CertStatus
from rems.certification.queries import status_today
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict
from rems.common.identifiers import new_identifier
from rems.common.localtime import local_today_for_prescriber, practice_place
from rems.documents.queries import current_versions_today
from rems.documents.services import acknowledge
from rems.patients import rules
from rems.patients.models import Patient, PatientStatus
from rems.patients.queries import PATIENT_ID_PREFIX, possible_duplicates
from rems.prescribers.delegates import active_link
from rems.prescribers.models import Prescriber
from rems.sites.queries import site_by_code

#: (field, maximum length, required)
CONTACT_FIELDS = (
    ("first_name", 100, True), ("last_name", 100, True), ("phone", 30, False),
    ("email", 254, False), ("address_line1", 200, False), ("address_line2", 200, False),
    ("city", 100, False), ("state", 2, False), ("postal_code", 10, False),
)  # fmt: skip
FORM_KEYS = {n for n, _, _ in CONTACT_FIELDS} | {
    "date_of_birth", "sex", "can_become_pregnant", "indication", "planned_site_id",
}  # fmt: skip
PATIENT_MEANING = "Patient signs the Patient Enrollment Form attestations and acknowledges the "
PATIENT_MEANING += "Medication Guide, witnessed in clinic"
PRESCRIBER_MEANING = "Prescriber signs the Patient Enrollment Form as prescriber of record"


def _program():
    return current_app.extensions["rems_program"]


def may_prepare_for(session: Session, actor: User, prescriber: Prescriber) -> bool:
    """The prescriber themself, or one of their current delegates."""
    if actor.role == Role.PRESCRIBER:
        return prescriber.user_id == actor.id
    return actor.role == Role.DELEGATE and active_link(session, prescriber, actor) is not None


def clean_patient_form(
    session: Session, values: dict[str, Any], *, prescriber: Prescriber, today: date
) -> dict[str, Any]:
    """Every field checked at once; the prescriber must be certified today."""
    cleaned, errors = clean_fields(values, CONTACT_FIELDS, complete=True)
    program = _program()
    born = values.get("date_of_birth")
    if not isinstance(born, date):
        errors.add("date_of_birth", "Enter the date of birth (YYYY-MM-DD).")
    elif problem := rules.date_of_birth_problem(
        born,
        local_today_for_prescriber(prescriber),
        program.patient.max_age_years,
        practice_place(prescriber),
    ):
        errors.add("date_of_birth", problem)
    if values.get("sex") not in program.patient.sexes:
        errors.add("sex", f"Choose one of: {', '.join(program.patient.sexes)}.")
    if (values.get("indication") or program.indication) != program.indication:
        errors.add("indication", f"The program covers one indication: {program.indication}.")
    if status_today(prescriber, today) != CertStatus.CERTIFIED:
        errors.add("prescriber", "The prescriber of record must be certified to enroll patients.")
    planned = _planned_site(session, values.get("planned_site_id"), today, errors)
    errors.raise_if_any()
    return cleaned | {
        "date_of_birth": born, "sex": values["sex"], "indication": program.indication,
        "can_become_pregnant": bool(values.get("can_become_pregnant")),
        "planned_site_id": planned,
    }  # fmt: skip


def _planned_site(session: Session, code: str | None, today: date, errors: Collector) -> int | None:
    """The planned infusion site (optional): a certified site that infuses."""
    if not code:
        return None
    site = site_by_code(session, code)
    if site is None or not site.infuses or status_today(site, today) != CertStatus.CERTIFIED:
        errors.add("planned_site_id", "Choose a certified infusion site, or leave it empty.")
        return None
    return site.id


def prepare_enrollment(
    session: Session, actor: User, prescriber: Prescriber, values: dict[str, Any], *,
    today: date, confirm_not_duplicate: bool = False,
) -> Patient:  # fmt: skip
    """Create the pending enrollment; a possible duplicate must be confirmed, and is flagged."""
    if not may_prepare_for(session, actor, prescriber):
        raise StateConflict("Only the prescriber or their delegate prepares this enrollment.")
    cleaned = clean_patient_form(session, values, prescriber=prescriber, today=today)
    twins = possible_duplicates(session, cleaned["first_name"], cleaned["last_name"],
                                cleaned["date_of_birth"])  # fmt: skip
    if twins and not confirm_not_duplicate:
        errors = Collector()  # no REMS IDs: the twin may be another prescriber's patient
        errors.add("confirm_not_duplicate", "A patient with this name and date of birth is "
                   "already enrolled. Make sure this is a different person, then tick the box; "
                   "the program will review the possible duplicate.")  # fmt: skip
        errors.raise_if_any()
    patient = Patient(
        rems_id=new_identifier(PATIENT_ID_PREFIX), prescriber_id=prescriber.id,
        status=PatientStatus.PENDING, created_at=utcnow(), created_by_id=actor.id,
        possible_duplicate_of_id=twins[0].id if twins else None, **cleaned,
    )  # fmt: skip
    session.add(patient)
    session.flush()
    record_history(
        session, patient, None, PatientStatus.PENDING, actor, "Enrollment form prepared."
    )
    record_event(session, "patient.prepared", actor=actor, entity=patient,
                 new={**cleaned, "rems_id": patient.rems_id, "prescriber_id": prescriber.id,
                      "possible_duplicate_of": twins[0].rems_id if twins else None})  # fmt: skip
    return patient


def record_patient_signature(
    session: Session, patient: Patient, witness: User, *, typed_name: str,
    attested: Iterable[str], method: str, today: date,
) -> None:  # fmt: skip
    """The patient types their name to sign their attestations in clinic; the current
    Medication Guide and Patient Guide versions are acknowledged with it."""
    _require_pending(session, patient, witness)
    if patient.patient_signature_id is not None:
        raise StateConflict("The patient has already signed this enrollment form.")
    errors = Collector()
    if method not in _program().acknowledgment_methods:
        errors.add("method", "Choose how the patient received the documents.")
    statements = _check_patient_statements(patient, typed_name, attested, errors)
    versions = current_versions_today(session, today)
    for code, version in versions.items():
        if version is None:
            errors.add("documents", f"The program has not published the {code} yet.")
    errors.raise_if_any()
    content = {
        "form": "Patient Enrollment Form", "patient_id": patient.rems_id,
        "patient": _form_snapshot(patient), "attestations": statements,
        "documents": [{"document": code, "version": v.label, "sha256": v.content_sha256}
                      for code, v in versions.items()],
    }  # fmt: skip
    signature = sign_for_patient(
        session, typed_name=typed_name, witness=witness, meaning=PATIENT_MEANING, content=content
    )
    patient.patient_signature_id = signature.id
    for version in versions.values():
        acknowledge(session, patient, version, witness=witness, method=method, today=today)
    record_event(session, "patient.patient_signed", actor=witness, entity=patient,
                 new={"signature_id": signature.id, "witness": witness.username})  # fmt: skip


def _check_patient_statements(patient, typed_name: str, attested, errors: Collector) -> list:
    """The typed name is the legal name; every attestation that applies is affirmed."""
    if not rules.typed_name_matches(typed_name or "", patient.first_name, patient.last_name):
        errors.add("typed_name", f"The patient types their full legal name: {patient.name}.")
    given = set(attested)
    required = _program().patient_attestations(patient.can_become_pregnant)
    for attestation in required:
        if attestation.id not in given:
            errors.add(f"attest_{attestation.id}", "The patient must affirm this statement.")
    return [{"id": a.id, "text": a.text} for a in required]


def sign_enrollment(
    session: Session, patient: Patient, signer: User, *, password: str, today: date
) -> None:
    """The prescriber of record co-signs; the patient is enrolled. A delegate can never sign."""
    prescriber = session.get(Prescriber, patient.prescriber_id)
    if signer.id != prescriber.user_id:
        raise StateConflict("Only the prescriber of record signs; a delegate cannot.")
    _require_pending(session, patient, signer)
    errors = Collector()
    if patient.patient_signature_id is None:
        errors.add("patient_signature", "The patient signs first, in clinic.")
    if status_today(prescriber, today) != CertStatus.CERTIFIED:
        errors.add("prescriber", "Your certification is not current; you cannot enroll patients.")
    errors.raise_if_any()
    content = {"form": "Patient Enrollment Form", "patient_id": patient.rems_id,
               "patient": _form_snapshot(patient),
               "patient_signature_id": patient.patient_signature_id}  # fmt: skip
    signature = sign(session, signer, password=password, meaning=PRESCRIBER_MEANING,
                     content=content)  # fmt: skip
    patient.prescriber_signature_id = signature.id
    patient.enrolled_at = utcnow()
    record_history(session, patient, PatientStatus.PENDING, PatientStatus.ENROLLED, signer,
             "Enrollment signed by the prescriber of record.")  # fmt: skip
    patient.status = PatientStatus.ENROLLED
    record_event(session, "patient.enrolled", actor=signer, entity=patient,
                 old={"status": "pending"}, new={"status": "enrolled"})  # fmt: skip


def _require_pending(session: Session, patient: Patient, actor: User) -> None:
    """Signatures belong to a pending enrollment, by the prescriber or their delegate."""
    if patient.status != PatientStatus.PENDING:
        raise StateConflict(f"The enrollment is {patient.status.value}, not pending.")
    if not may_prepare_for(session, actor, session.get(Prescriber, patient.prescriber_id)):
        raise StateConflict("Only the prescriber of record or their delegate can do this.")


def _form_snapshot(patient: Patient) -> dict[str, Any]:
    """The enrollment form's fields as signed."""
    names = [n for n, _, _ in CONTACT_FIELDS] + ["date_of_birth", "sex", "can_become_pregnant",
                                                 "indication", "planned_site_id"]  # fmt: skip
    return {name: getattr(patient, name) for name in names}


def record_history(session, patient, from_status, to_status, actor, reason) -> None:
    """A status history row of the patient."""
    session.add(StatusChange(
        entity_type="patient", entity_id=patient.id,
        from_status=from_status.value if from_status else None, to_status=to_status.value,
        changed_at=utcnow(), changed_by_id=actor.id, reason=reason,
    ))  # fmt: skip
