"""Certification rules: every transition, allowed and refused; expiry; renewal; grading."""

from __future__ import annotations

from datetime import date

import pytest

from rems.certification.models import CertStatus as S
from rems.certification.rules import (
    TRANSITIONS,
    Transition,
    TransitionRefused,
    certification_period,
    effective_status,
    expiring_soon,
    grade_assessment,
    may_start_renewal,
    next_status,
)
from rems.common.identifiers import (
    check_character,
    is_valid_identifier,
    ncpdp_is_valid,
    new_identifier,
    npi_is_valid,
)
from rems.program import DEFAULT_PROGRAM_FILE, load_program

ALLOWED = {
    (S.DRAFT, Transition.SUBMIT): S.SUBMITTED,
    (S.EXPIRED, Transition.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, Transition.CERTIFY): S.CERTIFIED,
    (S.SUBMITTED, Transition.REJECT): S.DRAFT,
    (S.CERTIFIED, Transition.SUSPEND): S.SUSPENDED,
    (S.SUSPENDED, Transition.REINSTATE): S.CERTIFIED,
    (S.SUBMITTED, Transition.REVOKE): S.REVOKED,
    (S.CERTIFIED, Transition.REVOKE): S.REVOKED,
    (S.SUSPENDED, Transition.REVOKE): S.REVOKED,
    (S.EXPIRED, Transition.REVOKE): S.REVOKED,
    (S.CERTIFIED, Transition.EXPIRE): S.EXPIRED,
    (S.SUSPENDED, Transition.EXPIRE): S.EXPIRED,
}
EVERY_PAIR = [(status, transition) for status in S for transition in Transition]


@pytest.mark.parametrize(("status", "transition"), EVERY_PAIR)
def test_every_status_and_transition(status, transition):
    if (status, transition) in ALLOWED:
        assert next_status(status, transition) == ALLOWED[status, transition]
    else:
        with pytest.raises(TransitionRefused, match=f"Cannot {transition.value}"):
            next_status(status, transition)


def test_the_table_is_exactly_the_allowed_set():
    table = {(s, t) for t, (sources, _) in TRANSITIONS.items() for s in sources}
    assert table == set(ALLOWED)


def test_revoked_is_final():
    assert all((S.REVOKED, t) not in ALLOWED for t in Transition)


def test_a_past_end_date_reads_as_expired():
    last_day = date(2026, 11, 30)
    assert effective_status(S.CERTIFIED, last_day, date(2026, 11, 30)) == S.CERTIFIED
    assert effective_status(S.CERTIFIED, last_day, date(2026, 12, 1)) == S.EXPIRED
    assert effective_status(S.SUSPENDED, last_day, date(2026, 12, 1)) == S.EXPIRED
    assert effective_status(S.REVOKED, last_day, date(2026, 12, 1)) == S.REVOKED


def test_certification_lasts_24_months_and_early_renewal_loses_no_days():
    assert certification_period(date(2026, 11, 24), None, False, 24) == (
        date(2026, 11, 24),
        date(2028, 11, 23),
    )
    assert certification_period(date(2028, 11, 1), date(2028, 11, 23), True, 24) == (
        date(2028, 11, 24),
        date(2030, 11, 23),
    )


def test_warning_window_is_the_last_30_days():
    end = date(2026, 12, 31)
    assert not expiring_soon(S.CERTIFIED, end, date(2026, 12, 1), 30)  # 30 days left
    assert expiring_soon(S.CERTIFIED, end, date(2026, 12, 2), 30)  # 29 days left
    assert not expiring_soon(S.SUSPENDED, end, date(2026, 12, 2), 30)
    assert may_start_renewal(S.CERTIFIED, end, date(2026, 12, 2), 30)
    assert not may_start_renewal(S.CERTIFIED, end, date(2026, 12, 1), 30)
    assert may_start_renewal(S.CERTIFIED, end, date(2027, 1, 1), 30)  # expired
    assert not may_start_renewal(S.SUBMITTED, None, date(2026, 12, 1), 30)


def test_grading_needs_every_answer_right():
    program = load_program(DEFAULT_PROGRAM_FILE)
    questions = program.assessment.questions
    right = {q.id: q.answer for q in questions}
    assert grade_assessment(questions, right, program.assessment.pass_mark).passed
    one_wrong = {**right, questions[0].id: "nonsense"}
    grade = grade_assessment(questions, one_wrong, program.assessment.pass_mark)
    assert (grade.score, grade.passed, grade.wrong) == (7, False, (questions[0].id,))
    assert grade_assessment(questions, {}, 8).score == 0


def test_npi_check_digit():
    assert npi_is_valid("1234567893")
    assert not npi_is_valid("1234567890")
    assert not npi_is_valid("123456789")
    assert not npi_is_valid("12345678a3")


def test_ncpdp_check_digit():
    assert ncpdp_is_valid("1234563")
    assert not ncpdp_is_valid("1234567")
    assert not ncpdp_is_valid("123456")


def test_program_identifiers_catch_typos():
    identifier = new_identifier("S")
    assert is_valid_identifier(identifier, "S")
    assert is_valid_identifier(identifier.lower(), "S")
    assert not is_valid_identifier(identifier, "P")
    body = identifier[:-1]
    for position in range(1, len(body)):
        for replacement in "0123456789ABCDEFGHJKMNPQRSTVWXYZ":
            if replacement != body[position]:
                typo = body[:position] + replacement + body[position + 1 :]
                assert not is_valid_identifier(typo + check_character(body), "S")
