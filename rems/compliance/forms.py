"""The non-compliance pages' forms: the case list's filters, the party's corrective action, the
administrator's review."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, TextAreaField
from wtforms.validators import Length

from rems.common.forms import options
from rems.patients.forms import LenientDateField

STATES = {
    "open": "Open (any state but closed)",
    "action_submitted": "Action submitted, awaiting review",
    "more_needed": "More needed",
    "closed": "Closed",
}


class CaseFilterForm(FlaskForm):
    """Filter the case list (a GET form)."""

    class Meta:
        csrf = False

    party = SelectField(
        "Party",
        choices=options([("", "All parties"), ("site", "Infusion sites"),
                         ("pharmacy", "Pharmacies"), ("prescriber", "Prescribers")]),
    )  # fmt: skip
    state = SelectField("State", choices=options([("", "All states"), *STATES.items()]))
    severity = SelectField(
        "Severity", choices=options([("", "All"), ("major", "Major"), ("minor", "Minor")])
    )
    age = SelectField(
        "Opened",
        choices=options([("", "Any time"), ("30", "More than 30 days ago"),
                         ("90", "More than 90 days ago")]),
    )  # fmt: skip


class ActionForm(FlaskForm):
    """The party's corrective action."""

    root_cause = TextAreaField(
        "Root cause", validators=[Length(max=4000)], description="Why the deviation happened."
    )
    action = TextAreaField(
        "Corrective action",
        validators=[Length(max=4000)],
        description="What will change so that it does not happen again.",
    )
    due_on = LenientDateField(
        "Due date", description="The day the action is done by (YYYY-MM-DD), not in the past."
    )


class CaseReviewForm(FlaskForm):
    """The administrator's review of the corrective action."""

    outcome = RadioField(
        "Outcome",
        choices=options([("accepted", "Accepted: close the case"), ("more_needed", "More needed")]),
        validate_choice=False,
    )
    note = TextAreaField(
        "Note", validators=[Length(max=4000)], description="Required when more is needed."
    )
