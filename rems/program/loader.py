"""Load a program file (TOML) and validate it into the frozen dataclasses of ``model``.

Validation is strict: unknown and missing keys, wrong types (a boolean is not an integer), values
out of range, duplicate codes and broken cross references are all refused with a
``ProgramFileError`` naming the file and the dotted key path. Array entries are counted from 0:
``assessment.questions[3]`` is the fourth ``[[assessment.questions]]`` table.
"""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from rems.program._fields import Node, ProgramFileError, refuse_duplicates
from rems.program.analytes import load_coded_results
from rems.program.assessment_reports import load_assessment_reports
from rems.program.deviations import load_deviations
from rems.program.forms import load_forms
from rems.program.model import (
    ADMINISTRATOR_REVIEW,
    AUTOMATIC_REVIEW,
    CAN_BECOME_PREGNANT,
    EVERY_COURSE,
    FIRST_COURSE,
    AdverseEventCategory,
    AdverseEventRules,
    Assessment,
    Attestation,
    AttestationSets,
    AuthorizationRules,
    BaselineRule,
    CertificationRules,
    DosingRules,
    LabTest,
    MedicationCodes,
    MonitoringRule,
    MonitoringRules,
    PatientRules,
    Program,
    ProgramDocument,
    Question,
)
from rems.program.monitoring_states import load_monitoring_states
from rems.program.safety import load_safety

__all__ = ["ProgramFileError", "load_program"]

_SECTIONS = (
    "program", "medication", "certification", "assessment", "attestations", "dosing",
    "authorization", "monitoring", "tests", "documents", "patient", "adverse_events", "deviations",
    "assessment_reports",
    "monitoring_states",
    "analytes", "findings", "alerts", "alert_rules",
    "safety_reporting",
    "forms",
)  # fmt: skip
#: Attestation groups, with the conditions their `applies_when` may name (none: key not allowed).
_ATTESTATION_GROUPS: dict[str, tuple[str, ...]] = {
    "prescriber": (),
    "site_all": (),
    "site_dispenses": (),
    "site_infuses": (),
    "patient": (CAN_BECOME_PREGNANT,),
    "course": (),
}
_MONITORING_KEYS = ("every_months", "grace_days")
_BASELINE_KEYS = ("baseline", "baseline_max_age_days", "baseline_max_age_months")


def load_program(path: str | Path) -> Program:
    """Read, parse and validate the program file at `path`.

    Raises ProgramFileError, whose message starts with the file name and the key path at fault.
    """
    path = Path(path)
    root = Node(path.name, "", _read_toml(path))
    root.refuse_unknown(*_SECTIONS)
    return _program(root)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ProgramFileError(f"{path.name}: cannot read the file: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProgramFileError(f"{path.name}: invalid TOML: {exc}") from exc


def _program(root: Node) -> Program:
    info = root.table("program")
    info.refuse_unknown(
        "name",
        "drug",
        "indication",
        "time_zone",
        "reacknowledge_on_new_version",
        "acknowledgment_methods",
    )
    authorization = _authorization(root.table("authorization"))
    monitoring = _monitoring(root.table("monitoring"))
    tests = root.each(
        "tests", lambda entry: _lab_test(entry, authorization, monitoring), "code", "test code"
    )
    return Program(
        name=info.text("name"),
        drug=info.text("drug"),
        indication=info.text("indication"),
        time_zone=info.time_zone("time_zone"),
        reacknowledge_on_new_version=info.flag("reacknowledge_on_new_version"),
        acknowledgment_methods=info.texts("acknowledgment_methods", identifiers=True),
        medication=_medication(root.table("medication")),
        certification=_certification(root.table("certification")),
        assessment=_assessment(root.table("assessment")),
        attestations=_attestations(root.table("attestations")),
        dosing=_dosing(root.table("dosing")),
        authorization=authorization,
        monitoring=monitoring,
        tests=tests,
        documents=root.each("documents", _document, "code", "document code"),
        patient=_patient(root.table("patient")),
        adverse_events=_adverse_events(root.table("adverse_events")),
        deviations=load_deviations(root.table("deviations")),
        assessment_reports=load_assessment_reports(root.table("assessment_reports")),
        monitoring_states=load_monitoring_states(root.table("monitoring_states")),
        coded=load_coded_results(root, tuple(test.code for test in tests)),
        safety_reporting=load_safety(root.table("safety_reporting")),
        forms=load_forms(root.table("forms")),
    )


def _medication(node: Node) -> MedicationCodes:
    node.refuse_unknown("rxnorm", "ndc")
    return MedicationCodes(rxnorm=node.texts("rxnorm"), ndc=node.texts("ndc", min_count=0))


def _certification(node: Node) -> CertificationRules:
    node.refuse_unknown("period_months", "expiry_warning_days", "review")
    return CertificationRules(
        period_months=node.integer("period_months"),
        expiry_warning_days=node.integer("expiry_warning_days"),
        review=node.choice("review", (ADMINISTRATOR_REVIEW, AUTOMATIC_REVIEW)),
    )


def _assessment(node: Node) -> Assessment:
    node.refuse_unknown("pass_mark", "shuffle", "questions")
    pass_mark = node.integer("pass_mark")
    shuffle = node.flag("shuffle")
    questions = node.each("questions", _question, "id", "question id")
    if pass_mark > len(questions):
        message = f"{pass_mark} is more than the number of questions ({len(questions)})"
        raise node.error("pass_mark", message)
    return Assessment(pass_mark=pass_mark, shuffle=shuffle, questions=questions)


def _question(node: Node) -> Question:
    node.refuse_unknown("id", "text", "choices", "answer", "explanation")
    question = Question(
        id=node.identifier("id"),
        text=node.text("text"),
        choices=node.texts("choices", min_count=3, max_count=4),
        answer=node.text("answer"),
        explanation=node.text("explanation"),
    )
    if question.answer not in question.choices:
        raise node.error("answer", f"{question.answer!r} is not one of the question's choices")
    return question


def _attestations(node: Node) -> AttestationSets:
    node.refuse_unknown(*_ATTESTATION_GROUPS)
    entries = {group: node.tables(group) for group in _ATTESTATION_GROUPS}
    groups = {
        group: tuple(_attestation(entry, _ATTESTATION_GROUPS[group]) for entry in tables)
        for group, tables in entries.items()
    }
    all_entries = (entry for tables in entries.values() for entry in tables)
    refuse_duplicates(((entry, "id", entry.data["id"]) for entry in all_entries), "attestation id")
    return AttestationSets(**groups)


def _attestation(node: Node, conditions: tuple[str, ...]) -> Attestation:
    node.refuse_unknown("id", "text", *(("applies_when",) if conditions else ()))
    return Attestation(
        id=node.identifier("id"),
        text=node.text("text"),
        applies_when=node.optional_choice("applies_when", conditions),
    )


def _dosing(node: Node) -> DosingRules:
    keys = tuple(field.name for field in fields(DosingRules))
    node.refuse_unknown(*keys)
    numbers = tuple(key for key in keys if key != "route")
    dosing = DosingRules(route=node.text("route"), **{key: node.integer(key) for key in numbers})
    shortest = min(dosing.first_course_doses, dosing.later_course_doses)
    for key in ("premedication_doses", "antiviral_from_dose"):
        value = getattr(dosing, key)
        if value > shortest:
            raise node.error(
                key, f"{value} is more than the doses of the shortest course ({shortest})"
            )
    return dosing


def _authorization(node: Node) -> AuthorizationRules:
    node.refuse_unknown("validity_days", "baseline_max_age_days", "expiry_warning_days")
    return AuthorizationRules(
        validity_days=node.integer("validity_days"),
        baseline_max_age_days=node.integer("baseline_max_age_days"),
        expiry_warning_days=node.integer("expiry_warning_days"),
    )


def _monitoring(node: Node) -> MonitoringRules:
    node.refuse_unknown("months_after_last_dose", "default_grace_days")
    return MonitoringRules(
        months_after_last_dose=node.integer("months_after_last_dose"),
        default_grace_days=node.integer("default_grace_days", minimum=0),
    )


def _lab_test(
    node: Node, authorization: AuthorizationRules, monitoring: MonitoringRules
) -> LabTest:
    node.refuse_unknown("code", "name", *_MONITORING_KEYS, *_BASELINE_KEYS)
    test = LabTest(
        code=node.identifier("code"),
        name=node.text("name"),
        monitoring=_monitoring_rule(node, monitoring),
        baseline=_baseline_rule(node, authorization),
    )
    if test.monitoring is None and test.baseline is None:
        raise node.error(None, "needs every_months, baseline, or both")
    return test


def _monitoring_rule(node: Node, monitoring: MonitoringRules) -> MonitoringRule | None:
    if not node.has("every_months"):
        _refuse_without(node, *_MONITORING_KEYS)
        return None
    every_months = node.integer("every_months")
    if every_months > monitoring.months_after_last_dose:
        limit = f"monitoring.months_after_last_dose ({monitoring.months_after_last_dose})"
        raise node.error("every_months", f"{every_months} is more than {limit}")
    grace_days = node.optional_integer("grace_days", minimum=0)
    return MonitoringRule(
        every_months=every_months,
        grace_days=monitoring.default_grace_days if grace_days is None else grace_days,
    )


def _baseline_rule(node: Node, authorization: AuthorizationRules) -> BaselineRule | None:
    if not node.has("baseline"):
        _refuse_without(node, *_BASELINE_KEYS)
        return None
    courses = node.choice("baseline", (EVERY_COURSE, FIRST_COURSE))
    days = node.optional_integer("baseline_max_age_days")
    months = node.optional_integer("baseline_max_age_months")
    if days is not None and months is not None:
        raise node.error("baseline_max_age_days", "cannot be combined with baseline_max_age_months")
    if months is None:
        days = authorization.baseline_max_age_days if days is None else days
    return BaselineRule(courses=courses, max_age_days=days, max_age_months=months)


def _refuse_without(node: Node, needed: str, *keys: str) -> None:
    for key in keys:
        if node.has(key):
            raise node.error(key, f"only allowed together with {needed}")


def _document(node: Node) -> ProgramDocument:
    node.refuse_unknown("code", "title", "required")
    return ProgramDocument(
        code=node.identifier("code"), title=node.text("title"), required=node.flag("required")
    )


def _patient(node: Node) -> PatientRules:
    node.refuse_unknown("max_age_years", "sexes", "close_reasons")
    return PatientRules(
        max_age_years=node.integer("max_age_years"),
        sexes=node.texts("sexes", identifiers=True),
        close_reasons=node.texts("close_reasons", identifiers=True),
    )


def _adverse_events(node: Node) -> AdverseEventRules:
    node.refuse_unknown("reaction_grades", "categories")
    reaction_grades = node.texts("reaction_grades", min_count=2, identifiers=True)
    categories = node.each("categories", _category, "code", "category code")
    return AdverseEventRules(categories=categories, reaction_grades=reaction_grades)


def _category(node: Node) -> AdverseEventCategory:
    node.refuse_unknown("code", "label")
    return AdverseEventCategory(code=node.identifier("code"), label=node.text("label"))
