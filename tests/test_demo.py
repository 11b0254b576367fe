"""`flask rems demo`: every account it made is listed, a re-run prints the current state, the
tour's infusion can be recorded on the day the demo is loaded, the demo holds a deviation
with its case and drafted action and a visit not infused, and --reset starts over."""

from __future__ import annotations

import re

import sqlalchemy as sa

from rems.auth import users
from rems.auth.models import User
from rems.authorizations.models import Authorization
from rems.common.clock import today
from rems.courses.models import Course, CourseStatus
from rems.demo.accounts import DEMO_PASSWORD, DEMO_USERS
from rems.demo.parties import SITES
from rems.extensions import db
from tests.factories import csrf_token, sign_in

CHECKS = (
    "identity_verified",
    "no_active_infection",
    "corticosteroid_premedication",
    "antiviral_prophylaxis",
)


def _demo(runner, *args, **kwargs):
    result = runner.invoke(args=["rems", "demo", *args], **kwargs)
    assert result.exit_code == 0, result.output
    return result.output


def _account_lines(output: str) -> dict[str, str]:
    section = output.split("Demo accounts", 1)[1].split("Prescribers and sites", 1)[0]
    return {line.split()[0]: line for line in section.splitlines()[1:] if line.strip()}


def test_every_account_the_demo_makes_is_listed_with_its_state(runner):
    staff = [member for *_, member in SITES.values() if member]
    accounts = _account_lines(_demo(runner))
    assert {"pharmacy.tech", "infusion.nurse"} <= set(staff)
    assert set(accounts) == {row[0] for row in DEMO_USERS} | set(staff)
    assert "Riverside Specialty Pharmacy" in accounts["pharmacy.tech"]
    assert all(line.endswith("created") for line in accounts.values())
    again = _account_lines(_demo(runner))
    assert all(line.endswith("already there") for line in again.values())


def test_a_rerun_prints_the_current_states(app, runner, clock):
    first = _demo(runner)
    assert "course 1 in_progress, 2 of 5 doses given" in first
    with app.app_context():
        number = db.session.scalar(sa.select(Authorization.number).order_by(Authorization.id))
    assert f"authorization {number} for" in first and "partially_used" in first
    clock.advance(days=30)
    later = _demo(runner)
    assert f"authorization {number} for" in later
    line = next(x for x in later.splitlines() if f"authorization {number}" in x)
    assert ": expired," in line  # past its last day: what a reader sees today
    assert "Loaded now" not in later


def test_the_readme_tour_records_todays_dose_on_the_day_the_demo_is_loaded(app, runner, clock):
    clock.advance(days=400)  # whatever the day, the demo's dates are counted back from it
    _demo(runner)
    with app.app_context():
        day = today().isoformat()
        number = db.session.scalar(
            sa.select(Authorization.number)
            .join(Course, Course.id == Authorization.course_id)
            .where(Course.status == CourseStatus.IN_PROGRESS)
        )
    clock.current = clock.current.replace(hour=23)  # 18:00 at the site: the dose is over
    nurse = app.test_client()
    assert sign_in(nurse, "infusion.nurse", DEMO_PASSWORD).status_code == 302
    assert f"/infusions/{number}/record" in nurse.get("/infusions").get_data(as_text=True)
    path = f"/infusions/{number}/record"
    values = {
        "administered_on": day,
        **dict.fromkeys(CHECKS, "y"),
        "infusion_started_at": f"{day}T09:00",
        "infusion_ended_at": f"{day}T13:00",
        "observation_ended_at": f"{day}T15:00",
        "reaction": "none",
    }
    response = nurse.post(path, data={"csrf_token": csrf_token(nurse, path), **values})
    assert response.status_code == 302, response.get_data(as_text=True)
    page = nurse.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dose 3 of course 1 is recorded" in page


def test_the_demo_holds_a_deviation_with_its_drafted_action_and_a_visit_not_infused(
    app, runner, clock
):
    _demo(runner)
    rep = app.test_client()
    assert sign_in(rep, "infusion.rep", DEMO_PASSWORD).status_code == 302
    dashboard = rep.get("/dashboard").get_data(as_text=True)
    assert "Your open non-compliance cases (1)" in dashboard
    case_path = re.search(r'href="(/compliance/cases/\d+)"', dashboard).group(1)
    case = rep.get(case_path).get_data(as_text=True)
    assert "Observation short" in case and "observed minutes: 90" in case
    assert "An evening charge nurse is named on every shift" in case  # the drafted action
    admin = app.test_client()
    assert sign_in(admin, "admin", DEMO_PASSWORD).status_code == 302
    assert "Record the review" in admin.get(case_path).get_data(as_text=True)
    with app.app_context():
        number = db.session.scalar(sa.select(Authorization.number).order_by(Authorization.id))
    nurse = app.test_client()
    assert sign_in(nurse, "infusion.nurse", DEMO_PASSWORD).status_code == 302
    page = nurse.get(f"/authorizations/{number}").get_data(as_text=True)
    assert "not infused (patient declined)" in page and "Deviation: observation short" in page


def test_reset_asks_first_then_starts_over(app, runner):
    _demo(runner)
    with app.app_context():
        extra = users.find_user(db.session, "nurse.lee")
        extra.full_name = "Changed After The Demo"
        db.session.commit()
    refused = runner.invoke(args=["rems", "demo", "--reset"], input="n\n")
    assert refused.exit_code != 0 and "Delete ALL data" in refused.output
    with app.app_context():
        assert users.find_user(db.session, "nurse.lee").full_name == "Changed After The Demo"
    output = _demo(runner, "--reset", "--yes")
    assert "rebuilt it from the migrations" in output
    assert all(line.endswith("created") for line in _account_lines(output).values())
    with app.app_context():
        assert users.find_user(db.session, "nurse.lee").full_name == "Morgan Lee"
        count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        assert count == len(_account_lines(output))
