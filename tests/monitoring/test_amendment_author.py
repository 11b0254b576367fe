"""Each amendment of a result says who made it, when and why: on the patient's page, on the
amend page, and in the amended-results report and its exports."""

from __future__ import annotations

import csv

import sqlalchemy as sa

from rems.auth.models import Role, User
from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.program.model import add_months
from tests.factories import csrf_token
from tests.monitoring.helpers import move_to, treated_patient
from tests.monitoring.test_pages import _record
from tests.patients.helpers import add_delegate


def _full_name(app, username: str) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.full_name).where(User.username == username))


def _amend_as(client, app, day: str, reason: str) -> str:
    """The delegate corrects the only result's value; returns the amend page's path."""
    with app.app_context():
        result_id = db.session.scalar(sa.select(LabResult.id))
    path = f"/results/{result_id}/amend"
    form = {"csrf_token": csrf_token(client, path), "test": "cbc", "collected_on": day,
            "value": "5.4", "unit": "", "reason": reason}  # fmt: skip
    assert client.post(path, data=form).status_code == 302
    return path


def test_an_amendment_shows_who_made_it_when_and_why(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1))
    doctor = factory.signed_in(treated.world.prescriber.user)
    rems_id, day = treated.world.patient.rems_id, clock.now().date().isoformat()
    _record(doctor, rems_id, collected_on=day, value="5.1")
    delegate = add_delegate(app, factory, treated.world.prescriber)
    path = _amend_as(factory.signed_in(delegate), app, day, "Lab sent a corrected report")
    who = _full_name(app, delegate.username)

    page = doctor.get(f"/patients/{rems_id}").get_data(as_text=True)
    note = page.split('class="help amendment"', 1)[1].split("</p>", 1)[0]
    assert f"Amended {day}" in note and f"by {who}: was cbc {day} 5.1" in note
    assert "Reason: Lab sent a corrected report" in note
    assert f"by {who}: was cbc" in doctor.get(path).get_data(as_text=True)

    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    period = {"from": day, "to": day}
    shown = auditor.get("/reports/result-amendments", query_string=period).get_data(as_text=True)
    assert f"{who} ({delegate.username})" in shown and "Lab sent a corrected report" in shown
    exported = auditor.get(
        "/reports/result-amendments/export", query_string=period | {"format": "csv"}
    ).get_data(as_text=True)
    lines = exported.lstrip("\ufeff").splitlines()
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    assert len(rows) == 1
    row = rows[0]
    assert row["REMS patient ID"] == rems_id and row["Amended by"] == f"{who} ({delegate.username})"
    assert row["Amended at (UTC)"].startswith(day)
    assert row["Reason"] == "Lab sent a corrected report"
    assert (row["Value before"], row["Value after"]) == ("5.1", "5.4")
