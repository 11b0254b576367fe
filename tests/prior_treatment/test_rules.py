"""Prior-course rules: each date on its own, the dates together, the source document."""

from __future__ import annotations

from datetime import date

from rems.prior_treatment.rules import course_problems, dose_date_problem, source_problem

TODAY = date(2026, 11, 24)
BORN = date(1980, 5, 1)


def check(day: date, after: date | None = None) -> str | None:
    return dose_date_problem(day, today=TODAY, born=BORN, after=after)


def test_today_is_allowed_and_tomorrow_is_not():
    assert check(TODAY) is None
    assert "cannot be after today" in check(date(2026, 11, 25))


def test_a_dose_before_birth_is_refused_and_on_the_birthday_is_not():
    assert "date of birth" in check(date(1980, 4, 30))
    assert check(BORN) is None


def test_a_later_course_starts_after_the_previous_one_ended():
    ended = date(2024, 3, 8)
    assert "ended on 2024-03-08" in check(ended, after=ended)
    assert check(date(2024, 3, 9), after=ended) is None


def test_the_dates_together():
    assert course_problems([], 5, 1) == ["Enter the date of at least one dose given."]
    days = [date(2024, 3, d) for d in range(4, 8)]
    assert course_problems(days, 3, 2) == ["Course 2 has 3 doses: 4 dates were given."]
    assert "same day" in course_problems([days[0], days[0]], 5, 1)[0]
    assert course_problems(days, 5, 1) == []


def test_the_source_document_is_named_briefly_and_not_as_a_formula():
    assert "Name the source document" in source_problem("  ")
    assert "at most 300" in source_problem("x" * 301)
    for formula in ("=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)"):
        assert "spreadsheet formula" in source_problem(formula)
    assert source_problem("Infusion record, Lakeside Neurology") is None
