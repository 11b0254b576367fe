"""The enrollment journey on the pages: a delegate prepares, the patient signs in clinic,
the prescriber enrolls; bad input is named and stores nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.auth.models import Signature
from rems.auth.signatures import WRONG_PASSWORD
from rems.documents.models import Acknowledgment
from rems.extensions import db
from rems.patients.models import Patient, PatientStatus
from rems.sites.models import Site
from tests.certification.helpers import certify, make_prescriber, make_site, page_text
from tests.factories import PASSWORD
from tests.patients.helpers import (
    enroll_patient,
    form_fields,
    patient_count,
    patient_row,
    prepare_patient,
    publish_guides,
    team,
)
from tests.patients.pages import count_rows, post_form, signature_values

# ---------- The enrollment journey ----------


def test_a_delegate_prepares_the_patient_signs_and_the_prescriber_enrolls(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    delegate = factory.signed_in(ours.delegate)
    form = delegate.get("/patients/new").get_data(as_text=True)
    assert "Relapsing forms of multiple sclerosis" in form
    assert 'type="date"' in form and "Elena Ramirez" in form
    saved = post_form(delegate, "/patients/new", form_fields(prescriber=str(ours.prescriber.id)))
    assert saved.status_code == 302
    rems_id = saved.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient).where(Patient.rems_id == rems_id))
        assert (patient.status, patient.created_by_id) == (PatientStatus.PENDING, ours.delegate.id)
        assert patient.prescriber_id == ours.prescriber.id
    path = f"/patients/{rems_id}"
    signed = post_form(delegate, f"{path}/patient-signature", signature_values(app, "Ana Silva"))
    assert signed.status_code == 302
    assert count_rows(app, Acknowledgment, Acknowledgment.witness_id == ours.delegate.id) == 2
    assert delegate.get(f"{path}/sign").status_code == 403
    refused = post_form(delegate, f"{path}/sign", {"password": PASSWORD}, form_page="/account")
    assert refused.status_code == 403
    prescriber = factory.signed_in(ours.prescriber.user)
    review = page_text(prescriber.get(f"{path}/sign"))
    assert "Ana Silva" in review and "I will use effective birth control" in review
    wrong = post_form(prescriber, f"{path}/sign", {"password": "not my password"})
    assert wrong.status_code == 200 and WRONG_PASSWORD in page_text(wrong)
    assert patient_row(app, patient.id).status == PatientStatus.PENDING
    assert post_form(prescriber, f"{path}/sign", {"password": PASSWORD}).status_code == 302
    assert patient_row(app, patient.id).status == PatientStatus.ENROLLED
    shown = page_text(prescriber.get(path))
    assert "Enrolled" in shown and "Medication Guide" in shown and "Patient Guide" in shown
    assert "The patient has acknowledged the current version of every required document" in shown


def test_the_prescribers_form_has_no_prescriber_choice(app, factory, admin):
    ours = team(app, factory, admin)
    browser = factory.signed_in(ours.prescriber.user)
    page = browser.get("/patients/new").get_data(as_text=True)
    assert 'name="prescriber"' not in page
    assert "are the prescriber of record" in page
    assert 'name="confirm_not_duplicate"' not in page


@pytest.mark.parametrize(
    ("born", "message"),
    [
        ("2026-11-25", "Date of birth: cannot be after today (2026-11-24 at "),
        ("1906-11-23", "The date of birth makes the patient older than 120 years."),
        ("", "Enter the date of birth (YYYY-MM-DD)."),
    ],
)
def test_an_impossible_date_of_birth_is_refused(app, factory, admin, born, message):
    ours = team(app, factory, admin)
    browser = factory.signed_in(ours.prescriber.user)
    page = post_form(browser, "/patients/new", form_fields(date_of_birth=born))
    assert page.status_code == 200
    assert message in page_text(page)
    assert patient_count(app) == 0


def test_the_oldest_plausible_date_of_birth_is_accepted(app, factory, admin):
    ours = team(app, factory, admin)
    browser = factory.signed_in(ours.prescriber.user)
    assert (
        post_form(browser, "/patients/new", form_fields(date_of_birth="1906-11-24")).status_code
        == 302
    )
    assert patient_count(app) == 1


def test_only_certified_infusion_sites_are_offered_as_the_planned_site(app, factory, admin):
    ours = team(app, factory, admin)
    certified = make_site(app, factory, name="Certified Infusions", dispenses=False)
    certify(app, certified, admin)
    make_site(app, factory, name="Waiting Infusions", dispenses=False)
    make_site(app, factory, name="Only A Pharmacy", infuses=False)
    with app.app_context():
        code = db.session.get(Site, certified.id).site_code
    browser = factory.signed_in(ours.prescriber.user)
    form = page_text(browser.get("/patients/new"))
    assert f"Certified Infusions ({code})" in form
    assert "Waiting Infusions" not in form and "Only A Pharmacy" not in form
    assert post_form(browser, "/patients/new", form_fields(planned_site_id=code)).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Patient.planned_site_id)) == certified.id


def test_a_prescriber_not_yet_certified_cannot_enroll(app, factory):
    party = make_prescriber(app, factory)  # submitted, waiting for review
    browser = factory.signed_in(party.user)
    form = page_text(browser.get("/patients/new"))
    assert "Your certification is not current" in form
    page = post_form(browser, "/patients/new", form_fields())
    assert "The prescriber of record must be certified to enroll patients." in page_text(page)
    assert patient_count(app) == 0


def test_a_delegate_enrolls_only_for_the_prescribers_they_work_for(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    browser = factory.signed_in(ours.delegate)
    page = post_form(browser, "/patients/new", form_fields(prescriber=str(theirs.prescriber.id)))
    assert page.status_code == 200
    assert "Not a valid choice" in page_text(page)
    assert patient_count(app) == 0


def test_missing_attestations_are_named_and_nothing_is_signed(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/patient-signature"
    signatures = count_rows(app, Signature)
    page = post_form(
        browser, path, signature_values(app, "Lee Park", leave_out="use_contraception")
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The patient must affirm this statement." in text
    assert 'id="attest_use_contraception-error"' in text
    assert patient_row(app, patient.id).patient_signature_id is None
    assert (count_rows(app, Signature), count_rows(app, Acknowledgment)) == (signatures, 0)


def test_the_typed_name_must_be_the_legal_name(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/patient-signature"
    page = post_form(browser, path, signature_values(app, "Lee Parker"))
    assert "The patient types their full legal name: Lee Park." in page_text(page)
    assert count_rows(app, Acknowledgment) == 0
    assert post_form(browser, path, signature_values(app, "  lee   PARK ")).status_code == 302
    assert count_rows(app, Acknowledgment) == 2


def test_the_patient_cannot_sign_before_the_guides_are_published(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin, codes=("medication_guide",))
    patient = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/patient-signature"
    assert "Not published" in page_text(browser.get(path))
    page = post_form(browser, path, signature_values(app, "Lee Park"))
    assert "The program has not published the patient_guide yet." in page_text(page)
    assert patient_row(app, patient.id).patient_signature_id is None


def test_the_prescriber_cannot_sign_before_the_patient(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/sign"
    assert "The patient has not signed yet" in page_text(browser.get(path))
    page = post_form(browser, path, {"password": PASSWORD}, form_page="/account")
    assert "The patient signs first, in clinic." in page_text(page)
    assert patient_row(app, patient.id).status == PatientStatus.PENDING


def test_a_second_signature_is_refused_and_changes_nothing(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    opened = browser.get(f"{path}/sign")
    assert opened.status_code == 302 and opened.headers["Location"] == path
    assert "The enrollment is enrolled: there is nothing left to sign." in page_text(
        browser.get(path)
    )
    signatures = count_rows(app, Signature)
    again = post_form(browser, f"{path}/patient-signature", signature_values(app, "Lee Park"), path)
    assert again.status_code == 302
    assert "The enrollment is enrolled, not pending." in page_text(browser.get(path))
    assert count_rows(app, Signature) == signatures
