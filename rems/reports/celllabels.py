"""Human labels for the coded cells of an export: "CBC with differential", not `cbc`.

Names come from the program file (tests, adverse-event categories, deviation kinds); other codes
(statuses, outcomes, reasons) are written as words ("partially_used" → "Partially used"). Which
columns hold which codes is said here, by report and column, so the reports stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from rems.program.model import Program

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


def words(code: str) -> str:
    """A code read as words: "partially_used" → "Partially used"."""
    text = code.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _names(program: Program) -> dict[str, dict[str, str]]:
    """Each program vocabulary: code → name."""
    return {
        "test": {t.code: t.name for t in program.tests},
        "adverse_event": {c.code: c.label for c in program.adverse_events.categories},
        "deviation": {k.code: k.label for k in program.deviations.kinds},
    }


def labellers(
    program: Program, report: str, keys: tuple[str, ...]
) -> list[Callable[[object], object] | None]:
    """For each column key of `report`, the function that labels its cells (None: as is)."""
    names = _names(program)
    found: list[Callable[[object], object] | None] = []
    for key in keys:
        vocabulary = CODED.get((report, key))
        if vocabulary is None:
            found.append(None)
        elif vocabulary == "words":
            found.append(lambda v: words(v) if isinstance(v, str) else v)
        else:
            table = names[vocabulary]
            found.append(lambda v, t=table: t.get(v, words(v)) if isinstance(v, str) else v)
    return found
