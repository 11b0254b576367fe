"""Forms of the prescriber's pages and what they show: the enrollment form (its checklist, why it
is read-only), the knowledge assessment, signing, delegates."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, InputRequired, Length

from rems.certification.forms_common import check_editable
from rems.certification.models import AssessmentAttempt
from rems.certification.services import pending_submission
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import options, show_errors, state_options, time_zone_field
from rems.prescribers.models import Prescriber
from rems.prescribers.services import (
    FORM_FIELDS,
    clean_form,
    question_order,
    usable_passed_attempt,
)
from rems.program.model import Assessment, Attestation, Program, Question

#: field → (label, help text) of the Prescriber Enrollment Form.
FIELD_TEXT = {
    "first_name": ("First name", "As on your medical license."),
    "last_name": ("Last name", "As on your medical license."),
    "credentials": ("Credentials", "e.g. MD or DO."),
    "specialty": ("Specialty", "e.g. Neurology."),
    "npi": ("NPI", "10 digits; the last is a check digit."),
    "license_number": ("State license number", "The number of your medical license."),
    "license_state": ("License state", "The state or territory that issued the license."),
    "practice_name": ("Practice name", "The practice or clinic where you see patients."),
    "address_line1": ("Practice address", "Street and number."),
    "address_line2": ("Address line 2 (optional)", "Suite, floor or building, if any."),
    "city": ("City", "The practice's city."),
    "state": ("State", "The practice's state or territory."),
    "postal_code": ("ZIP code", "5 digits, or ZIP+4 (02115-1234)."),
    "phone": ("Practice phone", "With area code, e.g. (617) 555-0142."),
    "email": ("Practice email", "Where the program writes to you about your certification."),
    "time_zone": (
        "Practice time zone (optional)",
        "Your practice's dates (results, courses, adverse events) are checked against today "
        "in this zone. Leave it empty for the program's time zone.",
    ),
}


def read_only_reason(
    session: Session, prescriber: Prescriber | None, today: date, warning_days: int
) -> str | None:
    """Why the enrollment is shown read-only today (in review, or certified), None if it can
    change."""
    if prescriber is None:
        return None
    pending = pending_submission(session, prescriber) is not None
    try:
        check_editable(
            prescriber.status, prescriber.expires_on, today, warning_days, pending=pending
        )
    except StateConflict as conflict:
        return str(conflict)
    return None


def checklist(session: Session, prescriber: Prescriber, *, submitted: bool) -> dict[str, bool]:
    """The overview's three steps, done or not: the form complete, the assessment passed since
    the last submission, the attestations signed and submitted."""
    values = {name: getattr(prescriber, name) for name, _, _ in FORM_FIELDS}
    try:
        clean_form(session, values, prescriber_id=prescriber.id, complete=True)
    except ValidationFailed:
        complete = False
    else:
        complete = True
    passed = usable_passed_attempt(session, prescriber) is not None
    return {"form": submitted or complete, "assessment": submitted or passed, "signed": submitted}


def _form_field(name: str, limit: int):
    """One field of the enrollment form: a state select, or a text box."""
    label, help_text = FIELD_TEXT[name]
    if name.endswith("state"):
        return SelectField(label, choices=state_options(), description=help_text)
    if name == "time_zone":
        return time_zone_field(label, help_text)
    kind = {"email": EmailField, "phone": TelField}.get(name, StringField)
    return kind(label, validators=[Length(max=limit)], description=help_text)


class EnrollmentForm(FlaskForm):
    """The Prescriber Enrollment Form; `version` catches a form posted after the record changed."""

    version = HiddenField()


for _name, _limit, _ in FORM_FIELDS:
    setattr(EnrollmentForm, _name, _form_field(_name, _limit))


def form_values(form: EnrollmentForm) -> dict[str, str | None]:
    """The enrollment fields as the service takes them."""
    return {name: form[name].data for name, _, _ in FORM_FIELDS}


def labelled_values(prescriber: Prescriber) -> list[tuple[str, str | None]]:
    """The form's fields as (label, value), to show the form read-only."""
    return [(FIELD_TEXT[name][0], getattr(prescriber, name)) for name, _, _ in FORM_FIELDS]


def new_attempt(assessment: Assessment, rng, started_at: datetime) -> dict:
    """A fresh attempt as the session keeps it: the question order, each question's choice
    order (the program file's `shuffle` shuffles the choices too), and the start time."""
    order = question_order(assessment.shuffle, rng)
    choices = {}
    for question in assessment.questions:
        positions = list(range(len(question.choices)))
        if assessment.shuffle:
            rng.shuffle(positions)
        choices[question.id] = positions
    return {"order": order, "choices": choices, "started_at": started_at.isoformat()}


def questions_shown(program: Program, attempt: dict) -> list[tuple[Question, list[str]]] | None:
    """(question, choices in the order shown) of an attempt; None when the questions changed."""
    shown = []
    try:
        for question_id in attempt["order"]:
            question = program.question(question_id)
            positions = attempt["choices"][question_id]
            if sorted(positions) != list(range(len(question.choices))):
                return None
            shown.append((question, [question.choices[n] for n in positions]))
    except (KeyError, TypeError):
        return None
    return shown


def wrong_questions(program: Program, attempt: AssessmentAttempt) -> list[Question]:
    """The questions of an attempt answered wrongly or not at all (those the program still has)."""
    known = {question.id: question for question in program.assessment.questions}
    asked = [known[qid] for qid in attempt.question_order if qid in known]
    return [q for q in asked if not q.is_correct(attempt.answers.get(q.id, ""))]


def assessment_form(shown: Sequence[tuple[Question, Sequence[str]]]) -> FlaskForm:
    """One radio group per question, `q_<id>`, with its choices in the order shown."""

    class AssessmentForm(FlaskForm):
        """The knowledge assessment of one attempt."""

    for question, choices in shown:
        field = RadioField(
            question.text,
            choices=options((choice, choice) for choice in choices),
            validators=[InputRequired("Choose an answer to this question.")],
        )
        setattr(AssessmentForm, f"q_{question.id}", field)
    return AssessmentForm()


def sign_form(attestations: Sequence[Attestation]) -> FlaskForm:
    """Each attestation as its own checkbox `attest_<id>`, the password, and the form's version."""

    class SignForm(FlaskForm):
        """Signing the Prescriber Enrollment Form."""

        version = HiddenField()
        password = PasswordField(
            "Your password, again, to sign",
            validators=[Length(max=256)],
            description="Entering your password is your electronic signature.",
        )

    for attestation in attestations:
        box = BooleanField(attestation.text, render_kw={"required": True})
        setattr(SignForm, f"attest_{attestation.id}", box)
    return SignForm()


def show_signing_errors(form: FlaskForm, errors: dict[str, list[str]]) -> set[str]:
    """Boxes and password errors on their fields, the rest for the whole form (an enrollment
    field named by its label); return the pages that fix them: "form", "assessment"."""
    fixes = set()
    for name, messages in errors.items():
        if name in FIELD_TEXT:
            fixes.add("form")
            form.form_errors.extend(f"{FIELD_TEXT[name][0]}: {message}" for message in messages)
            continue
        if name == "assessment":
            fixes.add("assessment")
        show_errors(form, {name: messages})
    return fixes


class DelegateForm(FlaskForm):
    """A delegate to add: an existing delegate account by username, or a new account."""

    username = StringField(
        "Username",
        validators=[DataRequired("Enter the delegate's username."), Length(max=80)],
        description="If the person already has a delegate account, their username is all we "
        "need. Otherwise choose one: 3 to 80 letters, digits, dots, dashes or underscores.",
    )
    full_name = StringField(
        "Full name",
        validators=[Length(max=200)],
        description="Only for a new account: as it will be printed on their signatures.",
    )
    email = EmailField("Email", validators=[Length(max=254)], description="Only for a new account.")
    password = PasswordField(
        "First password",
        validators=[Length(max=256)],
        description="Only for a new account: at least 12 characters. Give it to them securely; "
        "they can change it after signing in.",
    )

    def service_values(self) -> dict[str, str]:
        """The fields as `add_delegate` takes them."""
        names = ("username", "full_name", "email", "password")
        return {name: self[name].data or "" for name in names}
