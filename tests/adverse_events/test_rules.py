"""The report and review rules: every problem named on its field."""

from __future__ import annotations

from datetime import date

from rems.adverse_events.rules import (
    Report,
    ReportContext,
    follow_up_problems,
    report_due_on,
    report_problems,
    review_problems,
)

TODAY = date(2026, 11, 24)
CONTEXT = ReportContext(
    categories=("infusion_reaction", "immune_thrombocytopenia"), today=TODAY, born=date(1980, 1, 1)
)


def report(**changes) -> Report:
    values = {
        "category": "immune_thrombocytopenia",
        "onset_on": TODAY,
        "serious": True,
        "outcome": "recovering",
        "reporter": "Dr. Lee, hematologist",
        "description": "",
        "aware_on": TODAY,
        "criteria": ("hospitalisation",),
    }
    return Report(**(values | changes))


def test_a_complete_report_has_no_problem_and_onset_today_is_allowed():
    assert report_problems(report(), CONTEXT) == {}


def test_every_problem_at_once_on_its_field():
    bad = report(
        category="flu", onset_on=None, serious=None, outcome="better", reporter=" ", aware_on=None,
        criteria=(),
    )  # fmt: skip
    assert set(report_problems(bad, CONTEXT)) == {
        "category", "onset_on", "aware_on", "serious", "outcome", "reporter",
    }  # fmt: skip


def test_onset_tomorrow_or_before_birth_is_refused():
    tomorrow = report_problems(report(onset_on=date(2026, 11, 25)), CONTEXT)
    assert tomorrow == {
        "onset_on": ["Onset date: cannot be after today (2026-11-24 at the practice)."]
    }
    unborn = report_problems(report(onset_on=date(1979, 12, 31)), CONTEXT)
    assert "before the patient's date of birth" in unborn["onset_on"][0]


def test_an_infusion_site_reports_reactions_to_the_infusion_only():
    site = ReportContext(CONTEXT.categories, TODAY, CONTEXT.born, infusion_on=date(2026, 11, 20))
    assert "infusion reactions only" in report_problems(report(), site)["category"][0]
    early = report(category="infusion_reaction", onset_on=date(2026, 11, 19))
    assert "2026-11-20 or later" in report_problems(early, site)["onset_on"][0]
    same_day = report(category="infusion_reaction", onset_on=date(2026, 11, 20))
    assert report_problems(same_day, site) == {}


def test_too_long_texts_are_refused():
    problems = report_problems(report(reporter="x" * 201, description="y" * 4001), CONTEXT)
    assert set(problems) == {"reporter", "description"}


def test_only_a_serious_unreviewed_event_is_reviewed_with_a_note():
    assert "Only a serious" in review_problems(serious=False, reviewed=False, note="ok")["note"][0]
    assert "already" in review_problems(serious=True, reviewed=True, note="ok")["note"][0]
    assert "Write what" in review_problems(serious=True, reviewed=False, note="  ")["note"][0]
    assert review_problems(serious=True, reviewed=False, note="Followed up.") == {}


def test_the_awareness_date_is_not_after_today_nor_before_the_onset():
    late = report_problems(report(aware_on=date(2026, 11, 25)), CONTEXT)
    assert late == {
        "aware_on": ["Awareness date: cannot be after today (2026-11-24 at the practice)."]
    }
    early = report(onset_on=date(2026, 11, 10), aware_on=date(2026, 11, 9))
    assert report_problems(early, CONTEXT) == {
        "aware_on": ["The awareness date is before the onset date (2026-11-10)."]
    }
    missing = report_problems(report(aware_on=None), CONTEXT)
    assert "Enter the date you became aware" in missing["aware_on"][0]


def test_a_serious_event_names_its_criteria_and_a_non_serious_one_none():
    assert "at least one" in report_problems(report(criteria=()), CONTEXT)["criteria"][0]
    not_serious = report(serious=False, criteria=("death",))
    assert "non-serious" in report_problems(not_serious, CONTEXT)["criteria"][0]
    assert "Unknown" in report_problems(report(criteria=("bad",)), CONTEXT)["criteria"][0]
    assert report_problems(report(serious=False, criteria=()), CONTEXT) == {}


def test_the_serious_event_is_due_fifteen_calendar_days_after_awareness():
    assert report_due_on(date(2026, 12, 20), 15) == date(2027, 1, 4)


def test_a_follow_up_is_dated_between_awareness_and_today_with_a_note():
    def check(**changes):
        values = {
            "received_on": TODAY, "note": "Platelets back to 150.", "outcome": None,
            "aware_on": date(2026, 11, 1), "today": TODAY, "where": "the practice",
        }  # fmt: skip
        return follow_up_problems(**(values | changes))

    assert check() == {}
    assert set(check(received_on=None, note=" ", outcome="better")) == {
        "received_on", "details", "outcome",
    }  # fmt: skip
    assert "before the awareness date" in check(received_on=date(2026, 10, 31))["received_on"][0]
    assert "cannot be after today" in check(received_on=date(2026, 11, 25))["received_on"][0]
