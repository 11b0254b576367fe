"""Forms of the follow-up pages: extending monitoring, the periodic patient status. The services
check the values and name the fields; these carry them and the CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, TextAreaField
from wtforms.validators import Length

from rems.common.forms import options
from rems.patients.forms import LenientDateField

YES_NO = options([("", "Choose"), ("yes", "Yes"), ("no", "No")])
PREGNANCY_LABELS = {
    "not_applicable": "Not applicable (cannot become pregnant)",
    "not_pregnant": "Not pregnant",
    "pregnant": "Pregnant",
    "unknown": "Unknown",
}


class ExtendForm(FlaskForm):
    """The prescriber's extension of a patient's monitoring."""

    ends_on = LenientDateField("New last day of monitoring", description="YYYY-MM-DD; later "
                               "than the present end.")  # fmt: skip
    reason = TextAreaField("Clinical reason", validators=[Length(max=2000)])


class StatusForm(FlaskForm):
    """The periodic patient status: prepared by a delegate, signed by the prescriber."""

    period = SelectField("Period", choices=[], validate_choice=False)
    results_reviewed = SelectField(
        "Monitoring results reviewed", choices=YES_NO, validate_choice=False
    )
    new_autoimmune_event = SelectField("New autoimmune event since the last status",
                                       choices=YES_NO, validate_choice=False)  # fmt: skip
    new_malignancy = SelectField(
        "New malignancy since the last status", choices=YES_NO, validate_choice=False
    )
    pregnancy_status = SelectField(
        "Pregnancy status",
        choices=options([("", "Choose"), *PREGNANCY_LABELS.items()]),
        validate_choice=False,
    )
    still_under_care = SelectField("Still under my care", choices=YES_NO, validate_choice=False)
    note = TextAreaField("Note (optional)", validators=[Length(max=2000)])
    password = PasswordField(
        "Your password, again, to sign",
        validators=[Length(max=256)],
        description="Prescribers only: entering your password is your electronic signature. "
        "A delegate's status waits for the prescriber's signature.",
    )


def answers(form: StatusForm) -> dict:
    """The status form's answers as the service takes them (None where not answered)."""
    found = {
        name: {"yes": True, "no": False}.get(getattr(form, name).data or "")
        for name in ("results_reviewed", "new_autoimmune_event", "new_malignancy",
                     "still_under_care")
    }  # fmt: skip
    return found | {"pregnancy_status": form.pregnancy_status.data, "note": form.note.data}
