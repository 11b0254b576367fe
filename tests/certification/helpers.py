"""Builders of certification parties through the real services: prescribers and healthcare
settings enrolled, signed and submitted, ready for an administrator's decision."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from flask.testing import FlaskClient

from rems.audit.models import StatusChange
from rems.auth.models import Role, User
from rems.certification.models import CertificationSubmission
from rems.certification.services import decide_submission, pending_submission
from rems.common.clock import today, utcnow
from rems.common.identifiers import ncpdp_check_digit, npi_check_digit
from rems.common.transactions import writing
from rems.extensions import db
from rems.prescribers import services as prescribers
from rems.prescribers.models import Prescriber
from rems.sites import services as sites
from rems.sites.models import Site
from tests.factories import PASSWORD, Factory, UserRef, csrf_token

BASE = "/admin/certification"
FIRST_NPI = "1234567893"
_npis = itertools.count(123456789)
_ncpdps = itertools.count(100001)


@dataclass(frozen=True)
class PartyRef:
    """What a test needs to know about a party it made: ids, its account and its submission."""

    id: int
    user: UserRef
    submission_id: int | None
    npi: str


def next_npi() -> str:
    """A fresh valid NPI (10 digits, Luhn check over the 80840 prefix)."""
    while (npi := _with_check(str(next(_npis)))) == FIRST_NPI:
        pass
    return npi


def _with_check(nine: str) -> str:
    """Nine digits completed with their NPI check digit."""
    return nine + npi_check_digit(nine)


def next_ncpdp() -> str:
    """A fresh valid NCPDP ID."""
    six = str(next(_ncpdps))
    return six + ncpdp_check_digit(six)


def prescriber_fields(npi: str, last_name: str = "Ramirez") -> dict[str, str]:
    """A complete Prescriber Enrollment Form."""
    return {
        "first_name": "Elena", "last_name": last_name, "credentials": "MD",
        "specialty": "Neurology", "npi": npi, "license_number": "MA-204518",
        "license_state": "MA", "practice_name": "Back Bay Neurology",
        "address_line1": "1 Boylston Street", "address_line2": "Suite 400", "city": "Boston",
        "state": "MA", "postal_code": "02116", "phone": "(617) 555-0142",
        "email": f"{last_name.lower()}@example.org",
    }  # fmt: skip


def make_prescriber(
    app: Flask, factory: Factory, *, last_name: str = "Ramirez", npi: str | None = None,
    submit: bool = True,
) -> PartyRef:  # fmt: skip
    """A prescriber who filled in the form, passed the assessment and (by default) signed and
    submitted it; the submission waits for review."""
    account = factory.user(Role.PRESCRIBER)
    npi = npi or next_npi()
    with app.app_context(), writing():
        user = db.session.get(User, account.id)
        prescriber = prescribers.save_enrollment_form(
            db.session, user, prescriber_fields(npi, last_name), today=today()
        )
        submission = _submit_prescriber(prescriber, user) if submit else None
        db.session.commit()
        return PartyRef(prescriber.id, account, getattr(submission, "id", None), npi)


def _submit_prescriber(prescriber: Prescriber, user: User) -> CertificationSubmission:
    """Pass the assessment with the program file's answers, then sign and submit."""
    program = current_app.extensions["rems_program"]
    questions = program.assessment.questions
    prescribers.record_assessment(
        db.session, prescriber, user, order=[q.id for q in questions],
        answers={q.id: q.answer for q in questions}, started_at=utcnow(),
    )  # fmt: skip
    return prescribers.submit_enrollment(
        db.session, prescriber, user, password=PASSWORD, today=today(),
        attested=[a.id for a in program.attestations.prescriber],
    )  # fmt: skip


def resubmit_prescriber(app: Flask, party: PartyRef) -> int:
    """The prescriber takes the assessment again and signs a new (e.g. renewal) submission."""
    with app.app_context(), writing():
        user = db.session.get(User, party.user.id)
        submission = _submit_prescriber(db.session.get(Prescriber, party.id), user)
        db.session.commit()
        return submission.id


def make_site(
    app: Flask, factory: Factory, *, name: str = "Harbor Infusion Center",
    dispenses: bool = True, infuses: bool = True,
) -> PartyRef:  # fmt: skip
    """A healthcare setting registered and submitted by its authorized representative."""
    account = factory.user(Role.SITE_STAFF, representative=True)
    npi = next_npi()
    values = {
        "name": name, "npi": npi, "ncpdp_id": next_ncpdp() if dispenses else None,
        "address_line1": "200 Harbor Way", "city": "Boston", "state": "MA",
        "postal_code": "02210", "phone": "(617) 555-0199", "dispenses": dispenses,
        "infuses": infuses,
    }  # fmt: skip
    program = app.extensions["rems_program"]
    attested = [a.id for a in program.site_attestations(dispenses, infuses)]
    with app.app_context(), writing():
        user = db.session.get(User, account.id)
        site = sites.register_site(db.session, user, values)
        submission = sites.submit_site_enrollment(
            db.session, site, user, password=PASSWORD, attested=attested, today=today()
        )
        db.session.commit()
        return PartyRef(site.id, account, submission.id, npi)


def certify(app: Flask, party: PartyRef, admin: UserRef) -> None:
    """Certify the party's pending submission through the service, as `admin`."""
    with app.app_context(), writing():
        record = _party_record(party)
        submission = pending_submission(db.session, record)
        actor = db.session.get(User, admin.id)
        decide_submission(db.session, submission, certify=True, actor=actor, today=today())
        db.session.commit()


def _party_record(party: PartyRef) -> Prescriber | Site:
    """The prescriber or site row of a party reference (a site's account has the site)."""
    user = db.session.get(User, party.user.id)
    if user.role == Role.PRESCRIBER:
        return db.session.get(Prescriber, party.id)
    return db.session.get(Site, party.id)


def admin_browser(factory: Factory, admin: UserRef | None = None):
    """An administrator (new unless given), signed in now, with a CSRF token for their posts.
    Sign in again after moving the clock by hours: sessions time out on the frozen clock too."""
    admin = admin or factory.user(Role.ADMIN)
    browser = factory.signed_in(admin)
    return admin, browser, csrf_token(browser, f"{BASE}/queue")


def decide(browser: FlaskClient, token: str, submission_id: int, decision: str, reason=""):
    """Press Certify or Reject on the submission page."""
    return browser.post(
        f"{BASE}/submissions/{submission_id}/decision",
        data={"csrf_token": token, "decision": decision, "reason": reason},
    )


def act(browser: FlaskClient, token: str, segment: str, party_id: int, action: str, reason: str):
    """Post a party page's suspend / reinstate / revoke form."""
    return browser.post(
        f"{BASE}/{segment}/{party_id}/{action}", data={"csrf_token": token, "reason": reason}
    )


def page_text(response) -> str:
    """The page's text with tags and runs of spaces removed, for phrase checks."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", body).replace("&#39;", "'").replace("&amp;", "&")


def fresh(app: Flask, model: Any, row_id: int) -> Any:
    """A row read fresh from the database, detached so the test can read its columns."""
    with app.app_context():
        record = db.session.get(model, row_id)
        db.session.expunge(record)
        return record


def history(app: Flask, model: Any, party_id: int) -> list[tuple]:
    """(from, to, reason, changed by id) of each status history row of a party, oldest first."""
    with app.app_context():
        rows = db.session.scalars(
            sa.select(StatusChange)
            .where(StatusChange.entity_type == model.__tablename__)
            .where(StatusChange.entity_id == party_id)
            .order_by(StatusChange.id)
        )
        return [(r.from_status, r.to_status, r.reason, r.changed_by_id) for r in rows]
