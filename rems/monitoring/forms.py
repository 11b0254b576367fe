"""Forms of the monitoring pages: one result, a CSV upload and its confirmation, an amendment,
a waiver. The results service checks the values; these forms carry them and the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from rems.program import Program

DATE_HELP = "YYYY-MM-DD; not in the future."


def test_choices(program: Program) -> list[tuple[str, str]]:
    """Every test of the program file, the monitored ones first."""
    monitored = [(t.code, t.name) for t in program.monitored_tests()]
    others = [(t.code, t.name) for t in program.tests if t.monitoring is None]
    return [("", "Choose a test"), *monitored, *others]


class ResultForm(FlaskForm):
    """One result, typed in."""

    test = SelectField("Test", choices=[], validate_choice=False)
    collected_on = StringField("Collection date", description=DATE_HELP)
    value = StringField("Value (optional)", validators=[Length(max=200)])
    unit = StringField("Unit (optional)", validators=[Length(max=100)])
    abnormal = BooleanField("Abnormal")


def result_form(program: Program, **kwargs) -> ResultForm:
    """A result form with the program's tests to choose from."""
    form = ResultForm(**kwargs)
    form.test.choices = test_choices(program)
    return form


class AmendForm(ResultForm):
    """A result's corrected values, and why."""

    reason = TextAreaField(
        "Reason for the amendment",
        validators=[Length(max=2000)],
        description="Kept with the old values in the result's history.",
    )


def amend_form(program: Program, **kwargs) -> AmendForm:
    """An amendment form with the program's tests to choose from."""
    form = AmendForm(**kwargs)
    form.test.choices = test_choices(program)
    return form


class UploadForm(FlaskForm):
    """A CSV file of results."""

    file = FileField("CSV file", description="UTF-8 CSV with a header row; any column order.")


class ConfirmForm(FlaskForm):
    """The previewed file, sent back to be stored, with the preview's own id (the batch's id):
    a preview is confirmed once, however many times its form is sent."""

    content = HiddenField()
    patient = HiddenField()
    batch = HiddenField()


class WaiveForm(FlaskForm):
    """An administrator's signed waiver of one item."""

    item = SelectField("Item to waive", choices=[], validate_choice=False)
    reason = TextAreaField("Reason", validators=[Length(max=2000)])
    password = PasswordField(
        "Your password, again, to sign",
        validators=[Length(max=256)],
        description="Entering your password is your electronic signature of the waiver.",
    )
