"""The patient lookup's answer, as the OpenAPI document declares it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from rems.adverse_events.schemas import PatientAdverseEvent
from rems.api.operations import Shape
from rems.monitoring.schemas import MonitoringSummary


class PrescriberOfRecord(Shape):
    """The prescriber of record."""

    npi: str | None = Field(pattern="^[0-9]{10}$")
    name: str


class Acknowledgment(Shape):
    """A document version the patient acknowledged."""

    document: str = Field(description="e.g. medication_guide")
    version: str = Field(description="The version's label.")
    acknowledged_at: datetime
    method: Literal["in_person", "paper_form"]


class PatientCourse(Shape):
    """A treatment course and its doses."""

    number: int = Field(ge=1)
    status: Literal["authorized", "in_progress", "completed", "lapsed", "closed"]
    doses_total: int = Field(ge=1)
    doses_given: int = Field(ge=0)


class PatientLookup(Shape):
    """A patient as their prescriber of record, the prescriber's delegates, administrators and
    auditors see them, with the monitoring summary."""

    patient_id: str = Field(description="The REMS patient ID.")
    status: Literal["pending", "enrolled", "discontinued", "closed"]
    prescriber: PrescriberOfRecord
    acknowledgments: list[Acknowledgment] = Field(
        description="Document versions the patient acknowledged, newest first."
    )
    documents_missing: list[str] = Field(
        description="Codes of the required documents whose current version the patient has "
        "not acknowledged (dispensing is denied until they do)."
    )
    courses: list[PatientCourse] = Field(description="Treatment courses, first course first.")
    monitoring: MonitoringSummary
    adverse_events: list[PatientAdverseEvent] = Field(
        description="The patient's adverse events, latest onset first (with ?as_of=: those "
        "recorded by then, with their clock on that day; other values as they are now)."
    )
    as_of: datetime | None = Field(
        None,
        description="With ?as_of=: the moment answered for; every field is as recorded "
        "by then (acknowledgments made, documents missing, courses authorized and their doses).",
    )
    status_since: datetime | None = Field(
        None, description="With ?as_of=: when that status began, by the recorded history."
    )
