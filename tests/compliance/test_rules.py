"""The non-compliance decisions as pure functions: a corrective action's problems by field, a
review's, severities, and the escalation threshold."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rems.compliance.rules import (
    CorrectiveAction,
    action_problems,
    calls_for_escalation,
    higher_severity,
    review_problems,
)

TODAY = date(2026, 12, 1)


def proposal(**changes) -> CorrectiveAction:
    base = {"root_cause": "No timer", "action": "A timer at every chair",
            "due_on": TODAY + timedelta(days=30), "today": TODAY, "max_days": 90}  # fmt: skip
    return CorrectiveAction(**(base | changes))


def test_a_complete_action_has_no_problem_and_today_is_a_valid_due_date():
    assert action_problems(proposal()) == {}
    assert action_problems(proposal(due_on=TODAY)) == {}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"root_cause": "  "}, "root_cause", "root cause"),
        ({"action": ""}, "action", "corrective action"),
        ({"due_on": None}, "due_on", "due date"),
        ({"due_on": TODAY - timedelta(days=1)}, "due_on", "in the past"),
        ({"due_on": TODAY + timedelta(days=91)}, "due_on", "within 90 days"),
    ],
)
def test_each_problem_names_its_field(changes, field, words):
    problems = action_problems(proposal(**changes))
    assert list(problems) == [field] and words in problems[field][0]


def test_a_review_accepts_or_asks_for_more_with_a_note():
    assert review_problems("accepted", "") == {}
    assert list(review_problems("more_needed", " ")) == ["note"]
    assert review_problems("more_needed", "Train the night shift") == {}
    assert list(review_problems("maybe", "")) == ["outcome"]


def test_severities_and_the_escalation_threshold():
    assert higher_severity("minor", "major") == higher_severity("major", "minor") == "major"
    assert not calls_for_escalation(2, 3) and calls_for_escalation(3, 3)
