"""What the patient page's follow-up section shows: the end of monitoring and its extensions,
the periodic status periods with their state, and what the viewer may do."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.auth.models import Role, User
from rems.monitoring import rules
from rems.monitoring.extension import current_end
from rems.monitoring.followup_models import MonitoringExtension
from rems.monitoring.statuses import patient_periods, reports_of
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber

SHOWN = (rules.ItemState.DUE_SOON, rules.ItemState.DUE, rules.ItemState.OVERDUE)


def patient_followup(session: Session, patient: Patient, viewer: User, today: date) -> dict:
    """The section's facts for this patient and viewer."""
    items = patient_periods(session, patient, today)
    shown = [i for i in items if i.state != rules.ItemState.UPCOMING]
    upcoming = [i for i in items if i.state == rules.ItemState.UPCOMING][:1]
    prescriber = session.get(Prescriber, patient.prescriber_id)
    still_open = patient.status != PatientStatus.CLOSED
    states = current_app.extensions["rems_program"].monitoring_states
    extensions = sa.select(MonitoringExtension).where(MonitoringExtension.patient_id == patient.id)
    own = viewer.role == Role.PRESCRIBER and prescriber.user_id == viewer.id
    return {
        "ends_on": current_end(session, patient),
        "extensions": list(session.scalars(extensions)),
        "periods": shown + upcoming,
        "open": [i for i in items if i.state in SHOWN],
        "reports": {r.period: r for r in reports_of(session, patient.id)},
        "every_months": states.status_every_months,
        "may_extend": still_open and own,
        "may_record": still_open and viewer.role in (Role.PRESCRIBER, Role.DELEGATE),
    }
