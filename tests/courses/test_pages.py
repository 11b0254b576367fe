"""The course pages: the Patient Authorization and Baseline Lab Form (every failing reason on
its field at once, the password, who may use it) and closing a course; the patient's page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from rems.auth.models import Role
from rems.common.clock import today
from rems.courses.models import Course
from tests.authorizations.helpers import authorize, gate, infusion
from tests.factories import PASSWORD, csrf_token
from tests.patients.helpers import add_delegate, certified_prescriber, enroll_patient
from tests.patients.helpers import publish_guides as publish
from tests.patients.pages import count_rows

START_IN = 2  # days from the frozen today (2026-11-24) to the planned first infusion


@pytest.fixture
def world(app, factory):
    """A certified prescriber, the guides published, an enrolled patient."""
    admin = factory.user(Role.ADMIN)
    prescriber = certified_prescriber(app, factory, admin)
    publish(app, admin)
    patient = enroll_patient(app, prescriber)
    return admin, prescriber, patient


def _path(patient, action="new") -> str:
    return f"/patients/{patient.rems_id}/courses/{action}"


def field_errors(html: str, field_id: str) -> str:
    """The error list shown on one field ('' when it has none)."""
    match = re.search(rf'<ul class="field-errors" id="{field_id}-error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def form_values(app, *, ages: dict[str, int | None] | None = None, leave_out=(), password=PASSWORD):
    """The form as a browser posts it: each baseline test `age` days before the planned start
    (None: left empty), every attestation ticked but `leave_out`."""
    program = app.extensions["rems_program"]
    with app.app_context():
        start = today() + timedelta(days=START_IN)
        needs = [t.code for t in program.baseline_tests(1)]
    ages = {code: 5 for code in needs} | (ages or {})
    values = {"planned_start": start.isoformat(), "password": password}
    for code, age in ages.items():
        values[f"baseline_{code}"] = (
            "" if age is None else (start - timedelta(days=age)).isoformat()
        )
    for attestation in program.attestations.course:
        if attestation.id not in leave_out:
            values[f"attest_{attestation.id}"] = "y"
    return values


def _post(client, patient, values, action="new"):
    token = csrf_token(client, f"/patients/{patient.rems_id}")
    return client.post(_path(patient, action), data={"csrf_token": token, **values})


def test_the_form_shows_every_failing_reason_on_its_field_at_once(app, factory, world):
    _, prescriber, patient = world
    client = factory.signed_in(prescriber.user)
    page = client.get(_path(patient)).get_data(as_text=True)
    assert "Patient Authorization and Baseline Lab Form" in page
    assert "Skin exam (melanoma) (course 1 only)" in page and "within the prior 12 months" in page
    assert "within 30 days before the first infusion" in page
    values = form_values(
        app,
        ages={"cbc": 31, "creatinine": 30, "urinalysis": None},
        leave_out=("no_recent_live_vaccine",),
        password="not the password",
    )
    response = _post(client, patient, values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "too old" in field_errors(html, "baseline_cbc")
    assert field_errors(html, "baseline_creatinine") == ""  # 30 days old is still accepted
    assert "no result" in field_errors(html, "baseline_urinalysis")
    assert "Affirm this statement" in field_errors(html, "attest_no_recent_live_vaccine")
    assert field_errors(html, "attest_no_hiv_no_active_infection") == ""
    assert count_rows(app, Course) == 0


def test_a_wrong_password_signs_nothing_then_the_right_one_authorizes(app, factory, world):
    _, prescriber, patient = world
    client = factory.signed_in(prescriber.user)
    values = form_values(app, ages={"cbc": 30}, password="not the password")
    response = _post(client, patient, values)
    assert response.status_code == 422
    assert "password is not correct" in field_errors(response.get_data(as_text=True), "password")
    assert count_rows(app, Course) == 0

    response = _post(client, patient, form_values(app, ages={"cbc": 30}))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/patients/{patient.rems_id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Course 1 is authorized: the first dose must be given by 2026-11-26" in page
    assert "Courses and dispensing" in page and "Close course 1" in page
    assert "Authorize a course</a>" not in page  # one open course at a time
    assert count_rows(app, Course, Course.status == "authorized") == 1


def test_a_missing_planned_start_is_named(app, factory, world):
    _, prescriber, patient = world
    client = factory.signed_in(prescriber.user)
    response = _post(client, patient, form_values(app) | {"planned_start": ""})
    assert response.status_code == 422
    assert "Enter the planned first infusion date" in field_errors(
        response.get_data(as_text=True), "planned_start"
    )


def test_a_delegate_is_refused_and_another_prescriber_gets_404(app, factory, world):
    admin, prescriber, patient = world
    delegate = factory.signed_in(add_delegate(app, factory, prescriber))
    assert delegate.get(_path(patient)).status_code == 403
    token = csrf_token(delegate, "/account")
    assert delegate.post(_path(patient), data={"csrf_token": token}).status_code == 403
    other = factory.signed_in(certified_prescriber(app, factory, admin, "Okafor").user)
    assert other.get(_path(patient)).status_code == 404
    assert other.get(_path(patient, "close")).status_code == 404
    assert count_rows(app, Course) == 0


def test_the_patient_page_offers_the_form_only_to_the_prescriber_of_record(app, factory, world):
    _, prescriber, patient = world
    own = factory.signed_in(prescriber.user).get(f"/patients/{patient.rems_id}")
    assert _path(patient) in own.get_data(as_text=True)
    delegate = factory.signed_in(add_delegate(app, factory, prescriber))
    page = delegate.get(f"/patients/{patient.rems_id}").get_data(as_text=True)
    assert _path(patient) not in page
    assert "The prescriber of record authorizes a course" in page


def test_closing_a_course_needs_a_reason(app, factory, world):
    _, prescriber, patient = world
    authorize(app, patient, prescriber)
    client = factory.signed_in(prescriber.user)
    response = _post(client, patient, {"course": "1", "reason": "  "}, "close")
    assert response.status_code == 422
    assert "Give the reason" in field_errors(response.get_data(as_text=True), "reason")
    assert count_rows(app, Course, Course.status == "closed") == 0

    response = _post(client, patient, {"course": "1", "reason": "Patient moved abroad."}, "close")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Course 1 is closed" in page and "Patient moved abroad." in page
    assert count_rows(app, Course, Course.status == "closed") == 1
    assert _path(patient) in page  # a new course may now be authorized


def test_a_stale_close_form_changes_nothing(app, factory, world):
    _, prescriber, patient = world
    authorize(app, patient, prescriber)
    client = factory.signed_in(prescriber.user)
    response = _post(client, patient, {"course": "2", "reason": "Wrong page."}, "close")
    assert response.status_code == 302
    assert count_rows(app, Course, Course.status == "closed") == 0


def test_a_lapsed_course_no_longer_blocks_a_new_form(app, factory, world, clock):
    _, prescriber, patient = world
    authorize(app, patient, prescriber)  # baseline 5 days old: first dose by 2026-12-19
    clock.advance(days=30)
    client = factory.signed_in(prescriber.user)
    response = _post(client, patient, form_values(app))
    assert response.status_code == 302
    assert count_rows(app, Course, Course.number == 1, Course.status == "lapsed") == 1
    assert count_rows(app, Course, Course.number == 2, Course.status == "authorized") == 1


def test_reading_the_form_records_a_lapse(app, factory, world, clock):
    _, prescriber, patient = world
    authorize(app, patient, prescriber)
    client = factory.signed_in(prescriber.user)
    assert "Only one course is open" in client.get(_path(patient)).get_data(as_text=True)
    clock.advance(days=30)
    client = factory.signed_in(prescriber.user)  # the earlier session has timed out
    page = client.get(_path(patient)).get_data(as_text=True)
    assert "Only one course is open" not in page and "Sign and authorize the course" in page
    assert count_rows(app, Course, Course.status == "lapsed") == 1


def test_a_second_course_while_the_first_is_in_progress_says_which_and_why(app, factory, client):
    world = gate(app, factory)
    bearer = {"Authorization": f"Bearer {world.pharmacy_token}"}
    number = client.post("/api/v1/authorizations", json=world.request(), headers=bearer)
    number = number.get_json()["authorization_number"]
    with app.app_context():
        day = today()
    nurse = {"Authorization": f"Bearer {world.nurse_token}"}
    given = client.post(f"/api/v1/authorizations/{number}/infusions", json=infusion(day),
                        headers=nurse)  # fmt: skip
    assert given.status_code == 201, given.get_json()
    prescriber = factory.signed_in(world.prescriber.user)
    response = _post(prescriber, world.patient, form_values(app))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Course 1 is still open (in progress, 1 of 5 doses given)" in page
    assert "close or complete it before authorizing another" in page
    assert "prior course ended" not in page
    assert count_rows(app, Course) == 1


def test_a_baseline_test_dated_after_today_is_refused_but_a_planned_start_ahead_is_fine(
    app, factory, world
):
    """The planned first infusion lies ahead (2 days); a baseline test was collected, so a
    collection date after today at the practice is refused on its field, and nothing is signed."""
    _, prescriber, patient = world
    client = factory.signed_in(prescriber.user)
    response = _post(client, patient, form_values(app, ages={"cbc": 1}))  # collected tomorrow
    assert response.status_code == 422
    errors = field_errors(response.get_data(as_text=True), "baseline_cbc")
    assert "collection date: cannot be after today (2026-11-24 at " in errors
    assert field_errors(response.get_data(as_text=True), "planned_start") == ""
    assert count_rows(app, Course) == 0
    assert _post(client, patient, form_values(app, ages={"cbc": 2})).status_code == 302
