"""The pure document rules: which version is current, and what a patient still must acknowledge."""

from __future__ import annotations

from datetime import date, timedelta

from rems.documents.rules import (
    VersionFact,
    current_versions,
    guides_acknowledged,
    missing_acknowledgments,
)

TODAY = date(2026, 11, 24)
MG, PG = "medication_guide", "patient_guide"
REQUIRED = (MG, PG)


def fact(version_id: int, code: str = MG, effective_on: date = TODAY) -> VersionFact:
    """A published version as the rules see it."""
    return VersionFact(version_id, code, f"v{version_id}", effective_on)


# ---------- current_versions ----------


def test_no_version_published_means_none_for_every_required_document():
    assert current_versions([], REQUIRED, TODAY) == {MG: None, PG: None}


def test_the_newest_effective_version_is_current():
    old = fact(1, effective_on=TODAY - timedelta(days=90))
    new = fact(2, effective_on=TODAY - timedelta(days=10))
    assert current_versions([new, old], [MG], TODAY)[MG] == new
    assert current_versions([old, new], [MG], TODAY)[MG] == new


def test_a_future_dated_version_is_not_current_yet():
    old = fact(1, effective_on=TODAY - timedelta(days=30))
    future = fact(2, effective_on=TODAY + timedelta(days=1))
    assert current_versions([old, future], [MG], TODAY)[MG] == old
    assert current_versions([future], [MG], TODAY)[MG] is None
    assert current_versions([old, future], [MG], TODAY + timedelta(days=1))[MG] == future


def test_a_version_effective_today_is_current_today():
    old = fact(1, effective_on=TODAY - timedelta(days=30))
    today = fact(2, effective_on=TODAY)
    assert current_versions([old, today], [MG], TODAY)[MG] == today
    assert current_versions([old, today], [MG], TODAY - timedelta(days=1))[MG] == old


def test_a_tie_on_the_effective_date_goes_to_the_higher_id():
    first = fact(3, effective_on=TODAY)
    second = fact(7, effective_on=TODAY)
    assert current_versions([second, first], [MG], TODAY)[MG] == second
    assert current_versions([first, second], [MG], TODAY)[MG] == second


def test_each_document_has_its_own_current_version_and_unlisted_ones_are_ignored():
    guide = fact(1, MG)
    patient_guide = fact(2, PG, effective_on=TODAY - timedelta(days=1))
    other = fact(3, "prescriber_letter")
    result = current_versions([guide, patient_guide, other], REQUIRED, TODAY)
    assert result == {MG: guide, PG: patient_guide}


# ---------- missing_acknowledgments and guides_acknowledged ----------


def _current(*facts: VersionFact) -> dict[str, VersionFact | None]:
    """The current versions today of the two required documents."""
    return current_versions(facts, REQUIRED, TODAY)


def test_a_required_document_with_no_version_is_missing():
    current = _current(fact(1, MG))
    assert missing_acknowledgments(current, [1], reacknowledge_on_new_version=True) == [PG]
    assert not guides_acknowledged(current, [1], reacknowledge_on_new_version=True)
    nothing = _current()
    assert missing_acknowledgments(nothing, [], reacknowledge_on_new_version=False) == [MG, PG]


def test_every_current_version_acknowledged_means_nothing_missing():
    current = _current(fact(1, MG), fact(2, PG))
    assert missing_acknowledgments(current, [1, 2], reacknowledge_on_new_version=True) == []
    assert guides_acknowledged(current, [2, 1], reacknowledge_on_new_version=True)
    assert missing_acknowledgments(current, [1], reacknowledge_on_new_version=True) == [PG]
    assert missing_acknowledgments(current, [], reacknowledge_on_new_version=True) == [MG, PG]


def test_a_new_version_needs_re_acknowledgment_when_the_program_asks_for_it():
    old = fact(1, MG, effective_on=TODAY - timedelta(days=60))
    new = fact(3, MG, effective_on=TODAY - timedelta(days=1))
    current = _current(old, new, fact(2, PG))
    acknowledged = dict(acknowledged_version_ids=[1, 2], acknowledged_codes=[MG, PG])
    missing = missing_acknowledgments(current, **acknowledged, reacknowledge_on_new_version=True)
    assert missing == [MG]
    assert not guides_acknowledged(current, **acknowledged, reacknowledge_on_new_version=True)


def test_an_earlier_version_is_enough_when_re_acknowledgment_is_off():
    old = fact(1, MG, effective_on=TODAY - timedelta(days=60))
    new = fact(3, MG, effective_on=TODAY - timedelta(days=1))
    current = _current(old, new, fact(2, PG))
    acknowledged = dict(acknowledged_version_ids=[1, 2], acknowledged_codes=[MG, PG])
    missing = missing_acknowledgments(current, **acknowledged, reacknowledge_on_new_version=False)
    assert missing == []
    assert guides_acknowledged(current, **acknowledged, reacknowledge_on_new_version=False)
    # …but a document never acknowledged at all is still missing.
    only_pg = dict(acknowledged_version_ids=[2], acknowledged_codes=[PG])
    assert missing_acknowledgments(current, **only_pg, reacknowledge_on_new_version=False) == [MG]


def test_a_new_version_effective_tomorrow_does_not_require_re_acknowledgment_today():
    old = fact(1, MG, effective_on=TODAY - timedelta(days=60))
    tomorrow = fact(3, MG, effective_on=TODAY + timedelta(days=1))
    versions = [old, tomorrow, fact(2, PG)]
    today = current_versions(versions, REQUIRED, TODAY)
    assert missing_acknowledgments(today, [1, 2], reacknowledge_on_new_version=True) == []
    next_day = current_versions(versions, REQUIRED, TODAY + timedelta(days=1))
    assert missing_acknowledgments(next_day, [1, 2], reacknowledge_on_new_version=True) == [MG]
