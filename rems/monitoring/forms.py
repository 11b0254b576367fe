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

from rems.common.forms import options
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


FINDING_CHOICES = (("", "Not recorded"), ("normal", "Normal"), ("abnormal", "Abnormal"))


def result_form(program: Program, **kwargs) -> ResultForm:
    """A result form with the program's tests to choose from, a number and a unit for every
    analyte (`<analyte>_value`, `<analyte>_unit`) and the finding of a finding test."""

    class CodedResultForm(ResultForm):
        finding = SelectField(
            "Finding (skin exam)", choices=options(FINDING_CHOICES), validate_choice=False
        )
        finding_description = TextAreaField(
            "Description of the abnormal finding", validators=[Length(max=2000)]
        )

    for analyte in program.coded.analytes:
        low, high = analyte.reference
        box = StringField(
            analyte.name, validators=[Length(max=40)],
            description=f"LOINC {analyte.loinc}; reference {low:g}–{high:g} {analyte.unit}.",
        )  # fmt: skip
        units = SelectField(
            f"{analyte.name}: unit",
            choices=options((u, u) for u in analyte.units),
            validate_choice=False,
        )
        setattr(CodedResultForm, f"{analyte.code}_value", box)
        setattr(CodedResultForm, f"{analyte.code}_unit", units)
    form = CodedResultForm(**kwargs)
    form.test.choices = test_choices(program)
    return form


def analyte_groups(program: Program, form) -> list[tuple[str, list[tuple]]]:
    """(test name, [(value box, unit box)]) for every test with analytes, in file order."""
    groups = []
    for test in program.tests:
        boxes = [
            (form[f"{a.code}_value"], form[f"{a.code}_unit"])
            for a in program.coded.of_test(test.code)
        ]
        if boxes:
            groups.append((test.name, boxes))
    return groups


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


def coded_fields(form, program: Program) -> tuple[dict, tuple[str, ...]]:
    """The coded values typed in (analytes with a number) and the finding, as the results
    service takes them, and how its messages name each value's box (`<analyte>_<field>`)."""
    typed = [a for a in program.coded.analytes if (form[f"{a.code}_value"].data or "").strip()]
    values = [
        {
            "loinc": a.loinc,
            "value": form[f"{a.code}_value"].data,
            "unit": form[f"{a.code}_unit"].data,
        }
        for a in typed
    ]
    fields = {
        "values": values,
        "finding": form.finding.data,
        "finding_description": form.finding_description.data,
    }
    return fields, tuple(f"{a.code}_{{}}" for a in typed)


def box_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """A service's messages by form box (an analyte of another test: on its number's box)."""
    named = {}
    for key, messages in errors.items():
        key = key.removeprefix("result.")
        named[key.removesuffix("_loinc") + "_value" if key.endswith("_loinc") else key] = messages
    return named
