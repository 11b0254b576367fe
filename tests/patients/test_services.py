"""Patient enrollment services: signatures, the REMS ID, duplicates, the acknowledgment rule."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
import sqlalchemy as sa
from flask import current_app

from rems.audit.models import AuditEvent
from rems.auth.models import Role, Signature, User
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.identifiers import check_character, is_valid_identifier
from rems.common.transactions import writing
from rems.documents.queries import patient_missing_documents
from rems.documents.services import acknowledge, publish_version
from rems.extensions import db
from rems.patients import services
from rems.patients.models import Patient, PatientStatus
from rems.patients.queries import patient_for
from rems.prescribers.models import Prescriber
from tests.certification.helpers import certify, make_prescriber
from tests.factories import PASSWORD

TODAY = date(2026, 11, 24)
FORM = {
    "first_name": "Pat", "last_name": "Jones", "date_of_birth": date(1984, 2, 29),
    "sex": "female", "can_become_pregnant": True,
}  # fmt: skip


@pytest.fixture
def world(app, factory):
    """A certified prescriber, an admin, and both guides published."""
    admin = factory.user(Role.ADMIN)
    party = make_prescriber(app, factory)
    certify(app, party, admin)
    with app.app_context(), writing():
        actor = db.session.get(User, admin.id)
        for code in ("medication_guide", "patient_guide"):
            publish_version(db.session, actor, document_code=code, label="2026-01",
                            effective_on=date(2026, 1, 1), filename=f"{code}.txt",
                            content=f"{code} text".encode())  # fmt: skip
        db.session.commit()
    return {"admin": admin, "prescriber": party}


def _prepare(world, confirm: bool = False, **overrides):
    prescriber = db.session.get(Prescriber, world["prescriber"].id)
    user = db.session.get(User, world["prescriber"].user.id)
    patient = services.prepare_enrollment(
        db.session, user, prescriber, FORM | overrides, today=TODAY, confirm_not_duplicate=confirm
    )
    return patient, user


def _attested(patient):
    program = current_app.extensions["rems_program"]
    return [a.id for a in program.patient_attestations(patient.can_become_pregnant)]


def _enroll(world, **overrides):
    patient, user = _prepare(world, **overrides)
    services.record_patient_signature(db.session, patient, user, typed_name=patient.name,
                                      attested=_attested(patient), method="in_person",
                                      today=TODAY)  # fmt: skip
    services.sign_enrollment(db.session, patient, user, password=PASSWORD, today=TODAY)
    db.session.commit()
    return patient, user


def test_enrollment_signatures_hash_exactly_what_was_signed(app, world):
    with app.app_context(), writing():
        patient, user = _enroll(world)
        assert patient.status == PatientStatus.ENROLLED
        patient_sig = db.session.get(Signature, patient.patient_signature_id)
        prescriber_sig = db.session.get(Signature, patient.prescriber_signature_id)
        assert (patient_sig.printed_name, patient_sig.witness_id) == ("Pat Jones", user.id)
        assert prescriber_sig.printed_name == user.full_name
        for signature in (patient_sig, prescriber_sig):
            assert (
                signature.content_sha256 == hashlib.sha256(signature.content.encode()).hexdigest()
            )
        assert '"can_become_pregnant":true' in patient_sig.content
        user.full_name = "Renamed Prescriber"
        db.session.commit()
        assert db.session.get(Signature, prescriber_sig.id).printed_name != "Renamed Prescriber"


def test_rems_patient_id_carries_a_check_character(app, world):
    with app.app_context(), writing():
        patient, user = _prepare(world)
        db.session.commit()
        assert is_valid_identifier(patient.rems_id, "P")
        body = patient.rems_id[:-1]
        wrong = "0" if patient.rems_id[-1] != "0" else "1"
        assert check_character(body) == patient.rems_id[-1]
        assert patient_for(db.session, user, patient.rems_id) is not None
        assert patient_for(db.session, user, body + wrong) is None
        assert patient_for(db.session, user, patient.rems_id.lower()) is not None


def test_a_possible_duplicate_must_be_confirmed_and_is_flagged(app, world):
    with app.app_context(), writing():
        first, _ = _prepare(world)
        db.session.commit()
        with pytest.raises(ValidationFailed) as refused:
            _prepare(world, first_name=" pat ", last_name="JONES")
        message = refused.value.errors["confirm_not_duplicate"][0]
        assert "already enrolled" in message and first.rems_id not in message
        db.session.rollback()
        second, _ = _prepare(world, confirm=True)
        db.session.commit()
        assert second.possible_duplicate_of_id == first.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"date_of_birth": date(2026, 11, 25)}, "date_of_birth"),
        ({"date_of_birth": date(1900, 1, 1)}, "date_of_birth"),
        ({"sex": "unknown-value"}, "sex"),
        ({"first_name": " "}, "first_name"),
        ({"planned_site_id": "S0000000000X"}, "planned_site_id"),
    ],
)
def test_bad_enrollment_input_names_the_field_and_stores_nothing(app, world, overrides, field):
    with app.app_context(), writing():
        with pytest.raises(ValidationFailed) as refused:
            _prepare(world, **overrides)
        assert field in refused.value.errors
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0


def test_patient_signature_needs_every_attestation_and_the_legal_name(app, world):
    with app.app_context(), writing():
        patient, user = _prepare(world)
        with pytest.raises(ValidationFailed) as refused:
            services.record_patient_signature(
                db.session, patient, user, typed_name="Someone Else", attested=[],
                method="in_person", today=TODAY,
            )  # fmt: skip
        errors = refused.value.errors
        assert "typed_name" in errors
        required = _attested(patient)
        assert {f"attest_{a}" for a in required} <= set(errors)
        assert len(required) == 4  # able to become pregnant: the contraception statement too
        assert patient.patient_signature_id is None


def test_a_delegate_prepares_but_cannot_sign(app, world, factory):
    delegate = factory.user(Role.DELEGATE)
    with app.app_context(), writing():
        from rems.prescribers.delegates import add_delegate

        prescriber = db.session.get(Prescriber, world["prescriber"].id)
        add_delegate(db.session, prescriber, prescriber.user, today=TODAY,
                     username=delegate.username)  # fmt: skip
        db.session.commit()
        nurse = db.session.get(User, delegate.id)
        patient = services.prepare_enrollment(db.session, nurse, prescriber, FORM, today=TODAY)
        services.record_patient_signature(db.session, patient, nurse, typed_name="Pat Jones",
                                          attested=_attested(patient), method="paper_form",
                                          today=TODAY)  # fmt: skip
        with pytest.raises(StateConflict, match="delegate cannot"):
            services.sign_enrollment(db.session, patient, nurse, password=PASSWORD, today=TODAY)


def test_uncertified_prescriber_cannot_enroll(app, factory):
    party = make_prescriber(app, factory)  # submitted, not certified
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        with pytest.raises(ValidationFailed) as refused:
            services.prepare_enrollment(db.session, prescriber.user, prescriber, FORM, today=TODAY)
        assert "prescriber" in refused.value.errors


def test_a_new_version_must_be_acknowledged_again(app, world):
    with app.app_context(), writing():
        patient, user = _enroll(world)
        assert patient_missing_documents(db.session, patient, TODAY) == []
        admin = db.session.get(User, world["admin"].id)
        version = publish_version(db.session, admin, document_code="medication_guide",
                                  label="2026-11", effective_on=TODAY, filename="mg.txt",
                                  content=b"revised guide")  # fmt: skip
        db.session.commit()
        assert patient_missing_documents(db.session, patient, TODAY) == ["medication_guide"]
        acknowledge(db.session, patient, version, witness=user, method="in_person", today=TODAY)
        db.session.commit()
        assert patient_missing_documents(db.session, patient, TODAY) == []
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {
            "document_version.published",
            "acknowledgment.recorded",
            "patient.enrolled",
        } <= actions


def test_a_superseded_version_cannot_be_acknowledged(app, world):
    with app.app_context(), writing():
        patient, user = _enroll(world)
        admin = db.session.get(User, world["admin"].id)
        old = db.session.scalar(sa.text("SELECT id FROM document_version WHERE label = '2026-01' "
                                        "ORDER BY id LIMIT 1"))  # fmt: skip
        publish_version(db.session, admin, document_code="medication_guide", label="2026-11",
                        effective_on=TODAY, filename="mg.txt", content=b"new")  # fmt: skip
        db.session.commit()
        from rems.documents.models import DocumentVersion

        with pytest.raises(ValidationFailed, match="superseded"):
            acknowledge(db.session, patient, db.session.get(DocumentVersion, old), witness=user,
                        method="in_person", today=TODAY)  # fmt: skip


def test_an_acknowledgment_dated_after_today_at_the_practice_is_refused(app, world):
    """A paper form's signed date is a fact: 2026-11-25 (UTC noon) is after today (the frozen
    2026-11-24) at the practice; nothing is recorded."""
    from datetime import UTC, datetime

    with app.app_context(), writing():
        patient, user = _enroll(world)
        admin = db.session.get(User, world["admin"].id)
        version = publish_version(db.session, admin, document_code="medication_guide",
                                  label="2026-11", effective_on=TODAY, filename="mg.txt",
                                  content=b"revised guide")  # fmt: skip
        db.session.commit()
        with pytest.raises(ValidationFailed) as refused:
            signed = datetime(2026, 11, 25, 12, tzinfo=UTC)
            acknowledge(db.session, patient, version, witness=user, method="paper_form",
                        today=TODAY, acknowledged_at=signed)  # fmt: skip
        message = refused.value.errors["acknowledged_at"][0]
        assert message.startswith("Acknowledgment date: cannot be after today (2026-11-24 at ")
        db.session.rollback()
        assert patient_missing_documents(db.session, patient, TODAY) == ["medication_guide"]
