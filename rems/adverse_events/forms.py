"""The adverse-event report form (categories from the program file) and the review form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from rems.adverse_events.rules import (
    DESCRIPTION_MAX,
    INFUSION_REACTION,
    NOTE_MAX,
    OUTCOMES,
    REPORTER_MAX,
    Report,
)
from rems.common.forms import options
from rems.patients.forms import LenientDateField
from rems.program.model import Program

SERIOUS_HELP = (
    "Serious: it led to death, was life-threatening, needed or prolonged a hospital stay, caused "
    "lasting disability, or is otherwise medically important. A serious event goes to the "
    "program for review."
)
SERIOUSNESS = (("", "Choose"), ("yes", "Serious"), ("no", "Not serious"))


class AdverseEventForm(FlaskForm):
    """One adverse event of the patient; the categories come from the program file."""

    category = SelectField("Category", validate_choice=False,
                           description="The program's adverse-event categories.")  # fmt: skip
    onset_on = LenientDateField(
        "Onset date", description="The day the event began (YYYY-MM-DD); not in the future."
    )
    serious = SelectField(
        "Seriousness", choices=options(SERIOUSNESS), validate_choice=False, description=SERIOUS_HELP
    )
    outcome = SelectField(
        "Outcome",
        choices=options([("", "Choose the outcome"), *OUTCOMES.items()]),
        validate_choice=False,
        description="As known today. Choose Unknown when it is not known yet.",
    )
    reporter = StringField(
        "Reported by",
        validators=[Length(max=REPORTER_MAX)],
        description="Name and role of who reported the event: the patient, a nurse, "
        "another physician…",
    )
    description = TextAreaField(
        "What happened",
        validators=[Length(max=DESCRIPTION_MAX)],
        description="Symptoms, tests, treatment given. Optional.",
    )


def event_form(program: Program, *, reaction_only: bool = False) -> AdverseEventForm:
    """The report form; an infusion site's form offers the infusion-reaction category only."""
    categories = [
        (c.code, c.label)
        for c in program.adverse_events.categories
        if not reaction_only or c.code == INFUSION_REACTION
    ]
    form = AdverseEventForm()
    form.category.choices = options([("", "Choose a category"), *categories])
    return form


def report_of(form: FlaskForm) -> Report:
    """The form as the service takes it."""
    seriousness = {"yes": True, "no": False}.get(form.serious.data or "")
    return Report(
        category=form.category.data or None,
        onset_on=form.onset_on.data,
        serious=seriousness,
        outcome=form.outcome.data or None,
        reporter=form.reporter.data or "",
        description=form.description.data or "",
    )


class ReviewForm(FlaskForm):
    """An administrator's review of a serious event."""

    note = TextAreaField(
        "Review note",
        validators=[Length(max=NOTE_MAX)],
        description="What the program found or did (follow-up asked, reported onward…). Kept "
        "with the event and in the audit trail.",
    )
