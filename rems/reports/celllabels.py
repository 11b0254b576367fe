"""Human labels for the coded cells of an export: "CBC with differential", not `cbc`.

Names come from the program file through `rems.reports.labels` (tests, adverse-event categories,
deviation kinds), as on the report pages; other codes (statuses, outcomes, reasons) are spelt out
the same way ("partially_used" → "Partially used"). Which
columns hold which codes is said here, by report and column, so the reports stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from rems.program.model import Program
from rems.reports.labels import program_names, spelt_out

#: (report, column) → vocabulary: a program list, or "words" for codes read as words.
CODED: dict[tuple[str, str], str] = {
    ("monitoring", "test"): "test",
    ("monitoring", "state"): "words",
    ("monitoring-overdue", "test"): "test",
    ("monitoring-compliance", "test"): "test",
    ("result-amendments", "test"): "test",
    ("result-amendments", "test_before"): "test",
    ("adverse-events", "category"): "adverse_event",
    ("adverse-events", "seriousness"): "words",
    ("deviations", "code"): "deviation",
    ("deviations", "severity"): "words",
    ("not-infused", "reason"): "words",
    ("noncompliance-cases", "party"): "words",
    ("enrollments", "status"): "words",
    ("enrollments", "sex"): "words",
    ("authorizations", "status"): "words",
    ("gate-decision-list", "outcome"): "words",
    ("gate-denials", "code"): "words",
    ("gate-denials", "action_by"): "words",
    ("certifications", "kind"): "words",
    ("certifications", "status"): "words",
    ("certification-history", "kind"): "words",
    ("certification-history", "from_status"): "words",
    ("certification-history", "to_status"): "words",
}


def labellers(
    program: Program, report: str, keys: tuple[str, ...]
) -> list[Callable[[object], object] | None]:
    """For each column key of `report`, the function that labels its cells (None: as is)."""
    found: list[Callable[[object], object] | None] = []
    for key in keys:
        vocabulary = CODED.get((report, key))
        if vocabulary is None:
            found.append(None)
        elif vocabulary == "words":
            found.append(lambda v: spelt_out(v) if isinstance(v, str) else v)
        else:
            table = program_names(program, vocabulary)
            found.append(lambda v, t=table: t.get(v, spelt_out(v)) if isinstance(v, str) else v)
    return found
