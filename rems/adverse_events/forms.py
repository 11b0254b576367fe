"""The adverse-event report form (categories from the program file) and the review form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length

from rems.adverse_events.rules import (
    CRITERIA,
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
    aware_on = LenientDateField(
        "Awareness date",
        description="The day you (the practice or site) first learned of the event "
        "(YYYY-MM-DD): not before the onset, not in the future. A serious event's reporting "
        "clock to the safety team starts here.",
    )
    serious = SelectField(
        "Seriousness", choices=options(SERIOUSNESS), validate_choice=False, description=SERIOUS_HELP
    )
    criteria = SelectMultipleField(
        "Seriousness criteria",
        choices=options(list(CRITERIA.items())),
        validate_choice=False,
        description="Every criterion a serious event meets (ICH); none for a non-serious one. "
        "Hold Ctrl (or Cmd) to choose more than one.",
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
        aware_on=form.aware_on.data,
        criteria=tuple(c for c in form.criteria.data or () if c),
    )


class ReviewForm(FlaskForm):
    """An administrator's review of a serious event."""

    note = TextAreaField(
        "Review note",
        validators=[Length(max=NOTE_MAX)],
        description="What the program found or did (follow-up asked, reported onward…). Kept "
        "with the event and in the audit trail.",
    )


class FollowUpForm(FlaskForm):
    """New information on an event: dated, with a note; the outcome when it changed."""

    received_on = LenientDateField(
        "Received on", description="The day the information arrived (YYYY-MM-DD)."
    )
    details = TextAreaField(
        "What was learned",
        validators=[Length(max=DESCRIPTION_MAX)],
        description="New tests, treatment, the course of the event, who told you.",
    )
    outcome = SelectField(
        "Outcome now",
        choices=options([("", "Unchanged"), *OUTCOMES.items()]),
        validate_choice=False,
        description="Leave unchanged unless this information changes the outcome.",
    )


class SubmittedForm(FlaskForm):
    """An administrator records the day a serious event was sent to the safety team."""

    submitted_on = LenientDateField(
        "Sent on", description="The day the event went to the sponsor's safety team (YYYY-MM-DD)."
    )
