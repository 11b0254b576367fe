"""Demo non-compliance: yesterday's dose at Beacon Infusion Center was observed for 90 minutes
only (a deviation the nurse confirmed; its case is open, with the corrective action Beacon's
representative drafted, awaiting an administrator's review), and the visit the day before the
first dose ended not infused (the patient declined)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from rems.auth import users
from rems.authorizations.models import Authorization
from rems.compliance.models import NonComplianceCase
from rems.compliance.services import submit_action
from rems.infusions.not_infused import record_not_infused

SHORT_OBSERVATION_MINUTES = 90
ROOT_CAUSE = (
    "The patient asked to leave early and the nurse had no one to escalate to during the "
    "evening shift."
)
ACTION = (
    "An evening charge nurse is named on every shift; patients are told of the 2-hour "
    "observation when the visit is booked."
)


def not_infused_visit(session: Session, authorization: Authorization, day: date) -> None:
    """The visit on `day` ended without an infusion: the patient declined."""
    nurse = users.find_user(session, "infusion.nurse")
    notes = "Came back the next day after talking it over with Dr. Ramirez."
    record = {"visit_on": day, "reason": "patient_declined", "notes": notes}
    record_not_infused(session, authorization, nurse, record)


def draft_corrective_action(session: Session, case: NonComplianceCase, today: date) -> None:
    """Beacon's representative answers the case: root cause, action, due in 30 days."""
    rep = users.find_user(session, "infusion.rep")
    action = {"root_cause": ROOT_CAUSE, "action": ACTION, "due_on": today + timedelta(days=30)}
    submit_action(session, case, rep, action, today=today)
