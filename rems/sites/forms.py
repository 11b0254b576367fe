"""Forms of the authorized representative's pages: the Healthcare Setting Enrollment Form, its
signature, the site's staff accounts and their API tokens."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length

from rems.auth.forms import NewAccountForm
from rems.auth.models import User
from rems.common.forms import options, show_errors, state_options, time_zone_field
from rems.program.model import Attestation
from rems.sites.services import SITE_FIELDS

CAPABILITY_LABELS = {"dispenses": "Pharmacy (dispenses)", "infuses": "Infusion site (infuses)"}


def _text(label: str, limit: int, description: str) -> StringField:
    """A text field whose length the browser and the form both hold to the column's size."""
    return StringField(label, validators=[Length(max=limit)], description=description)


class SiteForm(FlaskForm):
    """The Healthcare Setting Enrollment Form. The enrollment service checks every field (so a
    single post reports every problem); the form only holds lengths and the CSRF token."""

    name = _text("Name of the healthcare setting", 200, "As on the site's licence.")
    dispenses = BooleanField(
        CAPABILITY_LABELS["dispenses"],
        description="Dispenses LEMTRADA, only to certified infusion sites. Needs an NCPDP ID.",
    )
    infuses = BooleanField(
        CAPABILITY_LABELS["infuses"],
        description="Infuses LEMTRADA, with equipment and staff trained to manage infusion "
        "reactions on site.",
    )
    npi = _text("NPI", 10, "The site's National Provider Identifier: 10 digits, the last is a "
                "check digit.")  # fmt: skip
    ncpdp_id = _text("NCPDP ID", 7, "7 digits, the last is a check digit. Pharmacies only: "
                     "leave it empty for an infusion-only site.")  # fmt: skip
    address_line1 = _text("Address", 200, "Street address of the site.")
    address_line2 = _text("Address line 2 (optional)", 200, "Suite, floor or building.")
    city = _text("City", 100, "")
    state = SelectField(
        "State",
        choices=state_options(),
        description="The state or territory of the site's address.",
    )
    postal_code = _text("ZIP code", 10, "5 digits, or ZIP+4 (02115-1234).")
    phone = TelField(
        "Phone", validators=[Length(max=30)], description="With area code, e.g. (617) 555-0142."
    )
    time_zone = time_zone_field(
        "Time zone (optional)",
        "The site's infusion dates are checked against today in this zone, and the times you "
        "type are read in it. Leave it empty for the program's time zone.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The form, with no capabilities error yet."""
        super().__init__(*args, **kwargs)
        #: The service's error for the capabilities fieldset (neither box ticked).
        self.capability_errors: list[str] = []

    def values(self) -> dict[str, Any]:
        """The posted form as the enrollment service takes it."""
        fields = {name: self[name].data for name, _, _ in SITE_FIELDS}
        return fields | {"dispenses": self.dispenses.data, "infuses": self.infuses.data}

    def show_errors(self, errors: dict[str, list[str]]) -> None:
        """The service's errors on their fields; the capabilities error on the fieldset too."""
        show_errors(self, errors)
        self.capability_errors = list(errors.get("capabilities", []))


class SiteEditForm(SiteForm):
    """The enrollment form of a registered site, with the version it was opened on."""

    #: The version of the site record the form was opened on (stale posts are refused).
    version = HiddenField()


class SignForm(FlaskForm):
    """The signature: one checkbox per attestation (added by `sign_form`), the password again."""

    password = PasswordField(
        "Your password",
        validators=[Length(max=256)],
        description="Your password again, to sign. It shows that you, and nobody at your desk, "
        "are signing.",
    )
    version = HiddenField()

    def attested(self, attestations: Iterable[Attestation]) -> list[str]:
        """The ids of the attestations whose box is ticked."""
        return [a.id for a in attestations if self[f"attest_{a.id}"].data]


def sign_form(attestations: Sequence[Attestation], **kwargs: Any) -> SignForm:
    """A signature form with a checkbox `attest_<id>` for each attestation, in program order."""
    fields = {f"attest_{a.id}": BooleanField(a.text) for a in attestations}
    form_class = type("SiteSignForm", (SignForm,), fields)
    return form_class(**kwargs)


class StaffForm(NewAccountForm):
    """A new account for a member of the site's staff, with a first password to hand over."""

    def values(self) -> dict[str, str]:
        """The new account's fields as the service takes them."""
        return {name: self[name].data for name in ("username", "full_name", "email", "password")}


class StaffChangeForm(FlaskForm):
    """Deactivating or reactivating a staff member needs a reason on record."""

    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Give the reason for this change."), Length(max=2000)],
        description="Recorded in the audit trail.",
    )


class SiteTokenForm(FlaskForm):
    """A new API token for one of the site's active staff, named after the system using it."""

    staff = SelectField(
        "For",
        validators=[DataRequired(message="Choose the staff member the token acts as.")],
        description="The token acts as this person, with their permissions.",
    )
    name = StringField(
        "Token name",
        validators=[DataRequired(), Length(max=100)],
        description="Name it after the system that will use it, e.g. 'Pharmacy system'.",
    )

    @classmethod
    def for_staff(cls, staff: Iterable[User], **kwargs: Any) -> SiteTokenForm:
        """The form offering these staff members."""
        form = cls(**kwargs)
        form.staff.choices = options(
            [("", "Choose a staff member")]
            + [(str(u.id), f"{u.full_name} ({u.username})") for u in staff]
        )
        return form
