"""A linkage attack on every de-identified export: holding the identified export of the same
report, try to link each de-identified row back to its patient by names, dates of birth, IDs
and record numbers, exact timestamps, time of day, dates and day counts. Nothing links.

The test knows the truth (it computes the keyed pseudonyms itself) and compares each
de-identified row with every identified row of the same patient: they must share nothing an
attacker could match on.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from rems.auth.models import Role
from rems.extensions import db
from rems.patients.models import Patient
from rems.reports.catalogue import REPORTS
from rems.reports.deidentify import Deidentifier
from rems.reports.services import deidentify_key
from tests.reports.world import build

DEIDENTIFIABLE = sorted(name for name, r in REPORTS.items() if r.about_patients)
TIME_OF_DAY = re.compile(r"\d{1,2}:\d{2}")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def world(app, factory, client, clock):
    made = build(app, factory, client, clock)
    clock.advance(days=100)  # monitoring items fall due and overdue
    return made


def _table(text: str) -> list[dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _days(value: str) -> set[date]:
    """The days a cell may name: its date, or a time's day in UTC and in New York."""
    if not value or not value[:4].isdigit():
        return set()
    if len(value) == 10:
        return {date.fromisoformat(value)}
    moment = datetime.fromisoformat(value)
    return {moment.date(), moment.astimezone(NEW_YORK).date()}


def _exports(auditor, name: str, today: date) -> tuple[list[dict], list[dict]]:
    args = {"format": "csv", "from": "2026-11-01", "to": today.isoformat()}
    identified, deidentified = (
        auditor.get(f"/reports/{name}/export", query_string=args | extra).get_data()
        for extra in ({}, {"deidentified": "1"})
    )
    return _table(identified.decode("utf-8-sig")), _table(deidentified.decode("utf-8-sig"))


def test_the_attack_finds_the_links_an_unprotected_export_gives(app, world, factory):
    """The checks below can fail: against the identified export itself every row links."""
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    identified, _ = _exports(auditor, "enrollments", _today(app))
    assert identified and all(_links(row, [row], REPORTS["enrollments"]) for row in identified)


@pytest.mark.parametrize("name", DEIDENTIFIABLE)
def test_no_deidentified_row_links_back_to_its_patient(app, world, factory, name):
    report = REPORTS[name]
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    identified, deidentified = _exports(auditor, name, _today(app))
    assert len(identified) == len(deidentified)
    by_key = _pseudonyms(app, report)
    patient = next(c.label for c in report.columns if c.patient_key)
    linked = []
    for row, theirs in _pairs(deidentified, identified, by_key, report):
        assert theirs or not row[patient], "every keyed row belongs to a patient"
        if _links(row, theirs, report):
            linked.append(row)
        assert not TIME_OF_DAY.search(",".join(row.values()))
    assert linked == []
    if name in ("enrollments", "authorizations", "gate-decision-list", "monitoring-overdue"):
        assert deidentified, name  # the world fills these, so the attack had rows to try


def _today(app) -> date:
    from rems.common.localtime import program_today

    with app.app_context():
        return program_today()


def _counterparts(row: dict, identified: list[dict], by_key: dict, report) -> list[dict]:
    """The identified rows `row` came from: the same patient, the same values in the columns
    de-identification leaves as they are (the test, the status …). Comparing a row with its
    own original, not with the patient's other rows, keeps a date that happens to fall on
    another of the patient's monthly tests from counting as a link."""
    patient = next(c.label for c in report.columns if c.patient_key)
    plain = [
        c.label for c in report.columns
        if not (c.identifier or c.patient_key or c.record_key or c.age or c.days_to_today)
        and c.kind not in ("date", "datetime")
    ]  # fmt: skip
    return [
        original for original in identified
        if by_key.get(original[patient]) == row[patient]
        and all(original[label] == row[label] for label in plain)
    ]  # fmt: skip


def _pairs(deidentified: list[dict], identified: list[dict], by_key: dict, report):
    """Each de-identified row with the identified rows it may have come from. Both exports
    are in the same order and one patient's dates move together, so among a patient's rows
    that look alike the n-th de-identified one is the n-th identified one."""
    found = [_counterparts(row, identified, by_key, report) for row in deidentified]
    taken: dict[str, int] = {}
    for row, theirs in zip(deidentified, found, strict=True):
        if len(theirs) > 1 and sum(other == theirs for other in found) == len(theirs):
            group = repr(theirs)
            taken[group] = taken.get(group, -1) + 1
            theirs = [theirs[taken[group]]]
        yield row, theirs


def _pseudonyms(app, report) -> dict[str, str]:
    """REMS ID → the key the de-identified export gives it."""
    with app.app_context():
        scrub = Deidentifier(report.columns, deidentify_key())
        ids = db.session.scalars(sa.select(Patient.rems_id)).all()
        return {rems_id: scrub.pseudonym(rems_id) for rems_id in ids}


def _links(row: dict[str, str], theirs: list[dict[str, str]], report) -> bool:
    """Whether anything in `row` matches one of the patient's identified rows."""
    cells = [v for v in row.values() if v]
    return any(
        _matches(column, original[column.label], row, cells)
        for original in theirs
        for column in report.columns
        if original.get(column.label)
    )


def _matches(column, value: str, row: dict[str, str], cells: list[str]) -> bool:
    """Whether one identified value can be found in the de-identified row."""
    keyed = column.identifier or column.patient_key or column.record_key
    timed = column.kind == "datetime"
    if (keyed or timed) and any(value in cell for cell in cells):
        return True  # a name, a date of birth, an ID, a record number, an exact timestamp
    if timed and _time_of_day(value, cells):
        return True  # the time of day
    shown = row.get(column.label) or row.get(_shifted(column.label), "")
    if column.kind in ("date", "datetime") and _days(value) & _days(shown):
        return True  # the same day
    return column.days_to_today and row.get(column.label) == value  # the same count of days


def _time_of_day(value: str, cells: list[str]) -> bool:
    clock = re.search(r"T(\d{2}:\d{2})", value)
    return bool(clock) and any(clock.group(1) in cell for cell in cells)


def _shifted(label: str) -> str:
    return label.replace(" (UTC)", "") + " (shifted day)"


def test_shifts_are_whole_days_and_counts_follow_the_shifted_dates(app, world, factory):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    today = _today(app)
    _, rows = _exports(auditor, "monitoring-overdue", today)
    assert rows
    for row in rows:
        since = date.fromisoformat(row["Overdue since (shifted day)"])
        # The count runs from the shifted day to the report's day (as the identified one runs
        # from the real day): it tells nothing the shifted date does not.
        assert since + timedelta(days=int(row["Days overdue"])) == today + timedelta(days=1)


def test_nothing_in_the_demo_links_back_either(app, runner, client):
    """The demo's history (months of monitoring, decisions, authorizations): every row of every
    de-identified export, tried against the identified one."""
    from rems.demo.accounts import DEMO_PASSWORD
    from tests.factories import sign_in

    assert runner.invoke(args=["rems", "demo"]).exit_code == 0
    sign_in(client, "auditor", DEMO_PASSWORD)
    today = _today(app)
    tried = 0
    for name in DEIDENTIFIABLE:
        report = REPORTS[name]
        args = {"format": "csv", "from": (today - timedelta(days=3000)).isoformat(),
                "to": today.isoformat()}  # fmt: skip
        identified, deidentified = (
            _table(client.get(f"/reports/{name}/export", query_string=args | extra)
                   .get_data().decode("utf-8-sig"))
            for extra in ({}, {"deidentified": "1"})
        )  # fmt: skip
        by_key = _pseudonyms(app, report)
        patient = next(c.label for c in report.columns if c.patient_key)
        for row, theirs in _pairs(deidentified, identified, by_key, report):
            assert theirs or not row[patient], (name, row)
            assert not _links(row, theirs, report), (name, row)
            tried += 1
    assert tried > 26
