"""Forms of prior treatment: one prior course on the patient's page (one date per dose), and
the administrator's CSV upload and its confirmation."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import Length

from rems.patients.forms import LenientDateField
from rems.prior_treatment.rules import SOURCE_MAX
from rems.prior_treatment.services import PriorCourse

SIGN_HELP = (
    "Entering your password is your electronic signature: you record these doses as the source "
    "document shows them."
)


def prior_course_form(doses_allowed: int) -> FlaskForm:
    """One date per dose of the course (`dose_1`…), the source document, the password."""

    fields = {}  # made in page order (doses, source, password): the error summary follows it
    for number in range(1, doses_allowed + 1):
        help_text = "The day the dose was given (YYYY-MM-DD)."
        if number > 1:
            help_text += " Leave empty if it was not given."
        fields[f"dose_{number}"] = LenientDateField(f"Dose {number}", description=help_text)
    fields["source_document"] = StringField(
        "Source document",
        validators=[Length(max=SOURCE_MAX + 50)],
        description="The chart, infusion record or letter the dates come from, e.g. "
        "“Infusion record, Lakeside Neurology, March 2024”.",
    )
    fields["password"] = PasswordField(
        "Your password, again, to sign", validators=[Length(max=256)], description=SIGN_HELP
    )
    PriorCourseForm = type(
        "PriorCourseForm", (FlaskForm,), {"__doc__": "A course given before this system.", **fields}
    )
    return PriorCourseForm()


def prior_course_of(form: FlaskForm, doses_allowed: int) -> PriorCourse:
    """The dates entered, each under its field, and the source document."""
    doses = {
        f"dose_{n}": form[f"dose_{n}"].data
        for n in range(1, doses_allowed + 1)
        if form[f"dose_{n}"].data is not None
    }
    return PriorCourse(doses=doses, source_document=form.source_document.data or "")


class UploadForm(FlaskForm):
    """The CSV file of prior doses."""

    file = FileField(
        "CSV file",
        description="One row per dose: patient_id, date_of_birth, course, given_on, "
        "source_document, in any column order. UTF-8, at most 1 MB.",
    )


class ConfirmForm(FlaskForm):
    """Store the previewed file: the same bytes, and the administrator's signature."""

    payload = HiddenField()
    elsewhere_reason = TextAreaField(
        "Why monitoring was done elsewhere",
        validators=[Length(max=2000)],
        description="One reason for every patient with a monitoring_elsewhere_until date: their "
        "monitoring items due up to that date are waived with it, signed once with this import "
        "(e.g. the treating centre's records, transferred to this program).",
    )
    password = PasswordField(
        "Your password, again, to sign", validators=[Length(max=256)], description=SIGN_HELP
    )
