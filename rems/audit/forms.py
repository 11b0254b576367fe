"""The audit trail's filter form (a GET form: bookmarkable, no CSRF needed)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from rems.api.fields import YEARS
from rems.audit.queries import EventFilter
from rems.common.forms import options

#: The filter's days are the program's (its time zone), as report periods are.
PROGRAM_DAY = "A day in the program's time zone"


def within_years(_form, field) -> None:
    """A day in the years records can have (a far one would overflow the day after it)."""
    if field.data is not None and field.data.year not in YEARS:
        raise ValidationError(f"Give a date between {YEARS.start} and {YEARS.stop - 1}.")


class EventFilterForm(FlaskForm):
    """Narrow the trail by action, record, actor and date."""

    class Meta:
        csrf = False

    action = StringField("Action starts with", description="e.g. user. or auth.sign_in")
    entity_type = SelectField("Record type", choices=options([("", "All")]), validate_choice=False)
    entity_id = StringField("Record id")
    actor = StringField("Actor (username)")
    date_from = DateField("From", validators=[Optional(), within_years], description=PROGRAM_DAY)
    date_to = DateField("To", validators=[Optional(), within_years], description=PROGRAM_DAY)

    def to_filter(self) -> EventFilter:
        """The filter the form describes; fields that did not parse are ignored."""
        return EventFilter(
            action=self.action.data or None,
            entity_type=self.entity_type.data or None,
            entity_id=self.entity_id.data or None,
            actor=self.actor.data or None,
            date_from=self.date_from.data if not self.date_from.errors else None,
            date_to=self.date_to.data if not self.date_to.errors else None,
        )
