"""Builders of patients through the real services, for any test that needs one: the guides
published, a certified prescriber with a delegate, a patient prepared or fully enrolled."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app

from rems.auth.models import Role, User
from rems.common.clock import today
from rems.common.transactions import writing
from rems.documents.services import publish_version
from rems.extensions import db
from rems.patients import services
from rems.patients.models import Patient
from rems.prescribers import delegates
from rems.prescribers.models import Prescriber
from tests.certification.helpers import PartyRef, certify, make_prescriber
from tests.factories import PASSWORD, Factory, UserRef

GUIDES = ("medication_guide", "patient_guide")
_last_names = itertools.count(1)


@dataclass(frozen=True)
class PatientRef:
    """What a test needs to know about a patient it made."""

    id: int
    rems_id: str
    name: str
    prescriber_id: int


@dataclass(frozen=True)
class Team:
    """A certified prescriber and one delegate who works for them."""

    prescriber: PartyRef
    delegate: UserRef


def patient_values(**changes: Any) -> dict[str, Any]:
    """A complete Patient Enrollment Form as the service takes it."""
    values = {
        "first_name": "Pat", "last_name": f"Jones{next(_last_names)}",
        "date_of_birth": date(1984, 2, 29), "sex": "female", "can_become_pregnant": True,
        "phone": "(617) 555-0100", "city": "Boston", "state": "MA", "postal_code": "02115",
    }  # fmt: skip
    return values | changes


def form_fields(**changes: str) -> dict[str, str]:
    """The Patient Enrollment Form as a browser posts it (the prescriber's own form)."""
    values = {
        "first_name": "Ana", "last_name": "Silva", "date_of_birth": "1990-05-17",
        "sex": "female", "can_become_pregnant": "y", "planned_site_id": "",
        "phone": "(617) 555-0111", "email": "", "address_line1": "", "address_line2": "",
        "city": "Boston", "state": "MA", "postal_code": "02115",
    }  # fmt: skip
    return values | changes


def publish_guides(
    app: Flask, admin: UserRef, *, label: str = "2026-01", effective_on: date = date(2026, 1, 1),
    codes: tuple[str, ...] = GUIDES,
) -> dict[str, int]:  # fmt: skip
    """Publish a version of each guide (text files); return their version ids by code."""
    with app.app_context(), writing():
        actor = db.session.get(User, admin.id)
        ids = {}
        for code in codes:
            version = publish_version(
                db.session, actor, document_code=code, label=label, effective_on=effective_on,
                filename="guide.txt", content=f"{code} {label}".encode(),
            )  # fmt: skip
            ids[code] = version.id
        db.session.commit()
        return ids


def certified_prescriber(
    app: Flask, factory: Factory, admin: UserRef, last_name: str = "Ramirez"
) -> PartyRef:
    """A prescriber certified today by `admin`."""
    party = make_prescriber(app, factory, last_name=last_name)
    certify(app, party, admin)
    return party


def add_delegate(app: Flask, factory: Factory, prescriber: PartyRef) -> UserRef:
    """A new delegate account working for the prescriber."""
    account = factory.user(Role.DELEGATE)
    with app.app_context(), writing():
        record = db.session.get(Prescriber, prescriber.id)
        actor = db.session.get(User, prescriber.user.id)
        delegates.add_delegate(db.session, record, actor, today=today(), username=account.username)
        db.session.commit()
    return account


def team(app: Flask, factory: Factory, admin: UserRef, last_name: str = "Ramirez") -> Team:
    """A certified prescriber and their delegate."""
    prescriber = certified_prescriber(app, factory, admin, last_name)
    return Team(prescriber, add_delegate(app, factory, prescriber))


def prepare_patient(
    app: Flask, prescriber: PartyRef, *, by: UserRef | None = None, confirm: bool = False,
    **values: Any,
) -> PatientRef:  # fmt: skip
    """A pending patient: the enrollment form prepared by the prescriber (or `by`)."""
    with app.app_context(), writing():
        actor = db.session.get(User, (by or prescriber.user).id)
        record = db.session.get(Prescriber, prescriber.id)
        patient = services.prepare_enrollment(
            db.session, actor, record, patient_values(**values), today=today(),
            confirm_not_duplicate=confirm,
        )  # fmt: skip
        db.session.commit()
        return PatientRef(patient.id, patient.rems_id, patient.name, prescriber.id)


def attestation_ids(app: Flask, can_become_pregnant: bool = True) -> list[str]:
    """The patient attestations that apply."""
    program = app.extensions["rems_program"]
    return [a.id for a in program.patient_attestations(can_become_pregnant)]


def enroll_patient(app: Flask, prescriber: PartyRef, **values: Any) -> PatientRef:
    """An enrolled patient: prepared, signed by the patient in clinic (the guides must be
    published) and co-signed by the prescriber."""
    ref = prepare_patient(app, prescriber, **values)
    with app.app_context(), writing():
        patient = db.session.get(Patient, ref.id)
        user = db.session.get(User, prescriber.user.id)
        attested = current_app.extensions["rems_program"].patient_attestations(
            patient.can_become_pregnant
        )
        services.record_patient_signature(
            db.session, patient, user, typed_name=patient.name,
            attested=[a.id for a in attested], method="in_person", today=today(),
        )  # fmt: skip
        services.sign_enrollment(db.session, patient, user, password=PASSWORD, today=today())
        db.session.commit()
    return ref


def patient_row(app: Flask, patient_id: int) -> Patient:
    """The patient read fresh from the database, detached for reading."""
    with app.app_context():
        patient = db.session.get(Patient, patient_id)
        db.session.expunge(patient)
        return patient


def patient_count(app: Flask) -> int:
    """How many patients exist."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Patient))
