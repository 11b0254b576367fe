"""E-signatures: password asked again, printed name frozen, exactly what was signed hashed."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth import signatures, users
from rems.auth.models import Role, Signature
from rems.common.errors import ValidationFailed
from rems.db import canonical_json
from tests.factories import PASSWORD

FORM = {"form": "Prescriber Enrollment Form", "npi": "1234567893", "attests": ["a", "b"]}


@pytest.fixture
def prescriber(db):
    user = users.create_user(
        db.session, actor=None, actor_label="test", username="dr.who", email="who@example.org",
        full_name="Dana Who", role=Role.PRESCRIBER, password=PASSWORD,
    )  # fmt: skip
    db.session.commit()
    return user


def test_signature_records_name_time_meaning_and_content_hash(db, prescriber, clock):
    signature = signatures.sign(
        db.session, prescriber, password=PASSWORD, meaning="Prescriber attests", content=FORM
    )
    db.session.commit()
    assert signature.printed_name == "Dana Who"
    assert signature.signed_at == clock.now()
    assert signature.meaning == "Prescriber attests"
    assert signature.content == canonical_json(FORM)
    assert signature.content_sha256 == hashlib.sha256(canonical_json(FORM).encode()).hexdigest()
    assert signatures.signature_matches(signature, dict(FORM))
    assert not signatures.signature_matches(signature, {**FORM, "npi": "1234567890"})
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "signature.applied"))
    assert event.new_values["content_sha256"] == signature.content_sha256


def test_printed_name_stays_frozen_when_the_user_is_renamed(db, prescriber):
    signature = signatures.sign(
        db.session, prescriber, password=PASSWORD, meaning="m", content=FORM
    )
    db.session.commit()
    prescriber.full_name = "Dana Who-Renamed"
    db.session.commit()
    assert db.session.get(Signature, signature.id).printed_name == "Dana Who"


def test_wrong_password_signs_nothing(db, prescriber):
    with pytest.raises(ValidationFailed) as failure:
        signatures.sign(db.session, prescriber, password="guess", meaning="m", content=FORM)
    assert failure.value.errors == {"password": [signatures.WRONG_PASSWORD]}
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Signature)) == 0


def test_patient_signature_is_typed_name_witnessed_by_the_user(db, prescriber):
    signature = signatures.sign_for_patient(
        db.session, typed_name="  Pat Patient ", witness=prescriber, meaning="Patient attests",
        content=FORM,
    )  # fmt: skip
    db.session.commit()
    assert (signature.printed_name, signature.signer_id) == ("Pat Patient", None)
    assert signature.witness_id == prescriber.id
    with pytest.raises(ValidationFailed, match="patient_signature"):
        signatures.sign_for_patient(
            db.session, typed_name=" ", witness=prescriber, meaning="m", content=FORM
        )
