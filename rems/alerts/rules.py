"""Whether an alert rule of the program file fires on a value: pure, compared in the analyte's
stored unit. Boundaries as the rules read: "below 100" does not fire at 100, "at least 1.5 ×
baseline" fires at 1.5 ×, "above range" and "above 3 × the upper limit" do not fire on the limit."""

from __future__ import annotations

from datetime import date

from rems.program.analytes import (
    ABOVE_RANGE,
    BASELINE_TIMES,
    BELOW,
    OUTSIDE_RANGE,
    UPPER_TIMES,
    AlertRule,
    Analyte,
)
from rems.program.model import add_months


def _exact(number: float) -> float:
    """A product without binary noise (1.5 × 0.9 is 1.35, not 1.3500000000000001)."""
    return float(f"{number:.10g}")


def fires(rule: AlertRule, analyte: Analyte, value: float, baseline: float | None) -> str | None:
    """What the value was compared with when the rule fires ("below 100 10*9/L"); None if not.
    A baseline rule without a baseline (no value before the course's first dose) never fires."""
    low, high = analyte.reference
    unit = analyte.unit
    if rule.when == BELOW and value < rule.threshold:
        return f"below {rule.threshold:g} {unit}"
    if rule.when == BASELINE_TIMES and baseline is not None and baseline > 0:
        limit = _exact(rule.factor * baseline)
        if value >= limit:
            return f"at least {rule.factor:g} × baseline {baseline:g} {unit} ({limit:g} {unit})"
    if rule.when == ABOVE_RANGE and value > high:
        return f"above the reference range (upper limit {high:g} {unit})"
    if rule.when == OUTSIDE_RANGE and not low <= value <= high:
        return f"outside the reference range {low:g}–{high:g} {unit}"
    if rule.when == UPPER_TIMES:
        limit = _exact(rule.factor * high)
        if value > limit:
            return f"above {rule.factor:g} × the upper limit {high:g} {unit} ({limit:g} {unit})"
    return None


def course_start(doses: list[date], collected_on: date) -> date | None:
    """The first dose of the course under way on `collected_on`: the latest dose on or before it
    that follows no dose in the month before (a course's doses are days apart, courses a year).
    None before the first dose."""
    start = None
    previous = None
    for day in sorted(doses):
        if day > collected_on:
            break
        if previous is None or add_months(previous, 1) < day:
            start = day
        previous = day
    return start
