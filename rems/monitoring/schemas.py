"""The monitoring parts of the API as the OpenAPI document declares them: a results batch, its
answer, and the monitoring summary of the patient lookup."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from rems.api.fields import Date
from rems.api.operations import Shape
from rems.api.parsing import Body
from rems.monitoring.validation import MAX_RESULTS, UNIT_LIMIT, VALUE_LIMIT
from rems.monitoring.values import DESCRIPTION_LIMIT


class ValueIn(Body):
    """One coded value: the analyte by its LOINC code (one of the test's, as the program file
    lists them), the number, and its UCUM unit. A unit that converts to the analyte's stored
    unit (e.g. /uL to 10*9/L, umol/L to mg/dL) is converted; one that does not, an impossible
    value or a LOINC code the test does not have is refused naming the field."""

    loinc: str = Field(max_length=20, examples=["777-3"])
    value: float = Field(examples=[182])
    unit: str = Field(max_length=UNIT_LIMIT, examples=["10*9/L"])


class ResultIn(Body):
    """One result. Duplicates (same patient, test, collection date and value, in this batch or
    on file) are reported by index and stored once."""

    test: str = Field(
        description="The program file's test code: cbc, creatinine, urinalysis, tsh, liver, "
        "skin_exam, urine_protein_creatinine.",
        examples=["cbc"],
    )
    collected_on: Date = Field(
        description="YYYY-MM-DD, not after today. A result collected before the first dose is "
        "stored but satisfies no monitoring item."
    )
    value: str | None = Field(
        default=None,
        max_length=VALUE_LIMIT,
        description="Text that looks like a formula (=, +, -, @ not followed by a number) is "
        "refused.",
    )
    unit: str | None = Field(default=None, max_length=UNIT_LIMIT)
    abnormal: bool | None = Field(
        default=None,
        description="Set to true whatever is sent when a coded value is outside "
        "its reference range or the finding is abnormal.",
    )
    values: list[ValueIn] | None = Field(
        default=None,
        max_length=20,
        description="Optional coded values (`value` and `unit` above stay a free-text note). "
        "Values outside an alert rule raise an alert to the prescriber and delegates.",
    )
    finding: Literal["normal", "abnormal"] | None = Field(
        default=None, description="The skin exam's structured finding (finding tests only)."
    )
    finding_description: str | None = Field(
        default=None,
        max_length=DESCRIPTION_LIMIT,
        description="Required when the finding is abnormal.",
    )


class ResultsBatch(Body):
    """A batch of one patient's results, stored whole or not at all."""

    results: list[ResultIn] = Field(min_length=1, max_length=MAX_RESULTS)


class ResultsStored(Shape):
    """How many results were stored, and which rows were duplicates (not stored again)."""

    stored: int = Field(ge=0)
    duplicates: list[int] = Field(
        description="Indexes of the rows not stored: the same result is on file or earlier in "
        "the batch."
    )


class OverdueItem(Shape):
    """One overdue monitoring item."""

    test: str
    item: int = Field(ge=1, description="The item's number k: due k intervals after dose 1.")
    due_on: date
    overdue_since: date


class MonitoringSummary(Shape):
    """Where the patient stands today on the 48-month monitoring schedule (program §6).
    Compliant means no item is overdue."""

    compliant: bool
    monitoring_ends_on: date | None = Field(
        description="The last dose + 48 months; null before the first dose."
    )
    items_due: int = Field(ge=0)
    items_overdue: int = Field(ge=0)
    overdue_items: list[OverdueItem] = Field(description="Overdue items, most overdue first.")
