"""The patient's timeline: every kind of record merged in one chronological history with who
recorded it, on the patient's page; another prescriber's patient is a 404."""

from __future__ import annotations

import re
from datetime import date

from rems.auth.models import User
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.models import LabResult
from rems.monitoring.results import ResultRow, amend_result
from rems.monitoring.storing import record_results
from rems.patients.models import Patient
from rems.patients.timeline import SOURCES, patient_timeline
from tests.authorizations.helpers import gate
from tests.patients.helpers import add_delegate, certified_prescriber, enroll_patient
from tests.reminders.test_send_reminders import treated


def _result_then_amend(app, world, delegate) -> None:
    """A CBC collected 2026-11-02 by the prescriber, amended by the delegate on 11-24."""
    with app.app_context(), writing():
        patient = db.session.get(Patient, world.patient.id)
        prescriber = db.session.get(User, world.prescriber.user.id)
        fields = {"test": "cbc", "collected_on": date(2026, 11, 2), "value": "Normal",
                  "unit": "", "abnormal": False}  # fmt: skip
        record_results(db.session, prescriber, [ResultRow("result", patient, fields)],
                       source="web", today=program_today())  # fmt: skip
        result = db.session.query(LabResult).one()
        amend_result(db.session, db.session.get(User, delegate.id), result,
                     changes={**fields, "value": "Platelets low"}, reason="Transcription error",
                     today=program_today())  # fmt: skip
        db.session.commit()


def test_the_timeline_is_in_order_with_who(app, factory):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 10, 1))
    delegate = add_delegate(app, factory, world.prescriber)
    _result_then_amend(app, world, delegate)
    with app.app_context():
        shown = patient_timeline(db.session, db.session.get(Patient, world.patient.id))
        days = [s.entry.day for s in shown]
        assert days == sorted(days)
        kinds = [s.entry.kind for s in shown]
        assert kinds.index("enrollment") < kinds.index("acknowledgment")  # both on 11-24
        order = [k for k in dict.fromkeys(kinds) if k in ("dose", "result", "amendment")]
        assert order == ["dose", "result", "amendment"]  # 10-01…05, 11-02, 11-24
        amendment = next(s for s in shown if s.entry.kind == "amendment")
        delegate_name = db.session.get(User, delegate.id).full_name
        assert amendment.by == delegate_name and amendment.entry.detail == "Transcription error"
        assert "Normal → Platelets low" in amendment.entry.summary
    page = factory.signed_in(world.prescriber.user).get(f"/patients/{world.patient.rems_id}")
    html = page.get_data(as_text=True)
    timeline = html[html.index('id="patient-timeline"') :]
    cbc = "CBC with differential"
    order = rf"Prior dose 1.*Result {cbc}: Platelets low.*Result {cbc} amended"
    assert re.search(order, timeline, re.S)
    assert delegate_name in timeline


def test_another_prescriber_does_not_see_the_timeline(app, factory):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 10, 1))
    other = certified_prescriber(app, factory, world.admin, "Other")
    enroll_patient(app, other)
    client = factory.signed_in(other.user)
    assert client.get(f"/patients/{world.patient.rems_id}").status_code == 404


def test_a_new_kind_of_record_is_one_more_source():
    assert len(SOURCES) == len(set(SOURCES)) >= 12
