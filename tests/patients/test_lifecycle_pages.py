"""After enrollment, on the patient page: acknowledging a new guide version, discontinuing,
closing and transferring."""

from __future__ import annotations

from datetime import date

from rems.documents.models import Acknowledgment
from rems.patients.models import PatientStatus
from tests.certification.helpers import make_prescriber, page_text
from tests.patients.helpers import (
    enroll_patient,
    patient_row,
    prepare_patient,
    publish_guides,
    team,
)
from tests.patients.pages import count_rows, post_form

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
    refused = post_form(browser, f"{path}/acknowledgments", stale, form_page=path)
    assert refused.status_code == 302
    assert "superseded or not yet in effect" in page_text(browser.get(path))
    assert count_rows(app, Acknowledgment) == 2
    current = {"version_id": str(new["medication_guide"]), "method": "paper_form"}
    assert post_form(browser, f"{path}/acknowledgments", current, form_page=path).status_code == 302
    text = page_text(browser.get(path))
    assert "Not acknowledged" not in text and "Paper form" in text
    assert count_rows(app, Acknowledgment, Acknowledgment.witness_id == ours.delegate.id) == 1


# ---------- Lifecycle ----------


def test_discontinue_needs_a_reason_and_says_monitoring_continues(app, factory, admin):
    ours = team(app, factory, admin)
    publish_guides(app, admin)
    patient = enroll_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    refused = post_form(
        browser, f"{path}/discontinue", {"reason": " ", "confirm": "y"}, form_page=path
    )
    assert refused.status_code == 422
    assert "Give the reason for discontinuing." in page_text(refused)
    assert patient_row(app, patient.id).status == PatientStatus.ENROLLED
    unconfirmed = post_form(browser, f"{path}/discontinue", {"reason": "Relapse"}, form_page=path)
    assert unconfirmed.status_code == 422
    assert "Tick “Yes, discontinue treatment for this patient” to confirm." in page_text(
        unconfirmed
    )
    assert patient_row(app, patient.id).status == PatientStatus.ENROLLED
    confirmed = {"reason": "Relapse", "confirm": "y"}
    done = post_form(browser, f"{path}/discontinue", confirmed, form_page=path)
    assert done.status_code == 302
    assert patient_row(app, patient.id).status == PatientStatus.DISCONTINUED
    assert "Monitoring continues" in page_text(browser.get(path))
    delegate = factory.signed_in(ours.delegate)
    assert post_form(delegate, f"{path}/close", {}, form_page=path).status_code == 403


def test_closing_with_a_future_date_is_refused(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    values = {"close_reason": "lost_to_follow_up", "closed_on": "2026-11-25", "note": "",
              "confirm": "y"}  # fmt: skip
    refused = post_form(browser, f"{path}/close", values, form_page=path)
    assert refused.status_code == 422
    assert "Closing date: cannot be after today (2026-11-24 at " in page_text(refused)
    assert patient_row(app, patient.id).status == PatientStatus.PENDING
    values["closed_on"] = "2026-11-24"
    assert post_form(browser, f"{path}/close", values, form_page=path).status_code == 302
    closed = patient_row(app, patient.id)
    assert (closed.status, closed.closed_on) == (PatientStatus.CLOSED, date(2026, 11, 24))
    assert "no further change is possible" in page_text(browser.get(path))


def test_transfer_needs_a_certified_prescriber_and_moves_the_patient(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    waiting = make_prescriber(app, factory, last_name="Waiting")
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    values = {"npi": waiting.npi, "reason": "Patient moved", "confirm": "y"}
    refused = post_form(browser, f"{path}/transfer", values, form_page=path)
    assert refused.status_code == 422
    assert "Choose a certified prescriber (by NPI)." in page_text(refused)
    assert patient_row(app, patient.id).prescriber_id == ours.prescriber.id
    values["npi"] = theirs.prescriber.npi
    moved = post_form(browser, f"{path}/transfer", values, form_page=path)
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
    values = {"npi": theirs.prescriber.npi, "reason": "Practice closed", "confirm": "y"}
    moved = post_form(browser, f"{path}/transfer", values, form_page=path)
    assert moved.headers["Location"] == path
    assert "Transferred to another prescriber" in page_text(browser.get(path))


def test_destructive_changes_are_folded_away_until_opened(app, factory, admin):
    ours = team(app, factory, admin)
    patient = prepare_patient(app, ours.prescriber)
    browser = factory.signed_in(ours.prescriber.user)
    path = f"/patients/{patient.rems_id}"
    page = browser.get(path).get_data(as_text=True)
    assert page.count('<details class="danger-zone">') == 2  # close and transfer, both shut
    assert 'id="transfer-reason"' in page and 'id="transfer-confirm"' in page
    refused = post_form(browser, f"{path}/transfer", {"npi": "", "reason": ""}, form_page=path)
    page = refused.get_data(as_text=True)
    assert page.count('<details class="danger-zone" open>') == 1  # the one with the errors
    assert 'form-errors" role="alert" tabindex="-1" autofocus' in page  # the summary takes focus
    assert "Tick “Yes, transfer this patient to that prescriber” to confirm." in page_text(refused)
