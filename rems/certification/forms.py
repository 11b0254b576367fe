"""Forms of the administrators' certification pages: list filters, the decision on a submission,
and the reasoned status changes (suspend, reinstate, revoke)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from rems.certification.models import CertStatus
from rems.common.forms import options

REASON_MAX = 2000

#: Labels of the enrollment forms' fields as people read them (prescriber and site forms).
FIELD_LABELS = {
    "first_name": "First name", "last_name": "Last name", "credentials": "Credentials",
    "specialty": "Specialty", "name": "Name", "dispenses": "Dispenses (pharmacy)",
    "infuses": "Infuses (infusion site)", "npi": "NPI", "ncpdp_id": "NCPDP ID",
    "license_number": "State license number", "license_state": "License state",
    "practice_name": "Practice name", "address_line1": "Address", "address_line2": "Address line 2",
    "city": "City", "state": "State", "postal_code": "ZIP code", "phone": "Phone", "email": "Email",
}  # fmt: skip


class QueueFilterForm(FlaskForm):
    """Narrow the review queue (a GET form: bookmarkable, no CSRF needed)."""

    class Meta:
        csrf = False

    q = StringField("Name or NPI", description="Part of a prescriber's or site's name, or an NPI.")
    party = SelectField(
        "Party",
        choices=options([("", "Prescribers and sites"), ("prescriber", "Prescribers"),
                         ("site", "Healthcare settings")]),
    )  # fmt: skip
    state = SelectField(
        "Decision",
        choices=options([("", "All"), ("pending", "Waiting for a decision"),
                         ("certified", "Certified"), ("rejected", "Rejected")]),
    )  # fmt: skip


class PartyFilterForm(FlaskForm):
    """Search and filter a list of prescribers or healthcare settings (a GET form)."""

    class Meta:
        csrf = False

    q = StringField(
        "Search", description="Part of the name, or an NPI (sites: also NCPDP ID or site code)."
    )
    status = SelectField(
        "Stored status",
        choices=options([("", "All")] + [(s.value, s.value.capitalize()) for s in CertStatus]),
        description="As recorded; a certification past its end reads expired below even "
        "before the daily job records it.",
    )


class DecisionForm(FlaskForm):
    """Certify or reject a submission; the button pressed carries the decision."""

    reason = TextAreaField(
        "Reason",
        validators=[Optional(), Length(max=REASON_MAX)],
        description="Required to reject: tell the party what to correct. Optional to certify.",
    )
    decision = HiddenField(
        "Decision",
        validators=[AnyOf(["certify", "reject"], message="Press Certify or Reject.")],
    )

    @property
    def certifies(self) -> bool:
        """Whether the administrator pressed Certify."""
        return self.decision.data == "certify"


class ActionForm(FlaskForm):
    """A status change an administrator makes with a reason on record."""

    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Give the reason for this change."),
            Length(max=REASON_MAX),
        ],
        description="Recorded with your name in the status history and the audit trail.",
    )

    def __init__(self, action: str, *args, **kwargs):
        """Bind the form for one action; its field ids are unique on a page with several."""
        super().__init__(*args, **kwargs)
        self.action = action
        self.reason.id = self.reason.label.field_id = f"{action}-reason"
