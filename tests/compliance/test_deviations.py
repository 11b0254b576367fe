"""Each protocol deviation end to end over the API: refused with the list until confirmed, then
stored with the dose, flagged, counted as a dose (course count, monitoring schedule) and
answered for in a case against the right party; one open case per party, escalation at the
program's count of major deviations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from rems.courses.models import Course
from rems.extensions import db
from rems.infusions.models import Infusion, InfusionDeviation
from rems.notifications.models import Notification
from rems.prescribers.models import Prescriber
from rems.sites.models import Site
from tests.authorizations.helpers import authorize, gate, on_day
from tests.compliance.helpers import cases, grant, infuse
from tests.monitoring.helpers import stored_state
from tests.patients.pages import count_rows

CHECK_DEVIATIONS = {
    "premedication_missing": {"corticosteroid_premedication": False},
    "antiviral_missing": {"antiviral_prophylaxis": False},
    "identity_not_verified": {"identity_verified": False},
    "infused_despite_infection": {"no_active_infection": False},
}


def _course(app) -> Course:
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        db.session.expunge(course)
        return course


def _stored_codes(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(InfusionDeviation.code)))


def _confirm_then_store(app, client, world, number, day, **changes):
    """Without confirmation 422 listing the deviation and nothing stored; then 201."""
    refused = infuse(client, world, number, day, acknowledged=False, **changes)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "deviations_not_acknowledged"
    before = count_rows(app, Infusion)
    stored = infuse(client, world, number, day, acknowledged=True, **changes)
    assert stored.status_code == 201, stored.get_json()
    assert count_rows(app, Infusion) == before + 1
    return refused.get_json()["error"]["details"]["deviations_acknowledged"], stored.get_json()


def _site_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Site.id).where(Site.site_code == code))


@pytest.mark.parametrize("code", [*CHECK_DEVIATIONS, "observation_short"])
def test_a_check_deviation_is_a_dose_and_the_site_answers_for_it(app, factory, clock, code):
    world = gate(app, factory)
    client = app.test_client()
    number = grant(client, world)
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    changes = CHECK_DEVIATIONS.get(code, {"observation_ended_at": f"{day}T07:30:00Z"})
    listed, body = _confirm_then_store(app, client, world, number, day, **changes)
    assert any(line.startswith(f"{code} (") for line in listed)
    assert [d["code"] for d in body["deviations"]] == [code]
    assert body["dose_number"] == 1 and _course(app).doses_given == 1
    assert stored_state(app, world.patient.id)["cbc"].anchor_on == day  # the schedule's anchor
    (case,) = cases(app)
    assert (case.party, case.site_id, case.state) == (
        "site",
        _site_id(app, world.site_code),
        "open",
    )


def test_a_dose_beyond_the_authorizations_doses_is_the_pharmacys(app, factory, clock):
    world = gate(app, factory)
    client = app.test_client()
    number = grant(client, world, doses=1)
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    assert infuse(client, world, number, day, acknowledged=False).status_code == 201
    on_day(clock, day + timedelta(days=1))
    _, body = _confirm_then_store(app, client, world, number, day + timedelta(days=1))
    assert [d["code"] for d in body["deviations"]] == ["beyond_authorized_doses"]
    course = _course(app)
    assert (course.doses_given, course.doses_held, course.last_dose_on) == (
        2, 0, day + timedelta(days=1),
    )  # fmt: skip
    (case,) = cases(app)
    assert (case.party, case.site_id) == ("pharmacy", _site_id(app, world.pharmacy_code))


def test_a_dose_outside_the_validity_takes_no_other_authorizations_dose(app, factory, clock):
    world = gate(app, factory)
    client = app.test_client()
    first = grant(client, world, doses=1)
    clock.advance(days=8)  # the first authorization expired; its dose returned to the course
    second = grant(client, world, doses=4)
    day = clock.now().date()
    on_day(clock, day)
    _, body = _confirm_then_store(app, client, world, first, day)
    assert [d["code"] for d in body["deviations"]] == ["outside_validity"]
    course = _course(app)
    assert (course.doses_given, course.doses_held) == (1, 4)  # the second keeps its 4 doses
    on_day(clock, day + timedelta(days=1))  # the course has no dose the second does not hold
    again = infuse(client, world, first, day + timedelta(days=1), acknowledged=True)
    assert again.status_code == 409, again.get_json()
    assert "no dose left" in again.get_json()["error"]["message"]
    assert second and _stored_codes(app) == ["outside_validity"]


def test_a_late_first_dose_is_the_prescribers(app, factory, clock):
    world = gate(app, factory, with_course=False)
    authorize(app, world.patient, world.prescriber, start_in=0, baseline_age=29)
    client = app.test_client()
    number = grant(client, world)
    with app.app_context():
        first_dose_by = db.session.scalar(sa.select(Course.first_dose_by))
    day = first_dose_by + timedelta(days=1)
    on_day(clock, day)
    _, body = _confirm_then_store(app, client, world, number, day)
    assert [d["code"] for d in body["deviations"]] == ["first_dose_late"]
    (case,) = cases(app)
    with app.app_context():
        prescriber_id = db.session.scalar(sa.select(Prescriber.id))
    assert (case.party, case.prescriber_id, case.severity) == ("prescriber", prescriber_id, "minor")


def test_deviations_join_the_open_case_and_escalate_at_the_programs_count(app, factory, clock):
    world = gate(app, factory)
    client = app.test_client()
    number = grant(client, world)
    threshold = app.extensions["rems_program"].deviations.escalate_major_count
    start = clock.now().date() + timedelta(days=1)
    for n in range(threshold):
        day = start + timedelta(days=n)
        on_day(clock, day)
        short = {"observation_ended_at": f"{day}T07:00:00Z"}
        assert infuse(client, world, number, day, acknowledged=True, **short).status_code == 201
        (case,) = cases(app)  # one open case for the site, joined by every deviation
        assert (case.escalated_at is not None) is (n + 1 == threshold)
    with app.app_context():
        subjects = db.session.scalars(
            sa.select(Notification.body).where(Notification.kind == "compliance.case")
        ).all()
    assert any("consider suspending the party" in body for body in subjects)
    assert _stored_codes(app) == ["observation_short"] * threshold


def test_a_second_open_case_for_one_party_is_refused_by_the_database(app, factory, clock):
    from rems.common.clock import utcnow
    from rems.compliance.models import NonComplianceCase

    with app.app_context():
        for _ in range(2):
            db.session.add(NonComplianceCase(party="site", party_key="site:1", site_id=None,
                                             severity="minor", opened_at=utcnow()))  # fmt: skip
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()
