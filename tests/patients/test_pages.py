"""The patient pages through the browser: who sees a patient, the enrollment journey by a
delegate and the prescriber, bad input, duplicates, the REMS ID, lifecycle, acknowledgments."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from rems.auth.models import Role, Signature
from rems.auth.signatures import WRONG_PASSWORD
from rems.documents.models import Acknowledgment
from rems.extensions import db
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import PrescriberDelegate
from rems.sites.models import Site
from tests.certification.helpers import certify, make_prescriber, make_site, page_text
from tests.factories import PASSWORD, csrf_token
from tests.patients.helpers import (
    attestation_ids,
    enroll_patient,
    form_fields,
    patient_count,
    patient_row,
    prepare_patient,
    publish_guides,
    team,
)


@pytest.fixture
def admin(factory):
    """A program administrator."""
    return factory.user(Role.ADMIN)


def _post(browser, path: str, values: dict, form_page: str | None = None):
    """Post a form with the CSRF token of `form_page` (the page that shows it)."""
    token = csrf_token(browser, form_page or path)
    return browser.post(path, data={"csrf_token": token, **values})


def _count(app, model, *conditions) -> int:
    """How many rows of `model` match."""
    with app.app_context():
        statement = sa.select(sa.func.count()).select_from(model).where(*conditions)
        return db.session.scalar(statement)


def _signature_values(app, name: str, leave_out: str | None = None, method="in_person"):
    """The patient signature form: every attestation ticked but `leave_out`."""
    boxes = {f"attest_{aid}": "y" for aid in attestation_ids(app) if aid != leave_out}
    return boxes | {"typed_name": name, "method": method}


# ---------- Who sees a patient ----------


def test_only_the_prescribers_team_and_the_program_see_a_patient(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    site = make_site(app, factory)
    patient = prepare_patient(app, ours.prescriber)
    page = f"/patients/{patient.rems_id}"
    for outsider in (theirs.prescriber.user, theirs.delegate, site.user):
        browser = factory.signed_in(outsider)
        assert browser.get(page).status_code == 404, outsider.role
        assert patient.rems_id not in browser.get("/patients").get_data(as_text=True)
    for insider in (ours.prescriber.user, ours.delegate, admin, factory.user(Role.AUDITOR)):
        browser = factory.signed_in(insider)
        assert browser.get(page).status_code == 200, insider.role
        assert patient.rems_id in browser.get("/patients").get_data(as_text=True)


def test_sub_pages_are_404_for_another_team_and_refused_to_site_staff(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    patient = prepare_patient(app, ours.prescriber)
    base = f"/patients/{patient.rems_id}"
    prescriber, delegate = (
        factory.signed_in(theirs.prescriber.user),
        factory.signed_in(theirs.delegate),
    )
    assert prescriber.get(f"{base}/patient-signature").status_code == 404
    assert delegate.get(f"{base}/patient-signature").status_code == 404
    assert prescriber.get(f"{base}/sign").status_code == 404
    token = csrf_token(prescriber, "/account")
    for action in ("acknowledgments", "discontinue", "close", "transfer"):
        assert prescriber.post(f"{base}/{action}", data={"csrf_token": token}).status_code == 404
    staff = factory.signed_in(make_site(app, factory).user)
    assert staff.get("/patients").status_code == 403
    assert staff.get(f"{base}/patient-signature").status_code == 403
    ours_delegate = factory.signed_in(ours.delegate)
    assert ours_delegate.get(f"{base}/patient-signature").status_code == 200
    assert patient_row(app, patient.id).status == PatientStatus.PENDING


def test_a_delegate_who_stopped_working_for_the_prescriber_loses_the_patient(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    delegate = factory.signed_in(ours.delegate)
    assert delegate.get(f"/patients/{patient.rems_id}").status_code == 200
    with app.app_context():
        link_id = db.session.scalar(
            sa.select(PrescriberDelegate.id).where(
                PrescriberDelegate.delegate_id == ours.delegate.id
            )
        )
    prescriber = factory.signed_in(ours.prescriber.user)
    ended = _post(prescriber, f"/prescriber/delegates/{link_id}/end", {}, "/prescriber/delegates")
    assert ended.status_code == 302
    assert delegate.get(f"/patients/{patient.rems_id}").status_code == 404


# ---------- The REMS ID ----------


def test_a_mistyped_rems_id_is_404_and_case_does_not_matter(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    last = patient.rems_id[-1]
    typo = patient.rems_id[:-1] + ("0" if last != "0" else "1")
    assert browser.get(f"/patients/{typo}").status_code == 404
    assert browser.get(f"/patients/{patient.rems_id[:-2]}").status_code == 404
    assert browser.get(f"/patients/{patient.rems_id.lower()}").status_code == 200


# ---------- The enrollment journey ----------


def test_a_delegate_prepares_the_patient_signs_and_the_prescriber_enrolls(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    delegate = factory.signed_in(ours.delegate)
    form = delegate.get("/patients/new").get_data(as_text=True)
    assert "Relapsing forms of multiple sclerosis" in form
    assert 'type="date"' in form and "Elena Ramirez" in form
    saved = _post(delegate, "/patients/new", form_fields(prescriber=str(ours.prescriber.id)))
    assert saved.status_code == 302
    rems_id = saved.headers["Location"].rsplit("/", 1)[1]
    with app.app_context():
        patient = db.session.scalar(sa.select(Patient).where(Patient.rems_id == rems_id))
        assert (patient.status, patient.created_by_id) == (PatientStatus.PENDING, ours.delegate.id)
        assert patient.prescriber_id == ours.prescriber.id
    path = f"/patients/{rems_id}"
    signed = _post(delegate, f"{path}/patient-signature", _signature_values(app, "Ana Silva"))
    assert signed.status_code == 302
    assert _count(app, Acknowledgment, Acknowledgment.witness_id == ours.delegate.id) == 2
    assert delegate.get(f"{path}/sign").status_code == 403
    refused = _post(delegate, f"{path}/sign", {"password": PASSWORD}, form_page="/account")
    assert refused.status_code == 403
    prescriber = factory.signed_in(ours.prescriber.user)
    review = page_text(prescriber.get(f"{path}/sign"))
    assert "Ana Silva" in review and "I will use effective birth control" in review
    wrong = _post(prescriber, f"{path}/sign", {"password": "not my password"})
    assert wrong.status_code == 200 and WRONG_PASSWORD in page_text(wrong)
    assert patient_row(app, patient.id).status == PatientStatus.PENDING
    assert _post(prescriber, f"{path}/sign", {"password": PASSWORD}).status_code == 302
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
        ("2026-11-25", "The date of birth is in the future."),
        ("1906-11-23", "The date of birth makes the patient older than 120 years."),
        ("", "Enter the date of birth (YYYY-MM-DD)."),
    ],
)
def test_an_impossible_date_of_birth_is_refused(app, factory, admin, born, message):
    ours = team(app, factory, admin)
    browser = factory.signed_in(ours.prescriber.user)
    page = _post(browser, "/patients/new", form_fields(date_of_birth=born))
    assert page.status_code == 200
    assert message in page_text(page)
    assert patient_count(app) == 0


def test_the_oldest_plausible_date_of_birth_is_accepted(app, factory, admin):
    ours = team(app, factory, admin)
    browser = factory.signed_in(ours.prescriber.user)
    assert (
        _post(browser, "/patients/new", form_fields(date_of_birth="1906-11-24")).status_code == 302
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
    assert _post(browser, "/patients/new", form_fields(planned_site_id=code)).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(Patient.planned_site_id)) == certified.id


def test_a_prescriber_not_yet_certified_cannot_enroll(app, factory):
    party = make_prescriber(app, factory)  # submitted, waiting for review
    browser = factory.signed_in(party.user)
    form = page_text(browser.get("/patients/new"))
    assert "Your certification is not current" in form
    page = _post(browser, "/patients/new", form_fields())
    assert "The prescriber of record must be certified to enroll patients." in page_text(page)
    assert patient_count(app) == 0


def test_a_delegate_enrolls_only_for_the_prescribers_they_work_for(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    browser = factory.signed_in(ours.delegate)
    page = _post(browser, "/patients/new", form_fields(prescriber=str(theirs.prescriber.id)))
    assert page.status_code == 200
    assert "Not a valid choice" in page_text(page)
    assert patient_count(app) == 0


def test_missing_attestations_are_named_and_nothing_is_signed(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/patient-signature"
    signatures = _count(app, Signature)
    page = _post(browser, path, _signature_values(app, "Lee Park", leave_out="use_contraception"))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "The patient must affirm this statement." in text
    assert 'id="attest_use_contraception-error"' in text
    assert patient_row(app, patient.id).patient_signature_id is None
    assert (_count(app, Signature), _count(app, Acknowledgment)) == (signatures, 0)


def test_the_typed_name_must_be_the_legal_name(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/patient-signature"
    page = _post(browser, path, _signature_values(app, "Lee Parker"))
    assert "The patient types their full legal name: Lee Park." in page_text(page)
    assert _count(app, Acknowledgment) == 0
    assert _post(browser, path, _signature_values(app, "  lee   PARK ")).status_code == 302
    assert _count(app, Acknowledgment) == 2


def test_the_patient_cannot_sign_before_the_guides_are_published(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin, codes=("medication_guide",))
    patient = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/patient-signature"
    assert "Not published" in page_text(browser.get(path))
    page = _post(browser, path, _signature_values(app, "Lee Park"))
    assert "The program has not published the patient_guide yet." in page_text(page)
    assert patient_row(app, patient.id).patient_signature_id is None


def test_the_prescriber_cannot_sign_before_the_patient(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}/sign"
    assert "The patient has not signed yet" in page_text(browser.get(path))
    page = _post(browser, path, {"password": PASSWORD}, form_page="/account")
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
    signatures = _count(app, Signature)
    again = _post(browser, f"{path}/patient-signature", _signature_values(app, "Lee Park"), path)
    assert again.status_code == 302
    assert "The enrollment is enrolled, not pending." in page_text(browser.get(path))
    assert _count(app, Signature) == signatures


# ---------- Duplicates ----------


def test_a_possible_duplicate_is_shown_then_confirmed_and_flagged(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    first = prepare_patient(app, theirs.prescriber, first_name="Ana", last_name="Silva",
                            date_of_birth=date(1990, 5, 17))  # fmt: skip
    browser = factory.signed_in(ours.prescriber.user)
    warned = _post(browser, "/patients/new", form_fields(first_name=" ana ", last_name="SILVA"))
    assert warned.status_code == 200
    text = page_text(warned)
    assert "A patient with this name and date of birth is already enrolled" in text
    assert first.rems_id in text and "1990-05-17" in text
    assert 'name="confirm_not_duplicate"' in warned.get_data(as_text=True)
    assert patient_count(app) == 1
    fields = form_fields(first_name="ana", last_name="Silva", confirm_not_duplicate="y")
    saved = _post(browser, "/patients/new", fields)
    assert saved.status_code == 302
    with app.app_context():
        second = db.session.scalar(sa.select(Patient).where(Patient.id != first.id))
        assert second.possible_duplicate_of_id == first.id
        second_id = second.rems_id
    assert "possible duplicate" in page_text(browser.get(saved.headers["Location"]))
    reader = factory.signed_in(factory.user(Role.AUDITOR))
    listed = reader.get("/patients/duplicates").get_data(as_text=True)
    assert first.rems_id in listed and second_id in listed
    assert f'href="/patients/{first.rems_id}"' in listed
    assert "Possible duplicate" in reader.get("/patients").get_data(as_text=True)
    assert factory.signed_in(ours.prescriber.user).get("/patients/duplicates").status_code == 403


def test_the_duplicates_page_is_empty_without_flags(factory):
    page = factory.signed_in(factory.user(Role.ADMIN)).get("/patients/duplicates")
    assert "No patient is flagged as a possible duplicate." in page_text(page)


# ---------- The list ----------


def test_the_list_searches_filters_and_shows_empty_states(app, factory, admin):
    ours = team(app, factory, admin)
    browser = factory.signed_in(ours.prescriber.user)
    empty = page_text(browser.get("/patients"))
    assert "There are no patients yet." in empty and "Enroll a patient" in empty
    lee = prepare_patient(app, ours.prescriber, first_name="Lee", last_name="Park")
    kim = prepare_patient(app, ours.prescriber, first_name="Kim", last_name="Moss")
    by_name = browser.get("/patients?q=par").get_data(as_text=True)
    assert lee.rems_id in by_name and kim.rems_id not in by_name
    by_id = browser.get(f"/patients?q={kim.rems_id.lower()}").get_data(as_text=True)
    assert kim.rems_id in by_id and lee.rems_id not in by_id
    assert "No patient matches these filters." in page_text(browser.get("/patients?status=closed"))
    assert lee.rems_id in browser.get("/patients?status=pending").get_data(as_text=True)
    assert browser.get("/patients?status=nonsense").status_code == 200
    auditor = page_text(factory.signed_in(factory.user(Role.AUDITOR)).get("/patients"))
    assert "Enroll a patient" not in auditor


def test_the_patient_page_shows_the_steps_and_an_empty_course_list(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    text = page_text(factory.signed_in(ours.delegate).get(f"/patients/{patient.rems_id}"))
    assert "No treatment course yet." in text
    assert f"typed name “{patient.name}”" in text
    assert "Enrollment form prepared" in text and "Enrolled: the prescriber signed" in text
    assert "Only the prescriber of record or a program administrator" in text


# ---------- Acknowledgments ----------


def test_a_new_guide_version_is_acknowledged_from_the_patient_page(app, factory, admin):
    ours = team(app, factory, admin)
    old = publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    new = publish_guides(app, admin, label="2026-11", effective_on=date(2026, 11, 24),
                         codes=("medication_guide",))  # fmt: skip
    browser = factory.signed_in(ours.delegate)
    path = f"/patients/{patient.rems_id}"
    before = page_text(browser.get(path))
    assert "Not acknowledged: Medication Guide" in before and "Record the acknowledgment" in before
    stale = {"version_id": str(old["medication_guide"]), "method": "paper_form"}
    refused = _post(browser, f"{path}/acknowledgments", stale, form_page=path)
    assert refused.status_code == 302
    assert "superseded or not yet in effect" in page_text(browser.get(path))
    assert _count(app, Acknowledgment) == 2
    current = {"version_id": str(new["medication_guide"]), "method": "paper_form"}
    assert _post(browser, f"{path}/acknowledgments", current, form_page=path).status_code == 302
    text = page_text(browser.get(path))
    assert "Not acknowledged" not in text and "Paper form" in text
    assert _count(app, Acknowledgment, Acknowledgment.witness_id == ours.delegate.id) == 1


# ---------- Lifecycle ----------


def test_discontinue_needs_a_reason_and_says_monitoring_continues(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    refused = _post(browser, f"{path}/discontinue", {"reason": " "}, form_page=path)
    assert refused.status_code == 422
    assert "Give the reason for discontinuing." in page_text(refused)
    assert patient_row(app, patient.id).status == PatientStatus.ENROLLED
    done = _post(browser, f"{path}/discontinue", {"reason": "Relapse"}, form_page=path)
    assert done.status_code == 302
    assert patient_row(app, patient.id).status == PatientStatus.DISCONTINUED
    assert "Monitoring continues" in page_text(browser.get(path))
    delegate = factory.signed_in(ours.delegate)
    assert _post(delegate, f"{path}/close", {}, form_page=path).status_code == 403


def test_closing_with_a_future_date_is_refused(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    values = {"close_reason": "lost_to_follow_up", "closed_on": "2026-11-25", "note": ""}
    refused = _post(browser, f"{path}/close", values, form_page=path)
    assert refused.status_code == 422
    assert "The closing date cannot be in the future." in page_text(refused)
    assert patient_row(app, patient.id).status == PatientStatus.PENDING
    values["closed_on"] = "2026-11-24"
    assert _post(browser, f"{path}/close", values, form_page=path).status_code == 302
    closed = patient_row(app, patient.id)
    assert (closed.status, closed.closed_on) == (PatientStatus.CLOSED, date(2026, 11, 24))
    assert "no further change is possible" in page_text(browser.get(path))


def test_transfer_needs_a_certified_prescriber_and_moves_the_patient(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    waiting = make_prescriber(app, factory, last_name="Waiting")
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    values = {"npi": waiting.npi, "reason": "Patient moved"}
    refused = _post(browser, f"{path}/transfer", values, form_page=path)
    assert refused.status_code == 422
    assert "Choose a certified prescriber (by NPI)." in page_text(refused)
    assert patient_row(app, patient.id).prescriber_id == ours.prescriber.id
    values["npi"] = theirs.prescriber.npi
    moved = _post(browser, f"{path}/transfer", values, form_page=path)
    assert moved.status_code == 302 and moved.headers["Location"] == "/patients"
    assert patient_row(app, patient.id).prescriber_id == theirs.prescriber.id
    assert patient.rems_id not in browser.get("/patients").get_data(as_text=True)
    assert browser.get(path).status_code == 404
    assert factory.signed_in(ours.delegate).get(path).status_code == 404
    new_list = factory.signed_in(theirs.prescriber.user).get("/patients")
    assert patient.rems_id in new_list.get_data(as_text=True)


def test_an_administrator_transfers_and_stays_on_the_patient(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(admin)
    path = f"/patients/{patient.rems_id}"
    values = {"npi": theirs.prescriber.npi, "reason": "Practice closed"}
    moved = _post(browser, f"{path}/transfer", values, form_page=path)
    assert moved.headers["Location"] == path
    assert "Transferred to another prescriber" in page_text(browser.get(path))
