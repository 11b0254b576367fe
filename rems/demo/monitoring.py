"""Demo monitoring: patients in every monitoring state (on schedule, due this week, overdue, a
waived item, an amended result, a serious adverse event), and one with two prior courses. Their
doses are prior treatment with past dates, the only honest way to have doses months ago."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.adverse_events.rules import Report
from rems.adverse_events.services import report_event
from rems.auth import users
from rems.demo.accounts import DEMO_PASSWORD
from rems.demo.patients import enroll_demo
from rems.monitoring.results import ResultRow, amend_result
from rems.monitoring.services import waive_item
from rems.monitoring.storing import record_results
from rems.patients.models import Patient
from rems.prior_treatment.services import PriorCourse, next_prior, record_prior_course
from rems.program.model import add_months

MONTHLY = ("cbc", "creatinine", "urinalysis")
#: (first, last, born, sex, days until the current monthly item is due, what it shows)
PATIENTS = (
    ("Olivia", "Reed", date(1986, 3, 14), "female", 14, "on schedule"),
    ("Noah", "Price", date(1990, 8, 2), "male", 3, "due this week"),
    ("Liam", "Ortiz", date(1977, 12, 5), "male", -40, "overdue"),
    ("Sofia", "Marsh", date(1983, 5, 27), "female", 14, "a waived item"),
    ("Ethan", "Cole", date(1992, 1, 9), "male", 14, "an amended result"),
    ("Ava", "Brooks", date(1989, 10, 21), "female", 14, "a serious adverse event"),
    ("Henry", "Walsh", date(1971, 7, 30), "male", None, "two prior courses"),
)


def ensure_demo_monitoring(session: Session, today: date) -> list[str]:
    """The monitoring demo patients, each taken to its state through the services."""
    if session.scalar(sa.select(Patient.id).where(Patient.last_name == "Walsh").limit(1)):
        return []
    return [_patient(session, row, today) for row in PATIENTS]


def _patient(session: Session, row: tuple, today: date) -> str:
    """Enroll, give the prior doses, then the results and events its state needs."""
    first, last, born, sex, due_in, shows = row
    enroll_demo(session, (first, last, born, sex, False, "dr.ramirez", "dr.ramirez", "enrolled"),
                today, today)  # fmt: skip
    patient = session.scalar(sa.select(Patient).where(Patient.last_name == last))
    doctor = users.find_user(session, "dr.ramirez")
    if due_in is None:
        _prior(
            session, patient, doctor, today - timedelta(days=800), "Hospital chart, course 1", today
        )
        _prior(
            session, patient, doctor, today - timedelta(days=400), "Hospital chart, course 2", today
        )
        return f"{patient.rems_id}  {first} {last}: {shows} (entered as prior treatment)"
    anchor = add_months(today + timedelta(days=due_in), -3)
    _prior(session, patient, doctor, anchor, "Infusion record, Lakeside Neurology", today)
    if shows != "overdue":
        _results(session, patient, doctor, anchor, today, skip_cbc_1=shows == "a waived item")
    _extra(session, patient, shows, anchor, today)
    return f"{patient.rems_id}  {first} {last}: {shows}"


def _prior(session, patient: Patient, doctor, first: date, source: str, today: date) -> None:
    """A prior course from `first`, on consecutive days, with the program's dose count."""
    count = next_prior(session, patient).doses_allowed
    doses = {f"dose_{n}": first + timedelta(days=n - 1) for n in range(1, count + 1)}
    record_prior_course(session, patient, doctor, PriorCourse(doses, source),
                        password=DEMO_PASSWORD, today=today)  # fmt: skip


def _results(session, patient, doctor, anchor: date, today: date, *, skip_cbc_1: bool) -> None:
    """The monthly tests of months 1 and 2, each collected on its due date."""
    rows = [
        ResultRow(f"{code}-{k}", patient, {"test": code, "collected_on": add_months(anchor, k),
                                           "value": "within range", "abnormal": False})
        for k in (1, 2) for code in MONTHLY if not (skip_cbc_1 and code == "cbc" and k == 1)
    ]  # fmt: skip
    record_results(session, doctor, rows, source="web", today=today)


def _extra(session: Session, patient: Patient, shows: str, anchor: date, today: date) -> None:
    """The waiver, the amendment or the adverse event the patient shows."""
    if shows == "a waived item":
        waive_item(
            session, patient, users.find_user(session, "admin"), test_code="cbc",
            due_on=add_months(anchor, 1), password=DEMO_PASSWORD, today=today,
            reason="CBC done during a hospital stay elsewhere; the report cannot be obtained.",
        )  # fmt: skip
    elif shows == "an amended result":
        from rems.monitoring.models import LabResult

        result = session.scalar(sa.select(LabResult).where(
            LabResult.patient_id == patient.id, LabResult.test_code == "cbc",
            LabResult.collected_on == add_months(anchor, 2)))  # fmt: skip
        amend_result(session, users.find_user(session, "dr.ramirez"), result,
                     changes={"value": "platelets 142 x10^9/L", "abnormal": True},
                     reason="Transcription error: the lab report shows low platelets.",
                     today=today)  # fmt: skip
    elif shows == "a serious adverse event":
        report = Report(
            category="immune_thrombocytopenia",
            onset_on=today - timedelta(days=2),
            serious=True,
            outcome="recovering",
            reporter="Dr. Ramirez's nurse, Lee (phone call from patient)",
            description="Bruising and petechiae; platelets 21 x10^9/L; admitted for treatment.",
            aware_on=today - timedelta(days=1),
            criteria=("hospitalisation",),
        )
        report_event(session, patient, users.find_user(session, "nurse.lee"), report)
