"""Forms of the patient pages: the list's filters, the Patient Enrollment Form, the patient's
and the prescriber's signatures, acknowledgments, and discontinue / close / transfer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length

from rems.common.forms import options, state_options
from rems.patients.models import PatientStatus
from rems.patients.services import CONTACT_FIELDS
from rems.program.model import Attestation

#: How a patient may have received the documents, as people say it.
METHOD_LABELS = {
    "in_person": "In person: the witness handed the documents over and went through them",
    "paper_form": "Paper form: the patient received the printed documents and signed on paper",
}

#: Contact field → (label, help text) of the Patient Enrollment Form.
FIELD_TEXT = {
    "first_name": ("First name", "The patient's legal first name, as on their ID."),
    "last_name": ("Last name", "The patient's legal last name, as on their ID."),
    "phone": ("Phone (optional)", "With area code, e.g. (617) 555-0142."),
    "email": ("Email (optional)", "Where the program may write to the patient."),
    "address_line1": ("Address (optional)", "Street and number of the patient's home."),
    "address_line2": ("Address line 2 (optional)", "Apartment, suite or building, if any."),
    "city": ("City (optional)", "The city of the patient's home."),
    "state": ("State (optional)", "The state or territory of the patient's home."),
    "postal_code": ("ZIP code (optional)", "5 digits, or ZIP+4 (02115-1234)."),
}


class LenientDateField(DateField):
    """A date input whose unreadable value becomes empty, so the service names the problem
    together with every other field's."""

    def process_formdata(self, valuelist):
        """Parse YYYY-MM-DD; anything else is no date."""
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None


def _contact_field(name: str, limit: int):
    """One contact field: a state select, an email, a phone, or a text box."""
    label, help_text = FIELD_TEXT[name]
    if name == "state":
        return SelectField(label, choices=state_options(), description=help_text)
    kind = {"email": EmailField, "phone": TelField}.get(name, StringField)
    return kind(label, validators=[Length(max=limit)], description=help_text)


class PatientFilterForm(FlaskForm):
    """Search and filter the patient list (a GET form)."""

    class Meta:
        """A GET form: nothing to protect against forgery."""

        csrf = False

    q = StringField("Name or REMS ID", description="Part of a name, or a whole REMS patient ID.")
    status = SelectField(
        "Status",
        choices=options([("", "All"), *((s.value, s.value.capitalize()) for s in PatientStatus)]),
    )

    def status_value(self) -> str | None:
        """The chosen status, only when it is one of the statuses."""
        value = self.status.data
        return value if value in {s.value for s in PatientStatus} else None


class EnrollPatientForm(FlaskForm):
    """The Patient Enrollment Form, prepared by the prescriber or one of their delegates."""

    prescriber = SelectField(
        "Prescriber of record",
        description="The prescriber you prepare this form for. Only they can sign it.",
    )
    date_of_birth = LenientDateField(
        "Date of birth",
        description="The patient's date of birth. It cannot be in the future.",
    )
    sex = SelectField("Sex", description="As the patient states it.")
    can_become_pregnant = BooleanField(
        "The patient is able to become pregnant",
        description="Decides whether the patient also affirms the contraception statement: "
        "effective birth control during each treatment course and for 4 months after it.",
    )
    planned_site_id = SelectField(
        "Planned infusion site (optional)",
        description="A certified infusion site where the patient plans to be infused. It can "
        "be left empty and decided later.",
    )
    confirm_not_duplicate = BooleanField(
        "This is a different person; flag it for the program to review",
        description="Tick only after checking the records listed above. The new record is "
        "kept separate and flagged; nothing is merged.",
    )


for _name, _limit, _ in CONTACT_FIELDS:
    setattr(EnrollPatientForm, _name, _contact_field(_name, _limit))


def enrollment_form(program, prescribers: Sequence, sites: Sequence) -> EnrollPatientForm:
    """The enrollment form with its choices: the prescribers the user may enroll for, the
    program's sexes, and the infusion sites certified today."""
    form = EnrollPatientForm()
    form.prescriber.choices = options((str(p.id), f"{p.name} (NPI {p.npi})") for p in prescribers)
    form.sex.choices = options(
        [("", "Choose"), *((sex, sex.capitalize()) for sex in program.patient.sexes)]
    )
    form.planned_site_id.choices = options(
        [("", "Not decided yet"), *((s.site_code, f"{s.name} ({s.site_code})") for s in sites)]
    )
    return form


def enrollment_values(form: EnrollPatientForm) -> dict[str, Any]:
    """The form's fields as `prepare_enrollment` takes them (the indication is the program's)."""
    values = {name: form[name].data for name, _, _ in CONTACT_FIELDS}
    return values | {
        "date_of_birth": form.date_of_birth.data,
        "sex": form.sex.data,
        "can_become_pregnant": form.can_become_pregnant.data,
        "planned_site_id": form.planned_site_id.data or None,
    }


def _method_field(methods: Sequence[str], label: str) -> RadioField:
    """How the patient received the documents; the service checks the choice."""
    return RadioField(
        label,
        choices=options((m, METHOD_LABELS.get(m, m.replace("_", " "))) for m in methods),
        validate_choice=False,
    )


def patient_signature_form(attestations: Sequence[Attestation], methods: Sequence[str]):
    """Each patient attestation as a checkbox `attest_<id>`, how the documents were received,
    and the patient's typed name."""

    class PatientSignatureForm(FlaskForm):
        """The patient's in-clinic signature of the Patient Enrollment Form."""

        method = _method_field(methods, "How the patient received the documents")
        typed_name = StringField(
            "The patient types their full legal name",
            validators=[Length(max=200)],
            description="Typed by the patient themself, first name then last name, as on the "
            "form. This typed name is the patient's signature.",
        )

    for attestation in attestations:
        setattr(PatientSignatureForm, f"attest_{attestation.id}", BooleanField(attestation.text))
    return PatientSignatureForm()


class SignEnrollmentForm(FlaskForm):
    """The prescriber's co-signature: the password entered again."""

    password = PasswordField(
        "Your password, again, to sign",
        validators=[Length(max=256)],
        description="Entering your password is your electronic signature.",
    )


def acknowledgment_form(methods: Sequence[str]):
    """The acknowledgment of one document version, witnessed by the signed-in user."""

    class AcknowledgmentForm(FlaskForm):
        """One document version acknowledged by the patient."""

        version_id = HiddenField()
        method = _method_field(methods, "How the patient received it")

    return AcknowledgmentForm()


def confirm_box(action: str, name: str) -> BooleanField:
    """The confirmation a destructive change needs: a box ticked on purpose, checked here."""
    return BooleanField(
        f"Yes, {action}",
        id=f"{name}-confirm",
        validators=[InputRequired(f"Tick “Yes, {action}” to confirm.")],
        description="This takes effect at once and cannot be undone from this page.",
    )


class DiscontinueForm(FlaskForm):
    """Stop treatment, with the reason."""

    reason = TextAreaField(
        "Reason for discontinuing",
        id="discontinue-reason",
        validators=[Length(max=2000)],
        description="Kept in the status history. Monitoring continues after discontinuation.",
    )
    confirm = confirm_box("discontinue treatment for this patient", "discontinue")


class CloseForm(FlaskForm):
    """Close the record: why, from when, and a note."""

    close_reason = SelectField("Reason for closing")
    closed_on = LenientDateField(
        "Closed on", description="The date of the death, withdrawal or loss; not in the future."
    )
    note = TextAreaField(
        "Note (optional)", validators=[Length(max=2000)], description="Anything the program "
        "should know, e.g. how the loss to follow-up was established."
    )  # fmt: skip
    confirm = confirm_box("close this patient's record for good", "close")


def close_form(reasons: Sequence[str], **kwargs) -> CloseForm:
    """The close form with the program's close reasons (`formdata=None` for a blank one)."""
    form = CloseForm(**kwargs)
    form.close_reason.choices = options(
        [("", "Choose a reason"), *((r, r.replace("_", " ").capitalize()) for r in reasons)]
    )
    return form


class TransferForm(FlaskForm):
    """Hand the patient to another certified prescriber, found by NPI."""

    npi = StringField(
        "New prescriber's NPI",
        validators=[Length(max=10)],
        description="10 digits. The new prescriber must be certified today.",
    )
    reason = TextAreaField(
        "Reason for the transfer", validators=[Length(max=2000)], id="transfer-reason",
        description="Kept in the record's history.",
    )  # fmt: skip
    confirm = confirm_box("transfer this patient to that prescriber", "transfer")
