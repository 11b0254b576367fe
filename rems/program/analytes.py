"""The program file's coded results: `[[analytes]]` (each monitored test's analytes with LOINC
codes, UCUM units, reference and physiological ranges, accepted units), `[findings]` (tests
recorded as a structured finding) and the abnormal-result alerts (`[alerts]`, `[[alert_rules]]`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rems.program._fields import Node, describe

#: How an alert rule compares a value (see the program file).
BELOW, BASELINE_TIMES, ABOVE_RANGE, OUTSIDE_RANGE, UPPER_TIMES = (
    "below", "baseline_times", "above_range", "outside_range", "upper_times",
)  # fmt: skip
RULE_KINDS = (BELOW, BASELINE_TIMES, ABOVE_RANGE, OUTSIDE_RANGE, UPPER_TIMES)
_NEEDS = {BELOW: "threshold", BASELINE_TIMES: "factor", UPPER_TIMES: "factor"}


@dataclass(slots=True, frozen=True)
class Analyte:
    """One coded value of a test: stored in `unit`; `convert` maps each other accepted unit to
    the factor that turns it into `unit`."""

    test: str
    code: str
    name: str
    loinc: str
    unit: str
    reference: tuple[float, float]
    possible: tuple[float, float]
    convert: tuple[tuple[str, float], ...]

    def factor(self, unit: str) -> float | None:
        """The factor from `unit` to the stored unit; None when the unit does not convert."""
        if unit == self.unit:
            return 1.0
        return dict(self.convert).get(unit)

    @property
    def units(self) -> tuple[str, ...]:
        """Every unit accepted, the stored one first."""
        return (self.unit, *(name for name, _ in self.convert))


@dataclass(slots=True, frozen=True)
class AlertRule:
    """An abnormal-result rule on one analyte (`threshold` or `factor` as `when` needs)."""

    code: str
    analyte: str
    when: str
    label: str
    threshold: float | None = None
    factor: float | None = None


@dataclass(slots=True, frozen=True)
class CodedResults:
    """The analytes, the finding tests, the alert rules and their escalation delay."""

    analytes: tuple[Analyte, ...]
    finding_tests: tuple[str, ...]
    alert_rules: tuple[AlertRule, ...]
    escalate_after_days: int

    def of_test(self, test_code: str) -> tuple[Analyte, ...]:
        """The analytes of one test, in file order."""
        return tuple(a for a in self.analytes if a.test == test_code)

    def analyte(self, code: str) -> Analyte:
        """The analyte with this code; KeyError if there is none."""
        for analyte in self.analytes:
            if analyte.code == code:
                return analyte
        raise KeyError(f"no analyte {code!r}")


def load_coded_results(root: Node, test_codes: tuple[str, ...]) -> CodedResults:
    """The four sections, strict: analytes of known tests, rules on known analytes."""
    analytes = root.each("analytes", lambda n: _analyte(n, test_codes), "code", "analyte code")
    _unique_loinc(root, analytes)
    findings = root.table("findings")
    findings.refuse_unknown("tests")
    finding_tests = findings.texts("tests", identifiers=True)
    for index, code in enumerate(finding_tests):
        if code not in test_codes:
            raise findings.error(f"tests[{index}]", f"{code!r} is not a test code")
    alerts = root.table("alerts")
    alerts.refuse_unknown("escalate_after_days")
    codes = tuple(a.code for a in analytes)
    rules = root.each("alert_rules", lambda n: _rule(n, codes), "code", "alert rule code")
    return CodedResults(analytes, finding_tests, rules, alerts.integer("escalate_after_days"))


def _number(node: Node, key: str, value: Any = None) -> float:
    value = node.value(key) if value is None else value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise node.error(key, f"must be a number, got {describe(value)}")
    return float(value)


def _pair(node: Node, key: str) -> tuple[float, float]:
    value = node.value(key)
    if not isinstance(value, list) or len(value) != 2:
        raise node.error(key, f"must be [low, high], got {describe(value)}")
    low, high = (_number(node, key, item) for item in value)
    if low > high:
        raise node.error(key, f"low {low} is above high {high}")
    return low, high


def _analyte(node: Node, test_codes: tuple[str, ...]) -> Analyte:
    node.refuse_unknown("test", "code", "name", "loinc", "unit", "reference", "possible", "convert")
    convert = node.data.get("convert", {})
    if not isinstance(convert, dict):
        raise node.error("convert", f"must be a table of unit = factor, got {describe(convert)}")
    factors = tuple((str(unit), _number(node, f"convert.{unit}", f)) for unit, f in convert.items())
    if any(factor <= 0 for _, factor in factors):
        raise node.error("convert", "every factor must be above 0")
    analyte = Analyte(
        test=node.choice("test", test_codes), code=node.identifier("code"),
        name=node.text("name"), loinc=node.text("loinc"), unit=node.text("unit"),
        reference=_pair(node, "reference"), possible=_pair(node, "possible"), convert=factors,
    )  # fmt: skip
    low, high = analyte.possible
    if not (low <= analyte.reference[0] and analyte.reference[1] <= high):
        raise node.error("reference", "must lie within the possible range")
    return analyte


def _unique_loinc(root: Node, analytes: tuple[Analyte, ...]) -> None:
    seen: set[tuple[str, str]] = set()
    for index, analyte in enumerate(analytes):
        if (analyte.test, analyte.loinc) in seen:
            raise root.error(f"analytes[{index}].loinc", "appears twice for the same test")
        seen.add((analyte.test, analyte.loinc))


def _rule(node: Node, analytes: tuple[str, ...]) -> AlertRule:
    when = node.choice("when", RULE_KINDS)
    needed = _NEEDS.get(when)
    node.refuse_unknown("code", "analyte", "when", "label", *((needed,) if needed else ()))
    number = _number(node, needed) if needed else None
    return AlertRule(
        code=node.identifier("code"), analyte=node.choice("analyte", analytes), when=when,
        label=node.text("label"),
        threshold=number if needed == "threshold" else None,
        factor=number if needed == "factor" else None,
    )  # fmt: skip
