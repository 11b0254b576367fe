"""Human names for the codes reports show: "CBC with differential", not `cbc`; "Partially used",
not `partially_used`. One helper for every report page, PDF and export.

Names come from the program file where it has them (tests, adverse-event categories, deviation
kinds, documents); the gate's reason codes are the API's (docs/api.md) and are named here; any
other code (statuses, not-infused reasons, parties) is spelt out from its words.
"""

from __future__ import annotations

from flask import current_app

#: The gate's denial reasons (docs/api.md), as a person reads them.
GATE_REASONS = {
    "PHARMACY_NOT_CERTIFIED": "Pharmacy not certified",
    "SITE_NOT_CERTIFIED": "Infusion site not certified",
    "PRESCRIBER_NOT_CERTIFIED": "Prescriber not certified",
    "PRESCRIBER_NOT_OF_RECORD": "Prescriber not of record for the patient",
    "PATIENT_NOT_FOUND": "Patient not found (ID or date of birth)",
    "PATIENT_NOT_ENROLLED": "Patient not enrolled",
    "GUIDE_NOT_ACKNOWLEDGED": "Medication Guide not acknowledged",
    "COURSE_NOT_AUTHORIZED": "Course not authorized",
    "DOSES_EXCEEDED": "Authorized doses exceeded",
}
#: Words that keep their capitals when a code is spelt out.
_WORDS = {"tsh": "TSH", "cbc": "CBC", "rems": "REMS", "npi": "NPI", "id": "ID", "ae": "AE"}


def spelt_out(code: str | None) -> str:
    """A snake_case or UPPER_CASE code in words, first letter capital: partially_used →
    "Partially used"."""
    if not code:
        return ""
    words = [_WORDS.get(word, word) for word in str(code).lower().replace("-", "_").split("_")]
    text = " ".join(word for word in words if word)
    return text[:1].upper() + text[1:]


def _program():
    return current_app.extensions["rems_program"]


def _from_program(kind: str) -> dict[str, str]:
    """The names of one kind of code: the program file's, or the gate's reasons."""
    if kind == "gate_reason":
        return GATE_REASONS
    return program_names(_program(), kind)


def program_names(program, kind: str) -> dict[str, str]:
    """The program file's names of one kind of code (empty for a kind it does not name)."""
    if kind == "test":
        return {test.code: test.name for test in program.tests}
    if kind == "adverse_event":
        return {c.code: c.label for c in program.adverse_events.categories}
    if kind == "deviation":
        return {k.code: k.label for k in program.deviations.kinds}
    if kind == "document":
        return {d.code: d.title for d in program.documents}
    return {}


KINDS = ("test", "adverse_event", "deviation", "document", "gate_reason", "status", "reason",
         "party")  # fmt: skip


def label(kind: str, code: str | None) -> str:
    """The human name of `code`, a code of `kind` (one of KINDS); an unknown code spelt out."""
    if code is None or code == "":
        return "—"
    return _from_program(kind).get(code) or spelt_out(code)


def register(app) -> None:
    """`{{ code|label('test') }}` in templates."""
    app.add_template_filter(lambda code, kind: label(kind, code), "label")
