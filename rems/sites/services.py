"""Healthcare-setting enrollment by its authorized representative, and the site's staff and
API tokens. Callers commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.auth import tokens, users
from rems.auth.models import ApiToken, Role, User
from rems.auth.signatures import sign
from rems.certification.forms_common import (
    check_attestations,
    check_editable,
    check_version,
    clean_fields,
    raise_errors,
)  # fmt: skip
from rems.certification.models import CertificationSubmission
from rems.certification.services import pending_submission, record_submission
from rems.common.clock import utcnow
from rems.common.errors import Collector, StateConflict, ValidationFailed
from rems.common.identifiers import ncpdp_is_valid, new_identifier, npi_is_valid
from rems.sites.models import Site

#: (field, maximum length, required)
SITE_FIELDS = (
    ("name", 200, True), ("npi", 10, True), ("ncpdp_id", 7, False),
    ("address_line1", 200, True), ("address_line2", 200, False), ("city", 100, True),
    ("state", 2, True), ("postal_code", 10, True), ("phone", 30, True),
    ("time_zone", 64, False),
)  # fmt: skip
SIGNATURE_MEANING = (
    "Authorized representative signs the Healthcare Setting Enrollment Form for the site and "
    "affirms its attestations"
)


def _program():
    return current_app.extensions["rems_program"]


def clean_site_form(session: Session, values: dict[str, Any], site_id: int | None) -> dict:
    """Every field checked: capabilities, NPI and NCPDP ID by their check digits, uniqueness."""
    cleaned, errors = clean_fields(values, SITE_FIELDS, complete=True)
    cleaned["dispenses"] = bool(values.get("dispenses"))
    cleaned["infuses"] = bool(values.get("infuses"))
    if not (cleaned["dispenses"] or cleaned["infuses"]):
        errors.add("capabilities", "Choose what the site does: dispense, infuse, or both.")
    _check_identifiers(session, cleaned, site_id, errors)
    raise_errors(errors)
    if not cleaned["dispenses"]:
        cleaned["ncpdp_id"] = None
    return cleaned


def _check_identifiers(session: Session, cleaned: dict, site_id: int | None, errors: Collector):
    """NPI always; NCPDP ID for a pharmacy; neither may belong to another site."""
    npi, ncpdp = cleaned.get("npi"), cleaned.get("ncpdp_id")
    if npi and not npi_is_valid(npi):
        errors.add("npi", "This is not a valid NPI: 10 digits with a correct check digit.")
    elif npi and _taken(session, Site.npi, npi, site_id):
        errors.add("npi", "Another healthcare setting is already enrolled with this NPI.")
    if cleaned["dispenses"] and not ncpdp:
        errors.add("ncpdp_id", "A pharmacy needs its NCPDP ID.")
    elif cleaned["dispenses"] and not ncpdp_is_valid(ncpdp):
        errors.add("ncpdp_id", "This is not a valid NCPDP ID: 7 digits with a correct check digit.")
    elif cleaned["dispenses"] and _taken(session, Site.ncpdp_id, ncpdp, site_id):
        errors.add("ncpdp_id", "Another pharmacy is already enrolled with this NCPDP ID.")


def _taken(session: Session, column, value: str, site_id: int | None) -> bool:
    """Whether another site already uses this identifier."""
    query = sa.select(Site.id).where(column == value)
    if site_id is not None:
        query = query.where(Site.id != site_id)
    return session.scalar(query) is not None


def register_site(session: Session, representative: User, values: dict[str, Any]) -> Site:
    """The representative registers their site; it starts as a draft."""
    if not representative.is_site_representative:
        raise StateConflict("Only a site's authorized representative registers the site.")
    if representative.site_id is not None:
        raise StateConflict("Your account already represents a site.")
    cleaned = clean_site_form(session, values, None)
    now = utcnow()
    site = Site(
        site_code=new_identifier("S"), representative_id=representative.id, created_at=now,
        updated_at=now, **cleaned,
    )  # fmt: skip
    session.add(site)
    session.flush()
    representative.site_id = site.id
    record_event(session, "site.registered", actor=representative, entity=site,
                 new={**cleaned, "site_code": site.site_code})  # fmt: skip
    return site


def update_site(
    session: Session, site: Site, actor: User, values: dict[str, Any], *, today: date,
    expected_version: str | None = None,
) -> Site:  # fmt: skip
    """Change the site's form while it may change (draft, expired, or renewal window)."""
    _require_representative(site, actor)
    check_version(site, expected_version)
    check_editable(
        site.status, site.expires_on, today, _program().certification.expiry_warning_days,
        pending=pending_submission(session, site) is not None,
    )  # fmt: skip
    cleaned = clean_site_form(session, values, site.id)
    old = {name: getattr(site, name) for name in cleaned}
    changed = {name: value for name, value in cleaned.items() if old[name] != value}
    for name, value in changed.items():
        setattr(site, name, value)
    site.updated_at = utcnow()
    if changed:
        record_event(session, "site.form_saved", actor=actor, entity=site,
                     old={n: old[n] for n in changed}, new=changed)  # fmt: skip
    return site


def submit_site_enrollment(
    session: Session, site: Site, signer: User, *, password: str, attested: Iterable[str],
    today: date, expected_version: str | None = None,
) -> CertificationSubmission:  # fmt: skip
    """The representative signs the attestations for the site's capabilities and submits."""
    _require_representative(site, signer)
    check_version(site, expected_version)
    program = _program()
    check_editable(site.status, site.expires_on, today, program.certification.expiry_warning_days)
    errors = Collector()
    required = program.site_attestations(site.dispenses, site.infuses)
    statements = check_attestations(required, attested, errors)
    raise_errors(errors)
    #: the time zone is a setting of the site, not a statement it signs
    fields = {name: getattr(site, name) for name, _, _ in SITE_FIELDS if name != "time_zone"}
    content = {
        "form": "Healthcare Setting Enrollment Form", "program": program.name,
        "site_id": site.site_code, "attestations": statements,
        "fields": fields | {"dispenses": site.dispenses, "infuses": site.infuses},
    }  # fmt: skip
    signature = sign(session, signer, password=password, meaning=SIGNATURE_MEANING, content=content)
    return record_submission(
        session, site, form=content, signature_id=signature.id, submitter=signer, today=today
    )


def _require_representative(site: Site, user: User) -> None:
    """Only the site's own authorized representative acts for the site."""
    if not (user.is_site_representative and user.site_id == site.id):
        raise StateConflict("Only the site's authorized representative can do this.")


def add_staff(
    session: Session, site: Site, actor: User, *, username: str, full_name: str, email: str,
    password: str,
) -> User:  # fmt: skip
    """Create an account for a member of the site's staff."""
    _require_representative(site, actor)
    return users.create_user(
        session, actor=actor, username=username, email=email, full_name=full_name,
        role=Role.SITE_STAFF, password=password, site_id=site.id,
    )  # fmt: skip


def staff_member(session: Session, site: Site, user_id: int) -> User | None:
    """A user of this site, or None (someone else's staff is not found)."""
    user = session.get(User, user_id)
    return user if user is not None and user.site_id == site.id else None


def set_staff_active(
    session: Session, site: Site, staff: User, active: bool, *, actor: User, reason: str
) -> None:
    """Deactivate or reactivate a staff member; their sessions and tokens stop at once."""
    _require_representative(site, actor)
    if staff.site_id != site.id:
        raise StateConflict("That person is not on this site's staff.")
    users.set_active(session, staff, active, actor=actor, reason=reason)


def issue_staff_token(
    session: Session, site: Site, actor: User, staff: User, name: str
) -> tuple[ApiToken, str]:
    """An API token for a staff member's system (the pharmacy or infusion software)."""
    _require_representative(site, actor)
    if staff.site_id != site.id:
        raise ValidationFailed.single("staff", "Choose a member of this site's staff.")
    return tokens.issue_token(session, owner=staff, name=name, actor=actor)


def site_tokens(session: Session, site: Site) -> list[ApiToken]:
    """Every token of the site's staff, newest first."""
    return list(
        session.scalars(
            sa.select(ApiToken)
            .join(User, User.id == ApiToken.user_id)
            .where(User.site_id == site.id)
            .order_by(ApiToken.id.desc())
        )
    )


def revoke_site_token(session: Session, site: Site, actor: User, token: ApiToken) -> None:
    """Revoke a token of the site's staff."""
    _require_representative(site, actor)
    if token.user.site_id != site.id:
        raise StateConflict("That token does not belong to this site.")
    tokens.revoke_token(session, token, actor=actor)
