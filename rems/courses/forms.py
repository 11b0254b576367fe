"""Forms of the course pages: the Patient Authorization and Baseline Lab Form (and a delegate's
draft of it), closing a course early, discarding a draft."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from rems.common.forms import options
from rems.courses.baseline_values import finding_box, typed_results, value_box
from rems.courses.rules import BaselineNeed
from rems.patients.forms import LenientDateField
from rems.program.model import FIRST_COURSE, Attestation


def baseline_label(need: BaselineNeed) -> str:
    """A baseline test's name, marked when only course 1 needs it."""
    return f"{need.name} (course 1 only)" if need.rule.courses == FIRST_COURSE else need.name


def baseline_help(need: BaselineNeed) -> str:
    """The age limit of a baseline test, from the program file, as people say it."""
    if need.rule.max_age_months is not None:
        limit = f"within the prior {need.rule.max_age_months} months"
    else:
        limit = f"within {need.rule.max_age_days} days before the first infusion"
    only = " Needed before course 1 only." if need.rule.courses == FIRST_COURSE else ""
    return f"The date the test was done: {limit}, and not after the planned first infusion.{only}"


def authorization_form(
    needs: Sequence[BaselineNeed], attestations: Sequence[Attestation]
) -> FlaskForm:
    """The planned start, one date per baseline test (`baseline_<code>`), each course
    attestation as its own checkbox (`attest_<id>`), and the password to sign."""

    class CourseAuthorizationForm(FlaskForm):
        """The Patient Authorization and Baseline Lab Form of one course."""

        planned_start = LenientDateField(
            "Planned first infusion date",
            validators=[DataRequired("Enter the planned first infusion date (YYYY-MM-DD).")],
            description="The day of dose 1. Every baseline test is counted back from it.",
        )
        #: The draft (id:version) the form was pre-filled from, to catch a stale page.
        draft = HiddenField()
        password = PasswordField(
            "Your password, again, to sign",
            validators=[Length(max=256)],
            description="Entering your password is your electronic signature. It is checked "
            "once every other item of the form is in order.",
        )

    for need in needs:
        box = LenientDateField(baseline_label(need), description=baseline_help(need))
        setattr(CourseAuthorizationForm, f"baseline_{need.code}", box)
        _add_value_boxes(CourseAuthorizationForm, need.code)
    for attestation in attestations:
        box = BooleanField(attestation.text, render_kw={"required": True})
        setattr(CourseAuthorizationForm, f"attest_{attestation.id}", box)
    return CourseAuthorizationForm()


def _add_value_boxes(form_class, test_code: str) -> None:
    """A number and a unit per analyte of the test; a finding for a finding test (optional)."""
    coded = current_app.extensions["rems_program"].coded
    for analyte in coded.of_test(test_code):
        low, high = analyte.reference
        number = StringField(
            f"{analyte.name} (optional)", validators=[Length(max=40)],
            description=f"LOINC {analyte.loinc}; reference {low:g}–{high:g} {analyte.unit}.",
        )  # fmt: skip
        unit = SelectField(
            f"{analyte.name}: unit", choices=options((u, u) for u in analyte.units),
            validate_choice=False,
        )  # fmt: skip
        setattr(form_class, value_box(analyte.code, "value"), number)
        setattr(form_class, value_box(analyte.code, "unit"), unit)
    if test_code in coded.finding_tests:
        choices = options((("", "Not recorded"), ("normal", "Normal"), ("abnormal", "Abnormal")))
        finding = SelectField("Finding (optional)", choices=choices, validate_choice=False)
        described = TextAreaField("Description of the abnormal finding", [Length(max=2000)])
        setattr(form_class, finding_box(test_code), finding)
        setattr(form_class, finding_box(test_code, "finding_description"), described)


def value_boxes(form: FlaskForm, test_code: str) -> list:
    """The form's value boxes of one baseline test, in order (for the page)."""
    coded = current_app.extensions["rems_program"].coded
    names = [
        value_box(a.code, part) for a in coded.of_test(test_code) for part in ("value", "unit")
    ]
    if test_code in coded.finding_tests:
        names += [finding_box(test_code), finding_box(test_code, "finding_description")]
    return [form[name] for name in names if name in form]


def draft_form(needs: Sequence[BaselineNeed]) -> FlaskForm:
    """What a delegate prepares: the planned start and one date per baseline test; no
    attestation and no signature, which are the prescriber's."""

    class CourseDraftForm(FlaskForm):
        """The delegate's draft of the Patient Authorization and Baseline Lab Form."""

        draft = HiddenField()
        planned_start = LenientDateField(
            "Planned first infusion date",
            validators=[DataRequired("Enter the planned first infusion date (YYYY-MM-DD).")],
            description="The day of dose 1. Every baseline test is counted back from it.",
        )

    for need in needs:
        box = LenientDateField(baseline_label(need), description=baseline_help(need))
        setattr(CourseDraftForm, f"baseline_{need.code}", box)
    return CourseDraftForm()


def fill_from_draft(form: FlaskForm, needs: Sequence[BaselineNeed], draft, dates) -> None:
    """Pre-fill a form with the draft's planned start and baseline dates."""
    form.planned_start.data = draft.planned_start
    for need in needs:
        form[f"baseline_{need.code}"].data = dates.get(need.code)


def baseline_values(form: FlaskForm, needs: Sequence[BaselineNeed]) -> dict[str, Any]:
    """The baseline dates entered (a test left empty is left out)."""
    dates = {need.code: form[f"baseline_{need.code}"].data for need in needs}
    return {code: day for code, day in dates.items() if day is not None}


def course_values(
    form: FlaskForm, needs: Sequence[BaselineNeed], attestations: Sequence[Attestation]
) -> dict[str, Any]:
    """The form as `authorize_course` takes it (a test left empty is missing)."""
    return {
        "planned_start": form.planned_start.data,
        "baseline": baseline_values(form, needs),
        "attested": [a.id for a in attestations if form[f"attest_{a.id}"].data],
        "password": form.password.data or "",
        "results": typed_results(form, [need.code for need in needs]),
    }


class CloseCourseForm(FlaskForm):
    """Stop the open course early, with the reason; `course` catches a stale page."""

    course = HiddenField()
    reason = TextAreaField(
        "Reason for closing the course",
        validators=[Length(max=2000)],
        description="Kept in the course's history. The doses already given still count for "
        "monitoring; live authorizations of the course end and their unused doses return.",
    )


class DiscardDraftForm(FlaskForm):
    """Discard the patient's open draft, with the reason; `draft` catches a stale page."""

    draft = HiddenField()
    reason = TextAreaField(
        "Reason for discarding the draft",
        validators=[Length(max=2000)],
        description="Kept with the draft in the audit trail.",
    )
