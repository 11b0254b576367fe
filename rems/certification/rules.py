"""Certification rules as pure functions: transitions, expiry, renewal, assessment grading."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from rems.certification.models import CertStatus
from rems.program.model import Question, add_months


class Transition(StrEnum):
    """What can happen to a party's certification."""

    SUBMIT = "submit"
    CERTIFY = "certify"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVOKE = "revoke"
    EXPIRE = "expire"


S = CertStatus
#: transition → (statuses it may start from, status it leads to). Anything else is refused.
TRANSITIONS: dict[Transition, tuple[frozenset[CertStatus], CertStatus]] = {
    Transition.SUBMIT: (frozenset({S.DRAFT, S.EXPIRED}), S.SUBMITTED),
    Transition.CERTIFY: (frozenset({S.SUBMITTED}), S.CERTIFIED),
    Transition.REJECT: (frozenset({S.SUBMITTED}), S.DRAFT),
    Transition.SUSPEND: (frozenset({S.CERTIFIED}), S.SUSPENDED),
    Transition.REINSTATE: (frozenset({S.SUSPENDED}), S.CERTIFIED),
    Transition.REVOKE: (frozenset({S.SUBMITTED, S.CERTIFIED, S.SUSPENDED, S.EXPIRED}), S.REVOKED),
    Transition.EXPIRE: (frozenset({S.CERTIFIED, S.SUSPENDED}), S.EXPIRED),
}
#: Transitions an administrator must give a reason for.
NEEDS_REASON = frozenset(
    {Transition.REJECT, Transition.SUSPEND, Transition.REINSTATE, Transition.REVOKE}
)


class TransitionRefused(Exception):
    """The transition is not allowed from the party's current status."""


def next_status(current: CertStatus, transition: Transition) -> CertStatus:
    """The status `transition` leads to from `current`, or TransitionRefused saying why not."""
    sources, target = TRANSITIONS[transition]
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise TransitionRefused(
            f"Cannot {transition.value} a party whose status is {current.value} "
            f"(only from: {allowed})."
        )
    return target


def effective_status(status: CertStatus, expires_on: date | None, today: date) -> CertStatus:
    """The status as of `today`: a certification past its last day is expired, job or no job."""
    lapsed = expires_on is not None and expires_on < today
    if lapsed and status in (S.CERTIFIED, S.SUSPENDED):
        return S.EXPIRED
    return status


def certification_period(
    today: date, current_expiry: date | None, still_certified: bool, months: int
) -> tuple[date, date]:
    """First and last day of a new certification. An early renewal starts the day after the
    current period ends, so renewing early never costs days."""
    start = current_expiry + timedelta(days=1) if still_certified and current_expiry else today
    return start, add_months(start, months) - timedelta(days=1)


def days_to_expiry(expires_on: date | None, today: date) -> int | None:
    """Days left, counting today (0 on the last day); None without a certification."""
    return None if expires_on is None else (expires_on - today).days


def expiring_soon(
    status: CertStatus, expires_on: date | None, today: date, warning_days: int
) -> bool:
    """Certified, and the end is within the warning window: the party should renew now."""
    left = days_to_expiry(expires_on, today)
    current = effective_status(status, expires_on, today)
    return current == S.CERTIFIED and left is not None and left < warning_days


def may_start_renewal(
    status: CertStatus, expires_on: date | None, today: date, warning_days: int
) -> bool:
    """A first enrollment, a renewal inside the warning window, or after expiry."""
    current = effective_status(status, expires_on, today)
    if current in (S.DRAFT, S.EXPIRED):
        return True
    return expiring_soon(status, expires_on, today, warning_days)


@dataclass(frozen=True, slots=True)
class Grade:
    """An assessment attempt's result."""

    score: int
    total: int
    passed: bool
    wrong: tuple[str, ...]


def grade_assessment(
    questions: Sequence[Question], answers: Mapping[str, str], pass_mark: int
) -> Grade:
    """Score the answers (question id → chosen text); unanswered questions count as wrong."""
    wrong = tuple(q.id for q in questions if not q.is_correct(answers.get(q.id, "")))
    score = len(questions) - len(wrong)
    return Grade(score=score, total=len(questions), passed=score >= pass_mark, wrong=wrong)
