"""Demo prescribers and sites in every certification state, built through the real services."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from sqlalchemy.orm import Session

from rems.auth import users
from rems.certification.rules import Transition
from rems.certification.services import apply_transition, decide_submission, expire_lapsed
from rems.common.identifiers import ncpdp_check_digit, npi_check_digit
from rems.demo.accounts import DEMO_PASSWORD
from rems.demo.clock import on_day
from rems.prescribers import delegates
from rems.prescribers import services as prescribers
from rems.sites import services as sites

#: username → (what to show, days ago the certification began, later step and its reason)
PRESCRIBERS = {
    "dr.ramirez": ("certified", 40, None),
    "dr.okafor": ("submitted", None, None),
    "dr.chen": ("draft", None, None),
    "dr.nguyen": ("certified, renewal due", 24 * 30 - 20, None),
    "dr.patel": ("suspended", 200, (Transition.SUSPEND, "License under board review")),
    "dr.hughes": ("expired", 24 * 31 + 5, None),
    "dr.silva": ("revoked", 300, (Transition.REVOKE, "Prescribed outside the program")),
}
#: representative → (site name, dispenses, infuses, days ago certified, later step, staff)
SITES = {
    "pharmacy.rep": ("Riverside Specialty Pharmacy", True, False, 60, None, "pharmacy.tech"),
    "infusion.rep": ("Beacon Infusion Center", False, True, 90, None, "infusion.nurse"),
    "clinic.rep": ("Lakeside Infusion Clinic", True, True, "submitted", None, None),
    "metro.rep": ("Metro Pharmacy", True, False, 120,
                  (Transition.SUSPEND, "Dispensed without a valid authorization"), None),
    "harbor.rep": ("Harbor Hospital Infusion Suite", False, True, "draft", None, None),
}  # fmt: skip
LATER_STATES = {Transition.SUSPEND: "suspended", Transition.REVOKE: "revoked"}


def ensure_demo_parties(session: Session, today: date) -> list[str]:
    """Create what is missing; return one line per party saying what it shows."""
    admin = users.find_user(session, "admin")
    lines = [_ensure_prescriber(session, n, username, admin, today)
             for n, username in enumerate(PRESCRIBERS)]  # fmt: skip
    lines += [_ensure_site(session, n, rep, admin, today) for n, rep in enumerate(SITES)]
    _ensure_delegate(session, today)
    expire_lapsed(session, today)
    return lines


def _ensure_prescriber(session: Session, number: int, username: str, admin, today: date) -> str:
    """One demo prescriber taken to its state (skipped when its form exists already)."""
    user = users.find_user(session, username)
    shown, days_ago, later = PRESCRIBERS[username]
    if prescribers.prescriber_for(session, user) is None:
        start = today - timedelta(days=days_ago or 0)
        with on_day(start):
            prescriber = _certify_prescriber(session, number, user, admin, start)
        if later:
            apply_transition(session, prescriber, later[0], actor=admin, today=today,
                             reason=later[1])  # fmt: skip
    return f"{username:<16} prescriber  {shown}"


def _certify_prescriber(session: Session, number: int, user, admin, start: date):
    """The enrollment form, the assessment, the submission and (when certified) the decision,
    all on the day the certification began."""
    shown, days_ago, _ = PRESCRIBERS[user.username]
    prescriber = prescribers.save_enrollment_form(
        session, user, _prescriber_form(user, number, complete=shown != "draft"), today=start
    )
    if shown != "draft":
        _pass_assessment(session, prescriber, user)
        submission = prescribers.submit_enrollment(
            session, prescriber, user, password=DEMO_PASSWORD, today=start,
            attested=[a.id for a in _program().attestations.prescriber],
        )  # fmt: skip
        if days_ago is not None:
            decide_submission(session, submission, certify=True, actor=admin, today=start)
    return prescriber


def _prescriber_form(user, number: int, *, complete: bool) -> dict:
    """Plausible enrollment form values; a draft has only some of them."""
    first, last = user.full_name.split(" ", 1)
    values = {"first_name": first, "last_name": last, "credentials": "MD", "specialty": "Neurology"}
    if complete:
        values |= {
            "npi": _npi(100 + number), "license_number": f"MD-{204300 + number}",
            "license_state": "MA", "practice_name": "Charles River Neurology Associates",
            "address_line1": f"{55 + number} Fruit Street", "city": "Boston", "state": "MA",
            "postal_code": "02114", "phone": f"(617) 555-01{10 + number:02d}",
            "email": user.email, "time_zone": "America/New_York",
        }  # fmt: skip
    return values


def _pass_assessment(session: Session, prescriber, user) -> None:
    """The demo prescriber answers every question right."""
    questions = _program().assessment.questions
    prescribers.record_assessment(
        session, prescriber, user, order=[q.id for q in questions],
        answers={q.id: q.answer for q in questions}, started_at=prescriber.created_at,
    )  # fmt: skip


def _ensure_site(session: Session, number: int, rep_name: str, admin, today: date) -> str:
    """One demo site taken to its state, with its staff member."""
    rep = users.find_user(session, rep_name)
    name, dispenses, infuses, stage, later, staff = SITES[rep_name]
    if rep.site_id is None:
        start = today - timedelta(days=stage if isinstance(stage, int) else 0)
        with on_day(start):
            site = sites.register_site(session, rep, _site_form(number, name, dispenses, infuses))
            if stage != "draft":
                required = _program().site_attestations(dispenses, infuses)
                submission = sites.submit_site_enrollment(
                    session, site, rep, password=DEMO_PASSWORD, today=start,
                    attested=[a.id for a in required],
                )  # fmt: skip
                if isinstance(stage, int):
                    decide_submission(session, submission, certify=True, actor=admin, today=start)
        if later:
            apply_transition(session, site, later[0], actor=admin, today=today, reason=later[1])
        if staff:
            sites.add_staff(session, site, rep, username=staff, full_name=_staff_name(staff),
                            email=f"{staff}@demo.rems.example", password=DEMO_PASSWORD)  # fmt: skip
    shown = LATER_STATES[later[0]] if later else ("certified" if isinstance(stage, int) else stage)
    staffed = f"; staff: {staff}" if staff else ""
    return f"{rep_name:<16} site        {name} ({shown}{staffed})"


def _site_form(number: int, name: str, dispenses: bool, infuses: bool) -> dict:
    """Plausible Healthcare Setting Enrollment Form values."""
    return {
        "name": name, "dispenses": dispenses, "infuses": infuses, "npi": _npi(500 + number),
        "ncpdp_id": _ncpdp(number) if dispenses else None,
        "address_line1": f"{200 + number * 10} Longwood Avenue", "city": "Boston",
        "state": "MA", "postal_code": "02115", "phone": f"(617) 555-02{10 + number:02d}",
        "time_zone": "America/New_York",
    }  # fmt: skip


def _staff_name(username: str) -> str:
    """Names for the demo staff accounts."""
    return {"pharmacy.tech": "Sam Rivera", "infusion.nurse": "Alex Novak"}[username]


def _ensure_delegate(session: Session, today: date) -> None:
    """nurse.lee works for dr.ramirez."""
    prescriber = prescribers.prescriber_for(session, users.find_user(session, "dr.ramirez"))
    nurse = users.find_user(session, "nurse.lee")
    if delegates.active_link(session, prescriber, nurse) is None:
        delegates.add_delegate(session, prescriber, prescriber.user, today=today,
                               username="nurse.lee")  # fmt: skip


def _npi(serial: int) -> str:
    """A valid NPI for demo data."""
    nine = f"19{serial:07d}"
    return nine + npi_check_digit(nine)


def _ncpdp(serial: int) -> str:
    """A valid NCPDP ID for demo data."""
    six = f"55{serial:04d}"
    return six + ncpdp_check_digit(six)


def _program():
    return current_app.extensions["rems_program"]
