"""Non-compliance decisions as pure functions: a corrective action's problems by field, a
review's, and whether a party's record of major deviations calls for escalation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

SEVERITY_ORDER = ("minor", "major")
REVIEW_OUTCOMES = ("accepted", "more_needed")


def higher_severity(first: str, second: str) -> str:
    """The more serious of two severities."""
    return max(first, second, key=SEVERITY_ORDER.index)


@dataclass(frozen=True, slots=True)
class CorrectiveAction:
    """What the party writes: the root cause, the action, and the day it is done by."""

    root_cause: str
    action: str
    due_on: date | None
    today: date
    max_days: int


def action_problems(proposal: CorrectiveAction) -> dict[str, list[str]]:
    """Every problem of a corrective action, by field; empty when it may be submitted."""
    problems: dict[str, list[str]] = {}
    if not proposal.root_cause.strip():
        problems["root_cause"] = ["Write the root cause: why the deviation happened."]
    if not proposal.action.strip():
        problems["action"] = ["Write the corrective action: what will change."]
    latest = proposal.today + timedelta(days=proposal.max_days)
    if proposal.due_on is None:
        problems["due_on"] = ["Enter the due date of the action (YYYY-MM-DD)."]
    elif proposal.due_on < proposal.today:
        problems["due_on"] = [f"The due date is in the past: it is {proposal.today} today."]
    elif proposal.due_on > latest:
        problems["due_on"] = [
            f"The action is due within {proposal.max_days} days: by {latest} at the latest."
        ]
    return problems


def review_problems(outcome: str, note: str) -> dict[str, list[str]]:
    """A review accepts the action or asks for more, saying what more."""
    if outcome not in REVIEW_OUTCOMES:
        return {"outcome": ["Choose: accepted or more needed."]}
    if outcome == "more_needed" and not note.strip():
        return {"note": ["Say what more the party must do."]}
    return {}


def calls_for_escalation(major_deviations_in_window: int, threshold: int) -> bool:
    """The party reached the program's count of major deviations within its window."""
    return major_deviations_in_window >= threshold
