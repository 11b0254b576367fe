"""What the prescriber page tests share: form values, posting forms as a browser, enrolling."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from rems.auth import users
from rems.certification.services import decide_submission, pending_submission
from rems.common.clock import today
from rems.common.transactions import writing
from rems.extensions import db
from rems.prescribers import services
from tests.factories import CSRF_RE, PASSWORD, UserRef

VALID_NPI = "1234567893"
INVALID_NPI = "1234567890"  # ten digits, wrong check digit
OTHER_NPI = "1245319599"
VERSION_RE = re.compile(r'name="version"[^>]*value="([^"]*)"')
FORM_PATH = "/prescriber/enrollment/form"
ASSESSMENT_PATH = "/prescriber/enrollment/assessment"
SIGN_PATH = "/prescriber/enrollment/sign"
DELEGATES_PATH = "/prescriber/delegates"
NEW_PASSWORD = "a long enough new password"


def complete_form(**changes: str) -> dict[str, str]:
    """Every field of the Prescriber Enrollment Form, filled in correctly."""
    values = {
        "first_name": "Ada", "last_name": "Neurologist", "credentials": "MD",
        "specialty": "Neurology", "npi": VALID_NPI, "license_number": "MD-204311",
        "license_state": "MA", "practice_name": "Charles River Neurology",
        "address_line1": "55 Fruit Street", "address_line2": "", "city": "Boston",
        "state": "MA", "postal_code": "02114", "phone": "(617) 555-0142",
        "email": "ada@example.org",
    }  # fmt: skip
    return values | changes


def half_form(**values: str) -> dict[str, str]:
    """The form as a browser posts it with only `values` filled in (the rest left empty)."""
    return {name: "" for name in complete_form()} | values


def page_form(client: FlaskClient, path: str) -> dict[str, str]:
    """The CSRF token and (when the form has one) the version of the form on `path`."""
    text = client.get(path).get_data(as_text=True)
    csrf = CSRF_RE.search(text)
    assert csrf, f"no form on {path}"
    version = VERSION_RE.search(text)
    return {"csrf_token": csrf.group(1)} | ({"version": version.group(1)} if version else {})


def post_page(client: FlaskClient, path: str, values: dict, **kwargs):
    """Open `path` and post its form with `values`, as a browser would."""
    return client.post(path, data=page_form(client, path) | values, **kwargs)


def answers(app: Flask, right: bool = True, wrong_ids: tuple[str, ...] = ()) -> dict[str, str]:
    """Answers to the assessment from the program file: right ones, except `wrong_ids`."""
    questions = app.extensions["rems_program"].assessment.questions
    picked = {}
    for question in questions:
        correct = right and question.id not in wrong_ids
        wrong = next(choice for choice in question.choices if choice != question.answer)
        picked[f"q_{question.id}"] = question.answer if correct else wrong
    return picked


def take_assessment(client: FlaskClient, app: Flask, **choice):
    """Start an attempt and answer it."""
    return post_page(client, ASSESSMENT_PATH, answers(app, **choice))


def attestations(app: Flask, leave_out: str | None = None) -> dict[str, str]:
    """Every prescriber attestation ticked, but `leave_out`."""
    ids = [a.id for a in app.extensions["rems_program"].attestations.prescriber]
    return {f"attest_{aid}": "y" for aid in ids if aid != leave_out}


def count(app: Flask, model, *conditions) -> int:
    """How many rows of `model` match."""
    with app.app_context():
        statement = sa.select(sa.func.count()).select_from(model).where(*conditions)
        return db.session.scalar(statement)


def enroll_and_certify(app: Flask, user: UserRef, admin: UserRef, npi: str = OTHER_NPI) -> None:
    """Take a prescriber through form, assessment and signature by the services, then certify."""
    program = app.extensions["rems_program"]
    with app.app_context(), writing():
        account = users.find_user(db.session, user.username)
        prescriber = services.save_enrollment_form(
            db.session, account, complete_form(npi=npi), today=today()
        )
        questions = program.assessment.questions
        services.record_assessment(
            db.session, prescriber, account, order=[q.id for q in questions],
            answers={q.id: q.answer for q in questions}, started_at=prescriber.created_at,
        )  # fmt: skip
        services.submit_enrollment(
            db.session, prescriber, account, password=PASSWORD, today=today(),
            attested=[a.id for a in program.attestations.prescriber],
        )  # fmt: skip
        db.session.commit()
    certify(app, user, admin)


def certify(app: Flask, user: UserRef, admin: UserRef) -> None:
    """The administrator certifies the prescriber's pending submission."""
    with app.app_context(), writing():
        account = users.find_user(db.session, user.username)
        prescriber = services.prescriber_for(db.session, account)
        decide_submission(
            db.session, pending_submission(db.session, prescriber), certify=True,
            actor=users.find_user(db.session, admin.username), today=today(),
        )  # fmt: skip
        db.session.commit()


def register(client, kind="prescriber", username="dr.ada", confirm=NEW_PASSWORD):
    """Post the registration form."""
    values = {
        "kind": kind, "username": username, "full_name": "Ada Neurologist",
        "email": "ada@example.org", "password": NEW_PASSWORD, "confirm_password": confirm,
    }  # fmt: skip
    return post_page(client, "/register", values)


def field_block(html: str, name: str) -> str:
    """The markup of the form field named `name`: its label, help, errors and control."""
    blocks = html.split('<div class="field')
    return next(block for block in blocks if f'name="{name}"' in block)


def attestation_ids(app) -> list[str]:
    """The prescriber attestations' ids, in file order."""
    return [a.id for a in app.extensions["rems_program"].attestations.prescriber]


def prescriber_of(app, username):
    """The prescriber record of an account, detached for reading."""
    with app.app_context():
        record = services.prescriber_for(db.session, users.find_user(db.session, username))
        db.session.expunge_all()
        return record
