"""A certified prescriber's pages: renewal, delegates, automatic certification, late attempts."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from rems.auth import users
from rems.auth.models import Role, User
from rems.certification.models import AssessmentAttempt, CertStatus
from rems.extensions import db
from rems.prescribers.models import PrescriberDelegate
from tests.factories import PASSWORD, csrf_token
from tests.prescribers.helpers import (
    ASSESSMENT_PATH,
    DELEGATES_PATH,
    FORM_PATH,
    NEW_PASSWORD,
    OTHER_NPI,
    SIGN_PATH,
    VALID_NPI,
    answers,
    attestations,
    complete_form,
    count,
    enroll_and_certify,
    half_form,
    page_form,
    post_page,
    prescriber_of,
    take_assessment,
)

# ---------- Certified prescribers ----------


def test_a_certified_form_is_read_only_until_renewal_opens(app, factory, clock):
    user = factory.user(Role.PRESCRIBER, username="dr.renew")
    enroll_and_certify(app, user, factory.user(Role.ADMIN), npi=VALID_NPI)
    browser = factory.signed_in(user)
    assert "renewal opens 30 days before that" in browser.get(FORM_PATH).text
    assert 'name="npi"' not in browser.get(FORM_PATH).text
    expires_on = prescriber_of(app, "dr.renew").expires_on
    clock.current = clock.current.replace(
        year=expires_on.year, month=expires_on.month, day=expires_on.day
    ) - timedelta(days=9)
    browser = factory.signed_in(user)
    overview = browser.get("/prescriber/enrollment").text
    assert "Your certification ends in 9 days" in overview
    assert "Renewal is open." in overview
    assert 'name="npi"' in browser.get(FORM_PATH).text


def test_an_uncertified_prescriber_cannot_add_delegates(app, factory):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER))
    post_page(browser, FORM_PATH, half_form(first_name="Ada", last_name="Neurologist"))
    page = browser.get(DELEGATES_PATH).text
    assert "Only a certified prescriber can add delegates." in page
    assert 'name="username"' not in page
    assert "No one works for you as a delegate yet." in page
    token = csrf_token(browser, "/account")
    refused = browser.post(DELEGATES_PATH, data={"csrf_token": token, "username": "nurse.new",
                                                 "full_name": "Nurse New",
                                                 "email": "nurse@example.org",
                                                 "password": NEW_PASSWORD})  # fmt: skip
    assert refused.headers["Location"] == DELEGATES_PATH
    assert "Only a certified prescriber can add delegates." in browser.get(DELEGATES_PATH).text
    assert count(app, User, User.username == "nurse.new") == 0
    assert count(app, PrescriberDelegate) == 0


def test_a_certified_prescriber_manages_delegates(app, factory):
    admin, user = factory.user(Role.ADMIN), factory.user(Role.PRESCRIBER)
    enroll_and_certify(app, user, admin, npi=VALID_NPI)
    existing = factory.user(Role.DELEGATE, username="nurse.existing")
    browser = factory.signed_in(user)
    new = post_page(browser, DELEGATES_PATH, {"username": "nurse.new", "full_name": "Nia New",
                                              "email": "nia@example.org",
                                              "password": NEW_PASSWORD})  # fmt: skip
    assert new.status_code == 302
    assert post_page(browser, DELEGATES_PATH, {"username": existing.username}).status_code == 302
    auditor = factory.user(Role.AUDITOR)
    refused = post_page(browser, DELEGATES_PATH, {"username": auditor.username})
    assert refused.status_code == 422
    assert "That account is not a delegate account." in refused.text
    page = browser.get(DELEGATES_PATH).text
    assert "Nia New" in page and "nurse.existing" in page
    with app.app_context():
        assert users.find_user(db.session, "nurse.new").role == Role.DELEGATE
        link = db.session.query(PrescriberDelegate).filter_by(delegate_id=existing.id).one()
        link_id = link.id
    token = csrf_token(browser, DELEGATES_PATH)
    ended = browser.post(f"{DELEGATES_PATH}/{link_id}/end", data={"csrf_token": token})
    assert ended.headers["Location"] == DELEGATES_PATH
    assert "nurse.existing" not in browser.get(DELEGATES_PATH).text
    assert count(app, PrescriberDelegate, PrescriberDelegate.ended_at.is_not(None)) == 1


def test_ending_another_prescribers_delegate_is_not_found(app, factory):
    admin = factory.user(Role.ADMIN)
    mine, theirs = factory.user(Role.PRESCRIBER), factory.user(Role.PRESCRIBER)
    enroll_and_certify(app, mine, admin, npi=VALID_NPI)
    enroll_and_certify(app, theirs, admin, npi=OTHER_NPI)
    delegate = factory.user(Role.DELEGATE)
    their_browser = factory.signed_in(theirs)
    post_page(their_browser, DELEGATES_PATH, {"username": delegate.username})
    with app.app_context():
        link_id = db.session.query(PrescriberDelegate).one().id
    browser = factory.signed_in(mine)
    token = csrf_token(browser, DELEGATES_PATH)
    assert (
        browser.post(f"{DELEGATES_PATH}/{link_id}/end", data={"csrf_token": token}).status_code
        == 404
    )
    assert (
        browser.post(f"{DELEGATES_PATH}/999999/end", data={"csrf_token": token}).status_code == 404
    )
    assert count(app, PrescriberDelegate, PrescriberDelegate.ended_at.is_(None)) == 1


def test_a_program_without_review_certifies_at_signing(app, factory):
    program = app.extensions["rems_program"]
    automatic = dataclasses.replace(program.certification, review="automatic")
    app.extensions["rems_program"] = dataclasses.replace(program, certification=automatic)
    browser = factory.signed_in(factory.user(Role.PRESCRIBER, username="dr.auto"))
    post_page(browser, FORM_PATH, complete_form())
    take_assessment(browser, app)
    done = post_page(browser, SIGN_PATH, attestations(app) | {"password": PASSWORD})
    assert "you are certified until 2028-11-23." in browser.get(done.headers["Location"]).text
    assert prescriber_of(app, "dr.auto").status == CertStatus.CERTIFIED


def test_an_attempt_finished_after_submitting_is_not_recorded(app, factory):
    browser = factory.signed_in(factory.user(Role.PRESCRIBER, username="dr.late"))
    post_page(browser, FORM_PATH, complete_form())
    take_assessment(browser, app)
    late_form = page_form(browser, ASSESSMENT_PATH)  # a second attempt, started in another tab
    post_page(browser, SIGN_PATH, attestations(app) | {"password": PASSWORD})
    late = browser.post(ASSESSMENT_PATH, data=answers(app) | late_form)
    assert late.headers["Location"] == "/prescriber/enrollment"
    assert "waiting for the program&#39;s review" in browser.get(late.headers["Location"]).text
    assert browser.get(ASSESSMENT_PATH).headers["Location"] == "/prescriber/enrollment"
    assert count(app, AssessmentAttempt) == 1
