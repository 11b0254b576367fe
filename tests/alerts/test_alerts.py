"""Alerts raised with the result that fires them, told to the prescriber and delegates, shown
above the worklist, acknowledged with an action note, escalated after the program's days."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from rems.alerts.models import LabAlert
from rems.alerts.services import escalate_alerts
from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.common.errors import ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import LabResult, ResultValue
from rems.monitoring.results import amend_result
from rems.notifications.models import Notification
from rems.program.model import add_months
from tests.factories import csrf_token
from tests.monitoring.helpers import move_to, treated_patient
from tests.patients.helpers import add_delegate, certified_prescriber


def _post(client, token, rems_id, results):
    return client.post(
        f"/api/v1/patients/{rems_id}/results",
        json={"results": results},
        headers={"Authorization": f"Bearer {token}"},
    )


def _cbc(day, platelets, unit="10*9/L"):
    return {
        "test": "cbc", "collected_on": day.isoformat(),
        "values": [{"loinc": "777-3", "value": platelets, "unit": unit}],
    }  # fmt: skip


def _alerts(app) -> list[LabAlert]:
    with app.app_context():
        rows = db.session.scalars(sa.select(LabAlert).order_by(LabAlert.id)).all()
        db.session.expunge_all()
        return rows


def _messages(app, kind: str) -> list[int]:
    with app.app_context():
        statement = sa.select(Notification.recipient_id).where(Notification.kind == kind)
        return sorted(db.session.scalars(statement))


def _setup(app, factory, clock):
    treated = treated_patient(app, factory, clock)
    delegate = add_delegate(app, factory, treated.world.prescriber)
    token = factory.token(treated.world.prescriber.user)
    move_to(clock, add_months(treated.first_dose, 1))
    return treated, delegate, token


def test_low_platelets_raise_an_alert_for_the_prescriber_and_delegates(app, client, factory, clock):
    treated, delegate, token = _setup(app, factory, clock)
    day = clock.now().date()
    rems_id = treated.world.patient.rems_id
    answer = _post(
        client, token, rems_id, [_cbc(day, 100), _cbc(day - timedelta(days=1), 99000, "/uL")]
    )
    assert answer.status_code == 201, answer.get_json()
    alerts = _alerts(app)
    assert [(a.rule, a.value, a.unit) for a in alerts] == [("platelets_low", 99.0, "10*9/L")]
    assert _messages(app, "alert.raised") == sorted([treated.world.prescriber.user.id, delegate.id])
    with app.app_context():
        stored = db.session.scalars(sa.select(ResultValue).order_by(ResultValue.value)).all()
        assert [(v.value, v.reported_value, v.reported_unit) for v in stored] == [
            (99.0, 99000.0, "/uL"), (100.0, 100.0, "10*9/L"),
        ]  # fmt: skip
        raised = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "alert.raised"))
        assert raised is not None
        assert db.session.get(LabResult, alerts[0].result_id).abnormal is True


def test_creatinine_rises_against_the_baseline_before_the_first_dose(app, client, factory, clock):
    treated, _, token = _setup(app, factory, clock)
    rems_id = treated.world.patient.rems_id
    before = treated.first_dose - timedelta(days=3)
    day = clock.now().date()

    def creatinine(when, value, unit="mg/dL"):
        return {"test": "creatinine", "collected_on": when.isoformat(),
                "values": [{"loinc": "2160-0", "value": value, "unit": unit}]}  # fmt: skip

    assert _post(client, token, rems_id, [creatinine(before, 0.8)]).status_code == 201
    assert (
        _post(client, token, rems_id, [creatinine(day - timedelta(days=1), 1.19)]).status_code
        == 201
    )
    assert _alerts(app) == []  # 1.19 < 1.5 × 0.8 = 1.2, and within the reference range
    assert _post(client, token, rems_id, [creatinine(day, 106.1, "umol/L")]).status_code == 201
    (alert,) = _alerts(app)
    assert alert.rule == "creatinine_rise"
    assert alert.value == 1.2002032  # 106.1 µmol/L in mg/dL: exactly at 1.5 × would fire too
    assert "baseline 0.8 mg/dL" in alert.compared_with


def test_bad_values_are_refused_naming_the_field_and_nothing_is_stored(app, client, factory, clock):
    treated, _, token = _setup(app, factory, clock)
    day = clock.now().date()
    answer = _post(client, token, treated.world.patient.rems_id, [
        _cbc(day, 40),
        _cbc(day, 50000),
        _cbc(day, 150, "mg/dL"),
        {"test": "tsh", "collected_on": day.isoformat(),
         "values": [{"loinc": "777-3", "value": 2, "unit": "m[IU]/L"}]},
    ])  # fmt: skip
    assert answer.status_code == 422
    details = answer.get_json()["error"]["details"]
    assert set(details) == {
        "results.1.values.0.value", "results.2.values.0.unit", "results.3.values.0.loinc",
    }  # fmt: skip
    assert "not a possible Platelets value" in details["results.1.values.0.value"][0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LabResult)) == 0
    assert _alerts(app) == []


def test_an_old_client_without_values_still_records_results(app, client, factory, clock):
    treated, _, token = _setup(app, factory, clock)
    day = clock.now().date().isoformat()
    answer = _post(client, token, treated.world.patient.rems_id, [
        {"test": "cbc", "collected_on": day, "value": "5.1", "unit": "10^9/L", "abnormal": False},
    ])  # fmt: skip
    assert answer.status_code == 201
    assert _alerts(app) == []


def _alert_for(app, factory, clock, client):
    treated, delegate, token = _setup(app, factory, clock)
    answer = _post(client, token, treated.world.patient.rems_id, [_cbc(clock.now().date(), 40)])
    assert answer.status_code == 201
    return treated, delegate, _alerts(app)[0]


def test_an_alert_escalates_to_administrators_after_the_programs_days(app, client, factory, clock):
    treated, _, _ = _alert_for(app, factory, clock, client)
    with app.app_context():
        days = app.extensions["rems_program"].coded.escalate_after_days
    clock.advance(days=days, minutes=-1)
    with app.app_context(), writing():
        assert escalate_alerts(db.session, clock.now()) == 0
        db.session.commit()
    clock.advance(minutes=1)
    with app.app_context(), writing():
        assert escalate_alerts(db.session, clock.now()) == 1
        assert escalate_alerts(db.session, clock.now()) == 0  # once per alert
        db.session.commit()
    assert _messages(app, "alert.escalated") == [treated.world.admin.id]
    admin = factory.signed_in(treated.world.admin)
    panel = admin.get("/dashboard").get_data(as_text=True)
    assert 'id="needs-attention"' in panel and "escalated" in panel
    assert _alerts(app)[0].escalated_at is not None


def test_an_acknowledged_alert_does_not_escalate(app, client, factory, clock):
    _, delegate, alert = _alert_for(app, factory, clock, client)
    browser = factory.signed_in(delegate)
    path = f"/alerts/{alert.id}/acknowledge"
    token = csrf_token(browser, f"/alerts/{alert.id}")
    refused = browser.post(path, data={"csrf_token": token, "action_note": "  "})
    assert refused.status_code == 422
    assert "Say what was done about this result." in refused.get_data(as_text=True)
    done = browser.post(path, data={"csrf_token": token, "action_note": "Repeat count ordered."})
    assert done.status_code == 302
    (acknowledged,) = _alerts(app)
    assert (acknowledged.action_note, acknowledged.acknowledged_by_id) == (
        "Repeat count ordered.", delegate.id,
    )  # fmt: skip
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "alert.acknowledged")
        )
        assert event.reason == "Repeat count ordered."
    again = browser.post(path, data={"csrf_token": token, "action_note": "Twice."})
    assert again.status_code == 302 and _alerts(app)[0].action_note == "Repeat count ordered."
    clock.advance(days=30)
    with app.app_context(), writing():
        assert escalate_alerts(db.session, clock.now()) == 0
    assert "Repeat count ordered." not in browser.get("/dashboard").get_data(as_text=True)


def test_alerts_on_patients_not_yours_are_404(app, client, factory, clock):
    treated, _, alert = _alert_for(app, factory, clock, client)
    other = certified_prescriber(app, factory, treated.world.admin, "Okafor")
    stranger = factory.signed_in(other.user)
    assert stranger.get(f"/alerts/{alert.id}").status_code == 404
    token = csrf_token(stranger, "/alerts")
    answer = stranger.post(
        f"/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "action_note": "Mine?"}
    )
    assert answer.status_code == 404
    assert "Platelets below" not in stranger.get("/alerts").get_data(as_text=True)
    assert _alerts(app)[0].acknowledged_at is None


def test_the_alerts_report_counts_them(app, client, factory, clock):
    treated, _, _ = _alert_for(app, factory, clock, client)
    admin = factory.signed_in(treated.world.admin)
    day = clock.now().date().isoformat()
    page = admin.get(f"/reports/alerts?from={day}&to={day}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "platelets_low" in text and "Abnormal-result alerts by rule" in text


def test_a_coded_result_cannot_be_amended_into_another_test(app, client, factory, clock):
    treated, _, token = _setup(app, factory, clock)
    day = clock.now().date()
    assert _post(client, token, treated.world.patient.rems_id, [_cbc(day, 180)]).status_code == 201
    with app.app_context(), writing():
        result = db.session.scalar(sa.select(LabResult))
        actor = db.session.get(User, treated.world.prescriber.user.id)
        with pytest.raises(ValidationFailed) as refused:
            amend_result(
                db.session, actor, result, changes={"test": "tsh"}, reason="Wrong test.",
                today=day,
            )  # fmt: skip
        assert list(refused.value.errors) == ["test"]
        db.session.rollback()


def test_the_patients_timeline_shows_the_alert_and_who_acknowledged_it(app, client, factory, clock):
    treated, delegate, alert = _alert_for(app, factory, clock, client)
    browser = factory.signed_in(delegate)
    page = f"/patients/{treated.world.patient.rems_id}"
    raised = browser.get(page).get_data(as_text=True)
    assert "Alert raised: " in raised and "Alert acknowledged" not in raised
    token = csrf_token(browser, f"/alerts/{alert.id}")
    note = {"csrf_token": token, "action_note": "Haematology referral today."}
    browser.post(f"/alerts/{alert.id}/acknowledge", data=note)
    timeline = browser.get(page).get_data(as_text=True)
    start = timeline.index('id="patient-timeline"')
    shown = timeline[start:]
    assert shown.index("Alert raised: ") < shown.index("Alert acknowledged: ")
    with app.app_context():
        name = db.session.get(User, delegate.id).full_name
    assert "Haematology referral today." in shown and name in shown


def test_the_assessment_counts_the_periods_alerts_as_they_stood_at_its_end(
    app, client, factory, clock
):
    _, delegate, alert = _alert_for(app, factory, clock, client)
    raised_on = clock.now().date()
    clock.advance(days=2)
    browser = factory.signed_in(delegate)
    token = csrf_token(browser, f"/alerts/{alert.id}")
    note = {"csrf_token": token, "action_note": "Repeat count ordered."}
    assert browser.post(f"/alerts/{alert.id}/acknowledge", data=note).status_code == 302
    auditor = factory.signed_in(factory.user(Role.AUDITOR))

    def row(until):
        period = {"from": raised_on.isoformat(), "to": until.isoformat()}
        html = auditor.get("/reports/assessment", query_string=period).get_data(as_text=True)
        table = html[html.index('id="assessment-alerts"') :].split("</table>", 1)[0]
        return re.sub(r"<[^>]+>", "|", table.split("<tbody>", 1)[1])

    before = row(raised_on + timedelta(days=1))  # ends before the acknowledgment
    assert re.search(r"Platelets.*?\|1\|\|0\|\|1\|\|0\|\|—\|", before), before
    after = row(raised_on + timedelta(days=2))
    assert re.search(r"Platelets.*?\|1\|\|1\|\|0\|\|0\|\|2(\.0)?\|", after), after
