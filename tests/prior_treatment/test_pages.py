"""The prescriber of record enters a prior course: it is historical, counts for the interval
before the next course, and can never be dispensed against."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.common.errors import ValidationFailed
from rems.courses.models import Course
from rems.extensions import db
from rems.prior_treatment.models import PriorDose
from tests.authorizations.helpers import authorize, gate
from tests.factories import PASSWORD
from tests.infusions.test_pages import field_errors
from tests.patients.helpers import add_delegate, certified_prescriber
from tests.patients.pages import count_rows, post_form

COURSE_1 = {f"dose_{n}": f"2025-12-0{n}" for n in range(1, 6)}


def prior_values(**changes) -> dict[str, str]:
    values = COURSE_1 | {
        "source_document": "Infusion record, Lakeside Neurology",
        "password": PASSWORD,
    }
    return values | changes


def test_a_prior_course_is_historical_and_shown_on_the_patient_page(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    patient_page = doctor.get(f"/patients/{world.patient.rems_id}").get_data(as_text=True)
    path = f"/patients/{world.patient.rems_id}/prior-treatment"
    assert path in patient_page
    form = doctor.get(path).get_data(as_text=True)
    assert "Prior treatment: course 1" in form and "Dose 5" in form
    response = post_form(doctor, path, prior_values())
    assert response.status_code == 302
    page = doctor.get(response.headers["Location"]).get_data(as_text=True)
    assert "Prior course 1 is recorded (5 doses)" in page
    assert "Prior treatment" in page and "Infusion record, Lakeside Neurology" in page
    assert "2025-12-01" in page and "2025-12-05" in page
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        assert course.historical and course.status == "completed" and course.doses_given == 5
        assert (course.first_dose_on, course.last_dose_on) == (date(2025, 12, 1), date(2025, 12, 5))
        days = db.session.scalars(sa.select(PriorDose.given_on).order_by(PriorDose.dose_number))
        assert list(days) == [date(2025, 12, n) for n in range(1, 6)]
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"course.prior_recorded", "signature.applied"} <= actions


def test_fewer_doses_make_a_course_closed_early_and_the_next_is_course_2(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/prior-treatment"
    values = prior_values(dose_4="", dose_5="")
    assert post_form(doctor, path, values).status_code == 302
    form = doctor.get(path).get_data(as_text=True)
    assert "Prior treatment: course 2" in form and "Dose 3" in form and "Dose 4" not in form
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        assert course.status == "closed" and "3 of 5 doses" in course.closed_reason


def test_prior_doses_count_for_the_interval_and_are_never_dispensed(app, factory, client):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    post_form(doctor, f"/patients/{world.patient.rems_id}/prior-treatment", prior_values())
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    denial = client.post("/api/v1/authorizations", json=world.request(), headers=headers)
    assert {r["code"] for r in denial.get_json()["reasons"]} == {"COURSE_NOT_AUTHORIZED"}
    with pytest.raises(ValidationFailed) as refused:
        authorize(app, world.patient, world.prescriber)
    assert "The prior course ended on 2025-12-05" in str(refused.value)
    authorize(app, world.patient, world.prescriber, planned_start=date(2026, 12, 5))
    with app.app_context():
        course = db.session.scalar(sa.select(Course).where(Course.historical.is_(False)))
        assert course.number == 2 and course.doses_total == 3


def test_bad_dates_a_formula_and_a_wrong_password_store_nothing(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/prior-treatment"
    values = prior_values(dose_2="2026-11-25", dose_3="2025-12-01", source_document="=cmd|x")
    response = post_form(doctor, path, values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Dose date: cannot be after today (2026-11-24 at " in field_errors(html, "dose_2")
    assert "same day" in html
    assert "spreadsheet formula" in field_errors(html, "source_document")
    wrong = post_form(doctor, path, prior_values(password="not it"))
    assert "password is not correct" in field_errors(wrong.get_data(as_text=True), "password")
    assert count_rows(app, Course) == 0 and count_rows(app, PriorDose) == 0


def test_only_the_prescriber_of_record_before_any_course_here(app, factory):
    world = gate(app, factory)  # course 1 is authorized in this system
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/prior-treatment"
    refused = doctor.get(path)
    assert refused.status_code == 302
    page = doctor.get(refused.headers["Location"]).get_data(as_text=True)
    assert "course 1 is already recorded here" in page
    assert (
        factory.signed_in(add_delegate(app, factory, world.prescriber)).get(path).status_code == 403
    )
    other = certified_prescriber(app, factory, world.admin, "Other")
    assert factory.signed_in(other.user).get(path).status_code == 404


def test_prior_doses_start_the_monitoring_schedule(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    post_form(doctor, f"/patients/{world.patient.rems_id}/prior-treatment", prior_values())
    with app.app_context():
        from rems.monitoring.queries import dose_dates, summary

        assert dose_dates(db.session, world.patient.id)[0] == date(2025, 12, 1)
        overview = summary(db.session, world.patient.id, date(2026, 11, 24))
        assert overview["monitoring_ends_on"] == "2029-12-05"
        overdue = {(i["test"], i["item"]) for i in overview["overdue_items"]}
        assert ("cbc", 1) in overdue and overview["compliant"] is False
