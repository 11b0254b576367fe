"""The patient pages: who sees a patient, the REMS ID, duplicates and the list."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from rems.auth.models import Role
from rems.extensions import db
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import PrescriberDelegate
from tests.certification.helpers import make_site, page_text
from tests.factories import csrf_token
from tests.patients.helpers import (
    enroll_patient,
    form_fields,
    patient_count,
    patient_row,
    prepare_patient,
    publish_guides,
    team,
)
from tests.patients.pages import post_form

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
    ended = post_form(
        prescriber, f"/prescriber/delegates/{link_id}/end", {}, "/prescriber/delegates"
    )
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


# ---------- Duplicates ----------


def test_a_possible_duplicate_is_shown_then_confirmed_and_flagged(app, factory, admin):
    ours, theirs = team(app, factory, admin, "Ours"), team(app, factory, admin, "Theirs")
    first = prepare_patient(app, theirs.prescriber, first_name="Ana", last_name="Silva",
                            date_of_birth=date(1990, 5, 17))  # fmt: skip
    browser = factory.signed_in(ours.prescriber.user)
    warned = post_form(browser, "/patients/new", form_fields(first_name=" ana ", last_name="SILVA"))
    assert warned.status_code == 200
    text = page_text(warned)
    assert "A patient with this name and date of birth is already enrolled" in text
    # Another prescriber's patient: that one exists is said, its REMS ID is not (with the date
    # of birth it is what the gate asks for); the administrator reviews the flagged pair.
    assert first.rems_id not in text
    # … and not how many there are (issue 22, item 10)
    assert "Such a patient is enrolled with another prescriber" in text
    assert "1 such patient" not in text
    assert 'name="confirm_not_duplicate"' in warned.get_data(as_text=True)
    assert patient_count(app) == 1
    fields = form_fields(first_name="ana", last_name="Silva", confirm_not_duplicate="y")
    saved = post_form(browser, "/patients/new", fields)
    assert saved.status_code == 302
    with app.app_context():
        second = db.session.scalar(sa.select(Patient).where(Patient.id != first.id))
        assert second.possible_duplicate_of_id == first.id
        second_id = second.rems_id
    saved_page = page_text(browser.get(saved.headers["Location"]))
    assert "possible duplicate" in saved_page and first.rems_id not in saved_page
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
    # A name search: "lee" cannot begin a REMS ID (they start with P), where "par" can.
    by_name = browser.get("/patients?q=lee").get_data(as_text=True)
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
