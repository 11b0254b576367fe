"""Extension of monitoring, closing as lost to follow-up, and the periodic patient status's
cadence: each stored and audited, or refused with the field named and nothing stored."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import User
from rems.common.errors import ValidationFailed
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.extension import current_end, extend_monitoring
from rems.monitoring.followup_models import MonitoringExtension, PatientStatusDue
from rems.monitoring.followup_models import PatientStatusReport as Report
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.queries import summary
from rems.monitoring.status_services import record_status
from rems.patients import lifecycle
from rems.patients.models import Patient
from tests.authorizations.helpers import gate
from tests.factories import PASSWORD, csrf_token
from tests.patients.helpers import add_delegate
from tests.reminders.test_send_reminders import treated

FIRST = date(2026, 10, 1)  # course 1 given 2026-10-01 to 10-05: monitoring until 2030-10-05
ANSWERS = {"results_reviewed": True, "new_autoimmune_event": False, "new_malignancy": False,
           "still_under_care": True, "pregnancy_status": "not_pregnant", "note": ""}  # fmt: skip


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, tzinfo=UTC)


def _count(model, **where) -> int:
    statement = sa.select(sa.func.count()).select_from(model)
    for name, value in where.items():
        statement = statement.where(getattr(model, name) == value)
    return db.session.scalar(statement)


def test_an_extension_must_be_later_than_the_end_and_is_audited(app, factory):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, FIRST)
    client = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/monitoring/extend"
    token = csrf_token(client, path)
    short = client.post(path, data={"csrf_token": token, "ends_on": "2030-10-05",
                                    "reason": "Thyroid disease"})  # fmt: skip
    assert short.status_code == 422
    assert "later than the present end, 2030-10-05" in short.get_data(as_text=True)
    with app.app_context():
        assert _count(MonitoringExtension) == 0
        before = db.session.get(MonitoringStatus, (world.patient.id, "tsh")).items_total
    done = client.post(path, data={"csrf_token": token, "ends_on": "2031-10-05",
                                   "reason": "Thyroid disease under treatment"})  # fmt: skip
    assert done.status_code == 302
    with app.app_context():
        patient = db.session.get(Patient, world.patient.id)
        assert current_end(db.session, patient) == date(2031, 10, 5)
        assert db.session.get(MonitoringStatus, (patient.id, "tsh")).items_total == before + 4
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "monitoring.extended")
        )
        assert event.reason == "Thyroid disease under treatment"
    page = client.get(f"/patients/{world.patient.rems_id}").get_data(as_text=True)
    assert "Monitoring extended from 2030-10-05 to 2031-10-05" in page  # the timeline


def test_only_the_prescriber_of_record_extends(app, factory):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, FIRST)
    delegate = add_delegate(app, factory, world.prescriber)
    path = f"/patients/{world.patient.rems_id}/monitoring/extend"
    assert factory.signed_in(delegate).get(path).status_code == 403
    with app.app_context(), writing():
        patient = db.session.get(Patient, world.patient.id)
        with pytest.raises(ValidationFailed) as failure:
            extend_monitoring(db.session, patient, db.session.get(User, world.prescriber.user.id),
                              ends_on=None, reason="", today=program_today())  # fmt: skip
        assert set(failure.value.errors) == {"ends_on", "reason"}


@pytest.mark.parametrize(
    ("reason", "open_cbc", "overdue"),
    [("lost_to_follow_up", "1", 3), ("withdrawal_of_consent", "1", 3), ("death", "1-2", 6)],
)
def test_lost_to_follow_up_keeps_overdue_items_and_closes_the_rest(
    app, factory, clock, reason, open_cbc, overdue
):
    """On 2026-12-05 the record closes as of 12-03: items #1 (due 11-01) are overdue; items
    #2 (due 12-01, grace to 12-08) are not yet. Lost to follow-up and withdrawal close #2; a
    death closes only what falls due after it, so #2 turns overdue on 12-09 (as before)."""
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, FIRST)
    clock.current = _at(date(2026, 12, 5))
    with app.app_context(), writing():
        patient = db.session.get(Patient, world.patient.id)
        lifecycle.close(db.session, patient, db.session.get(User, world.prescriber.user.id),
                        close_reason=reason, closed_on=date(2026, 12, 3), note="",
                        today=program_today())  # fmt: skip
        db.session.commit()
    clock.current = _at(date(2026, 12, 20))
    with app.app_context():
        cbc = db.session.get(MonitoringStatus, (world.patient.id, "cbc"))
        assert cbc.open_items == open_cbc
        assert cbc.overdue_after == date(2026, 11, 8)  # still overdue: non-compliance
        told = summary(db.session, world.patient.id, program_today())
        assert (told["compliant"], told["items_overdue"]) == (False, overdue)


def test_the_status_falls_due_every_six_months_and_the_prescriber_signs_it(app, factory, clock):
    """First dose 2026-10-01: status 1 is due 2027-04-01, may be signed from 03-18 (due
    soon), overdue after 2027-05-01 (30 days' grace). Status 2 is due 2027-10-01."""
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, FIRST)
    delegate = add_delegate(app, factory, world.prescriber)
    with app.app_context(), writing():
        patient = db.session.get(Patient, world.patient.id)
        prescriber = db.session.get(User, world.prescriber.user.id)
        with pytest.raises(ValidationFailed) as early:
            record_status(db.session, patient, prescriber, period=1, answers=ANSWERS,
                          password=PASSWORD, today=program_today())  # fmt: skip
        assert "not yet due" in early.value.errors["period"][0]
        db.session.rollback()
        assert _count(Report) == 0
    clock.current = _at(date(2027, 3, 17))
    client = factory.signed_in(world.prescriber.user)
    assert world.patient.rems_id not in client.get("/worklist?test=patient_status").get_data(
        as_text=True)  # fmt: skip
    clock.current = _at(date(2027, 3, 18))
    client = factory.signed_in(world.prescriber.user)
    listed = client.get("/worklist?test=patient_status").get_data(as_text=True)
    assert world.patient.rems_id in listed and "1 due soon" in listed

    helper = factory.signed_in(delegate)
    path = f"/patients/{world.patient.rems_id}/status/new"
    answers = {"results_reviewed": "yes", "new_autoimmune_event": "no", "new_malignancy": "no",
               "pregnancy_status": "not_pregnant", "still_under_care": "yes"}  # fmt: skip
    missing = helper.post(path, data={"csrf_token": csrf_token(helper, path), "period": "1"})
    assert missing.status_code == 422 and "Answer yes or no." in missing.get_data(as_text=True)
    prepared = helper.post(path, data={"csrf_token": csrf_token(helper, path), "period": "1",
                                       **answers})  # fmt: skip
    assert prepared.status_code == 302
    with app.app_context():
        assert db.session.get(PatientStatusDue, world.patient.id).next_period == 1  # unsigned
    clock.current = _at(date(2027, 5, 2))
    client = factory.signed_in(world.prescriber.user)
    assert "1 overdue" in client.get("/worklist?test=patient_status").get_data(as_text=True)
    signed = client.post(path, data={"csrf_token": csrf_token(client, path), "period": "1",
                                     "password": PASSWORD, **answers})  # fmt: skip
    assert signed.status_code == 302
    with app.app_context():
        due = db.session.get(PatientStatusDue, world.patient.id)
        assert (due.next_period, due.next_due_on, due.signed) == (2, date(2027, 10, 1), 1)
        report = db.session.scalar(sa.select(Report))
        assert report.signature_id is not None and report.signed_by_id == world.prescriber.user.id
        assert _count(AuditEvent, action="patient_status.signed") == 1
        assert _count(AuditEvent, action="patient_status.prepared") == 1
    again = client.post(path, data={"csrf_token": csrf_token(client, path), "period": "2",
                                    "password": PASSWORD, **answers})  # fmt: skip
    assert again.status_code == 422 and "Period 2 is not yet due" in again.get_data(as_text=True)
