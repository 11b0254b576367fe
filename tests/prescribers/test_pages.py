"""The prescriber's pages: registration, the enrollment journey, assessment edge cases and
stale forms."""

from __future__ import annotations

from flask import url_for

from rems.audit.models import AuditEvent
from rems.auth import users
from rems.auth.models import Role, Signature, User
from rems.auth.signatures import WRONG_PASSWORD
from rems.certification.forms_common import STALE_FORM
from rems.certification.models import AssessmentAttempt, CertificationSubmission, CertStatus
from rems.extensions import db
from tests.factories import PASSWORD, csrf_token
from tests.prescribers.helpers import (
    ASSESSMENT_PATH,
    FORM_PATH,
    INVALID_NPI,
    NEW_PASSWORD,
    OTHER_NPI,
    SIGN_PATH,
    VALID_NPI,
    answers,
    attestation_ids,
    attestations,
    complete_form,
    count,
    enroll_and_certify,
    field_block,
    half_form,
    page_form,
    post_page,
    prescriber_of,
    register,
    take_assessment,
)

# ---------- Registration ----------


def test_a_prescriber_registers_and_lands_on_an_empty_enrollment(app, client):
    response = register(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/prescriber/enrollment"
    page = client.get("/prescriber/enrollment").get_data(as_text=True)
    assert "You have not started your Prescriber Enrollment Form yet" in page
    assert 'href="/prescriber/enrollment/form"' in page
    with app.app_context():
        user = users.find_user(db.session, "dr.ada")
        assert (user.role, user.is_authorized_representative) == (Role.PRESCRIBER, False)
        event = db.session.query(AuditEvent).filter_by(action="user.created").one()
        assert (event.actor_id, event.actor_label) == (None, "self-registration")


def test_a_site_representative_registers(app, client):
    response = register(client, kind="representative", username="rep.nia")
    assert response.status_code == 302
    with app.test_request_context():
        has_site_page = "sites.register" in app.view_functions
        expected = url_for("sites.register") if has_site_page else "/dashboard"
    assert response.headers["Location"] == expected
    assert client.get("/account").status_code == 200
    with app.app_context():
        user = users.find_user(db.session, "rep.nia")
        assert (user.role, user.is_authorized_representative) == (Role.SITE_STAFF, True)


def test_a_reused_username_shows_the_field_error_and_stores_nothing(app, client, factory):
    factory.user(Role.AUDITOR, username="dr.taken")
    before = count(app, User)
    page = register(client, username="Dr.Taken")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Choose another username: this one cannot be used." in text
    assert "already taken" not in text
    assert "field-invalid" in field_block(text, "username")
    assert count(app, User) == before
    assert client.get("/account").status_code == 302


def test_passwords_that_differ_are_refused(app, client):
    page = register(client, confirm="another long password")
    assert page.status_code == 200
    assert "The passwords differ." in page.get_data(as_text=True)
    assert count(app, User) == 0


def test_signed_in_users_are_sent_from_registration_to_the_dashboard(factory):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER))
    response = browser.get("/register")
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


# ---------- The whole journey ----------


def test_the_whole_prescriber_journey(app, client, factory):
    other = factory.user(Role.PRESCRIBER)
    enroll_and_certify(app, other, factory.user(Role.ADMIN), npi=OTHER_NPI)
    assert register(client).status_code == 302
    _half_form_is_saved_and_resumed(app, client)
    _npi_is_checked(app, client)
    _assessment_is_failed_then_passed(app, client)
    _signing_refuses_what_is_missing(app, client)
    done = post_page(client, SIGN_PATH, attestations(app) | {"password": NEW_PASSWORD})
    assert done.status_code == 302
    assert done.headers["Location"] == "/prescriber/enrollment"
    overview = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "awaits the program&#39;s review" in overview
    assert "waiting for the" in overview and "Waiting for review" in overview
    assert prescriber_of(app, "dr.ada").status == CertStatus.SUBMITTED
    _form_is_read_only(app, client)


def _half_form_is_saved_and_resumed(app, client):
    """A draft needs only the names; it comes back filled in; a missing name is refused."""
    saved = post_page(
        client,
        FORM_PATH,
        half_form(first_name="Ada", last_name="Neurologist", specialty="Neurology"),
    )
    assert saved.status_code == 302
    overview = client.get("/prescriber/enrollment").get_data(as_text=True)
    assert "badge-draft" in overview and "To do" in overview and "Done" not in overview
    resumed = client.get(FORM_PATH).get_data(as_text=True)
    assert 'value="Neurology"' in resumed and 'value="Ada"' in resumed
    assert "10 digits; the last is a check digit" in resumed
    assert '<option value="">Choose a state or territory</option>' in resumed
    refused = post_page(client, FORM_PATH, half_form(last_name="Neurologist"))
    assert "This field is required." in refused.get_data(as_text=True)
    assert prescriber_of(app, "dr.ada").first_name == "Ada"


def _npi_is_checked(app, client):
    """A wrong check digit and another prescriber's NPI are refused on the field."""
    invalid = post_page(client, FORM_PATH, complete_form(npi=INVALID_NPI))
    assert invalid.status_code == 200
    assert "This is not a valid NPI" in invalid.get_data(as_text=True)
    taken = post_page(client, FORM_PATH, complete_form(npi=OTHER_NPI))
    assert "Another prescriber is already enrolled with this NPI." in taken.get_data(as_text=True)
    assert prescriber_of(app, "dr.ada").npi is None
    assert post_page(client, FORM_PATH, complete_form()).status_code == 302
    assert prescriber_of(app, "dr.ada").npi == VALID_NPI
    overview = client.get("/prescriber/enrollment").get_data(as_text=True)
    assert overview.count("badge-approved") == 1  # the form step only


def _assessment_is_failed_then_passed(app, client):
    """A failed attempt is recorded and explained; a passed one follows."""
    page = client.get(ASSESSMENT_PATH).get_data(as_text=True)
    questions = app.extensions["rems_program"].assessment.questions
    assert page.count("<fieldset") == len(questions) and page.count("<legend") == len(questions)
    first = questions[0]
    failed = take_assessment(client, app, wrong_ids=(first.id,))
    assert failed.headers["Location"] == "/prescriber/enrollment/assessment/result"
    result = client.get(failed.headers["Location"]).get_data(as_text=True)
    total = len(questions)
    assert f"Not passed: {total - 1} of {total} correct" in result
    assert first.explanation.replace("'", "&#39;") in result
    assert questions[1].explanation.replace("'", "&#39;") not in result
    prescriber = prescriber_of(app, "dr.ada")
    assert count(app, AssessmentAttempt, AssessmentAttempt.prescriber_id == prescriber.id) == 1
    passed = take_assessment(client, app)
    assert f"Passed: {total} of {total} correct" in client.get(passed.headers["Location"]).text
    attempts = count(app, AssessmentAttempt, AssessmentAttempt.prescriber_id == prescriber.id)
    assert attempts == 2


def _signing_refuses_what_is_missing(app, client):
    """A missing attestation or a wrong password stores nothing."""
    leave_out = app.extensions["rems_program"].attestations.prescriber[2].id
    unticked = post_page(
        client, SIGN_PATH, attestations(app, leave_out) | {"password": NEW_PASSWORD}
    )
    assert unticked.status_code == 200
    text = unticked.get_data(as_text=True)
    box = field_block(text, f"attest_{leave_out}")
    assert "field-invalid" in box and "Affirm this statement to submit the form." in box
    assert "field-invalid" not in field_block(text, f"attest_{attestation_ids(app)[0]}")
    wrong = post_page(client, SIGN_PATH, attestations(app) | {"password": "not my password"})
    assert WRONG_PASSWORD in wrong.get_data(as_text=True)
    assert count(app, CertificationSubmission) == 1  # the other prescriber's only
    assert count(app, Signature) == 1
    assert prescriber_of(app, "dr.ada").status == CertStatus.DRAFT


def _form_is_read_only(app, client):
    """After submitting, the form shows no inputs and a post changes nothing."""
    page = client.get(FORM_PATH).get_data(as_text=True)
    assert "waiting for the program&#39;s review" in page
    assert 'name="npi"' not in page and VALID_NPI in page
    token = csrf_token(client, "/account")
    client.post(FORM_PATH, data=complete_form(first_name="Changed") | {"csrf_token": token})
    assert prescriber_of(app, "dr.ada").first_name == "Ada"


# ---------- Assessment edge cases ----------


def test_signing_without_a_passed_assessment_links_to_it(app, factory):
    user = factory.user(Role.PRESCRIBER)
    browser = factory.signed_in(user)
    post_page(browser, FORM_PATH, complete_form())
    page = post_page(browser, SIGN_PATH, attestations(app) | {"password": PASSWORD})
    text = page.get_data(as_text=True)
    assert "Pass the knowledge assessment before signing." in text
    assert f'href="{ASSESSMENT_PATH}"' in text
    assert count(app, CertificationSubmission) == 0


def test_an_answer_without_a_started_attempt_stores_nothing(app, factory):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER))
    post_page(browser, FORM_PATH, half_form(first_name="Ada", last_name="Neurologist"))
    token = csrf_token(browser, "/account")
    response = browser.post(ASSESSMENT_PATH, data=answers(app) | {"csrf_token": token})
    assert response.headers["Location"] == ASSESSMENT_PATH
    assert "start the assessment again" in browser.get(ASSESSMENT_PATH).text
    assert count(app, AssessmentAttempt) == 0


def test_a_changed_question_set_stores_nothing(app, factory):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER))
    post_page(browser, FORM_PATH, half_form(first_name="Ada", last_name="Neurologist"))
    token = csrf_token(browser, ASSESSMENT_PATH)
    with browser.session_transaction() as session:
        attempt = session["prescriber_assessment"]
        attempt["order"] = attempt["order"][1:]  # as if the program file gained a question
        session["prescriber_assessment"] = attempt
    response = browser.post(ASSESSMENT_PATH, data=answers(app) | {"csrf_token": token})
    assert response.headers["Location"] == ASSESSMENT_PATH
    assert count(app, AssessmentAttempt) == 0


def test_an_unanswered_question_is_asked_again_and_nothing_is_stored(app, factory):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER))
    post_page(browser, FORM_PATH, half_form(first_name="Ada", last_name="Neurologist"))
    partial = answers(app)
    partial.pop(next(iter(partial)))
    page = post_page(browser, ASSESSMENT_PATH, partial)
    assert page.status_code == 200
    assert "Choose an answer to this question." in page.text
    assert count(app, AssessmentAttempt) == 0


# ---------- Stale forms ----------


def test_a_stale_version_posted_twice_changes_nothing(app, factory, clock):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER, username="dr.stale"))
    post_page(browser, FORM_PATH, half_form(first_name="Ada", last_name="Neurologist"))
    clock.advance(minutes=1)
    opened = page_form(browser, FORM_PATH)
    assert opened["version"]
    values = half_form(first_name="Ada") | opened
    first = browser.post(FORM_PATH, data=values | {"last_name": "First"})
    assert first.status_code == 302
    clock.advance(minutes=1)
    second = browser.post(FORM_PATH, data=values | {"last_name": "Second"})
    assert second.headers["Location"] == FORM_PATH
    assert STALE_FORM in browser.get(FORM_PATH).text
    assert prescriber_of(app, "dr.stale").last_name == "First"
