"""Adverse events in the API's patient lookup, as the OpenAPI document declares them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from rems.api.operations import Shape


class PatientAdverseEvent(Shape):
    """One adverse event of the patient, with its reporting clock when serious."""

    id: int
    category: str = Field(description="The program file's category code, e.g. pml.")
    category_label: str
    onset_on: date
    aware_on: date | None = Field(description="When the program became aware of it.")
    serious: bool
    seriousness_criteria: list[str] = Field(
        description="ICH criteria codes: death, life_threatening, hospitalisation, disability, "
        "congenital_anomaly, other_medically_important."
    )
    outcome: str | None
    follow_ups: int = Field(ge=0, description="How many follow-ups are recorded.")
    report_due_on: date | None = Field(
        description="A serious event's last day to reach the sponsor's safety team."
    )
    sent_on: date | None = Field(description="The day it was sent to the safety team.")
    clock: Literal["open", "overdue", "sent"] | None = Field(
        description="A serious event's reporting clock today; null when not serious."
    )
