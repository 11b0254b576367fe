"""The infusion record form: the date, the pre-infusion checks, the times (read in the site's
time zone), the reaction; the help text comes from the program file."""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length

from rems.common.forms import options
from rems.common.localtime import from_local
from rems.patients.forms import LenientDateField
from rems.program.model import Program

#: Reaction grades as people say them.
REACTION_LABELS = {
    "none": "None",
    "mild": "Mild",
    "moderate": "Moderate",
    "serious": "Serious (an adverse event is recorded for the patient)",
}
LOCAL_HELP = "Enter the time at the site: the date and time you type are read in {zone}."
CHECKS = (
    "identity_verified",
    "no_active_infection",
    "corticosteroid_premedication",
    "antiviral_prophylaxis",
)
TIMES = ("infusion_started_at", "infusion_ended_at", "observation_ended_at")


def _time(label: str, help_text: str) -> DateTimeLocalField:
    """A date-time input, required."""
    return DateTimeLocalField(
        label,
        validators=[DataRequired(f"Enter the {label.lower()} (date and time at the site).")],
        description=help_text,
    )


def infusion_form(program: Program, zone_name: str) -> FlaskForm:
    """The infusion record, its help text taken from the program's dosing rules; typed times
    are read in the site's zone `zone_name`."""
    dosing = program.dosing
    local_help = LOCAL_HELP.format(zone=zone_name)

    class InfusionForm(FlaskForm):
        """One dose given under the authorization."""

        administered_on = LenientDateField(
            "Date of the infusion",
            validators=[DataRequired("Enter the date of the infusion (YYYY-MM-DD).")],
            description="Within the authorization's validity, after the course's previous "
            "dose (one infusion a day), and not after today at the site.",
        )
        identity_verified = BooleanField(
            "The patient's identity was verified", description="Required before every infusion."
        )
        no_active_infection = BooleanField(
            "No signs of an active infection", description="Required before every infusion."
        )
        corticosteroid_premedication = BooleanField(
            "Corticosteroid premedication given immediately before the infusion",
            description=f"Required for doses 1–{dosing.premedication_doses} of each course.",
        )
        antiviral_prophylaxis = BooleanField(
            "Antiviral (herpes) prophylaxis taken",
            description=f"Required on dose {dosing.antiviral_from_dose}: prophylaxis starts on "
            "the first day of the course.",
        )
        infusion_started_at = _time("Infusion start", local_help)
        infusion_ended_at = _time("Infusion end", local_help)
        observation_ended_at = _time(
            "Observation end",
            f"At least {dosing.observation_minutes} minutes after the infusion ends "
            f"(program file). {local_help}",
        )
        reaction = SelectField(
            "Infusion reaction",
            choices=options(
                [("", "Choose the reaction")]
                + [(g, REACTION_LABELS.get(g, g)) for g in program.adverse_events.reaction_grades]
            ),
            description="The worst reaction during the infusion and the observation.",
        )
        notes = TextAreaField(
            "Notes (optional)",
            validators=[Length(max=4000)],
            description="Anything the prescriber should know; for a serious reaction, what "
            "happened and what was done.",
        )
        deviations_acknowledged = BooleanField(
            "I am recording what happened",
            description="The dose is stored with the protocol deviations listed above flagged; "
            "each opens or joins a non-compliance case.",
        )
        deviation_reason = TextAreaField(
            "Reason for the deviations (optional)", validators=[Length(max=2000)]
        )

    return InfusionForm()


def infusion_record(form: FlaskForm, zone: tzinfo) -> dict[str, Any]:
    """The form as `record_infusion` takes it; the typed times are read in the site's `zone`."""
    record: dict[str, Any] = {name: bool(form[name].data) for name in CHECKS}
    record |= {name: from_local(form[name].data, zone) for name in TIMES}
    return record | {
        "administered_on": form.administered_on.data,
        "reaction": form.reaction.data or "",
        "notes": (form.notes.data or "").strip(),
        "deviations_acknowledged": bool(form.deviations_acknowledged.data),
        "deviation_reason": (form.deviation_reason.data or "").strip(),
    }


#: Not-infused reasons as people say them.
NOT_INFUSED_LABELS = {
    "active_infection": "Signs of an active infection",
    "patient_declined": "The patient declined",
    "reaction_before_start": "A reaction before the infusion started",
    "other": "Other (say what in the notes)",
}


def not_infused_form(program: Program) -> FlaskForm:
    """The visit that ended without an infusion: its day, the reason, notes."""

    class NotInfusedForm(FlaskForm):
        """A visit on record with no dose."""

        visit_on = LenientDateField(
            "Date of the visit",
            validators=[DataRequired("Enter the date of the visit (YYYY-MM-DD).")],
            description="Not after today at the site.",
        )
        reason = SelectField(
            "Why the patient was not infused",
            choices=options(
                [("", "Choose the reason")]
                + [
                    (r, NOT_INFUSED_LABELS.get(r, r))
                    for r in program.deviations.not_infused_reasons
                ]
            ),
        )
        notes = TextAreaField("Notes", validators=[Length(max=4000)])

    return NotInfusedForm()
