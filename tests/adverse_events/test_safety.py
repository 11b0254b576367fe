"""Safety follow-through: the prescriber's team lists its own patients' events and adds
follow-ups, the 15-day clock of serious events to the safety team (dashboard, daily job),
the awareness date, the line listing and the E2B(R3)-shaped export, and the API lookup."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from xml.etree import ElementTree as ET

import sqlalchemy as sa

from rems.adverse_events.models import AdverseEventFollowUp
from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.extensions import db
from rems.monitoring.models import AdverseEvent
from rems.notifications.models import Notification
from tests.adverse_events.test_pages import event_values
from tests.authorizations.helpers import gate, on_day
from tests.infusions.test_pages import field_errors
from tests.patients.helpers import add_delegate, certified_prescriber, enroll_patient
from tests.patients.pages import count_rows, post_form

HL7 = "{urn:hl7-org:v3}"


def _report(app, browser, patient, **changes) -> int:
    """Record an event of `patient` from the prescriber's team; its id."""
    path = f"/patients/{patient.rems_id}/adverse-events/new"
    response = post_form(browser, path, event_values(**changes))
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(AdverseEvent.id)))


def test_the_team_lists_its_own_patients_events_and_adds_follow_ups(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    ours = _report(app, doctor, world.patient, serious="no", category="thyroid_disorder")
    other = certified_prescriber(app, factory, world.admin, "Other")
    stranger = factory.signed_in(other.user)
    theirs_patient = enroll_patient(app, other)
    _report(app, stranger, theirs_patient, category="pml", onset_on="2026-11-22")
    listed = doctor.get("/adverse-events").get_data(as_text=True)
    assert world.patient.rems_id in listed and theirs_patient.rems_id not in listed
    assert "Thyroid disorder" in listed and "Progressive multifocal" not in listed

    detail = f"/adverse-events/{ours}"
    follow = f"{detail}/follow-ups"
    assert post_form(stranger, follow, {"received_on": "2026-11-24", "details": "x"},
                     form_page="/adverse-events").status_code == 404  # fmt: skip
    delegate = factory.signed_in(add_delegate(app, factory, world.prescriber))
    early = post_form(delegate, follow, {"received_on": "2026-11-19", "details": " "}, detail)
    assert early.status_code == 422
    html = early.get_data(as_text=True)
    assert "before the awareness date (2026-11-20)" in field_errors(html, "received_on")
    assert "Write what was learned" in field_errors(html, "details")
    assert count_rows(app, AdverseEventFollowUp) == 0
    values = {"received_on": "2026-11-24", "details": "TSH normal again.", "outcome": "recovered"}
    assert post_form(delegate, follow, values, detail).status_code == 302
    page = doctor.get(detail).get_data(as_text=True)
    assert "Follow-ups (1)" in page and "TSH normal again." in page
    assert "Outcome now: Recovered or resolved" in page
    with app.app_context():
        assert db.session.get(AdverseEvent, ours).outcome == "recovered"
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity_id == str(ours))
            .where(AuditEvent.entity_type == "adverse_event").order_by(AuditEvent.id)
        ).all()  # fmt: skip
    assert actions == ["adverse_event.reported", "adverse_event.follow_up"]
    nurse = factory.signed_in(factory.user(Role.SITE_STAFF))
    assert nurse.get("/adverse-events").status_code == 403


def test_the_awareness_date_is_checked_and_named_on_its_field(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/adverse-events/new"
    for aware, message in (
        ("2026-11-19", "The awareness date is before the onset date (2026-11-20)."),
        ("2026-11-25", "Awareness date: cannot be after today (2026-11-24 at "),
        ("next week", "Enter the date you became aware of the event"),
    ):
        response = post_form(doctor, path, event_values(aware_on=aware))
        assert response.status_code == 422
        assert message in field_errors(response.get_data(as_text=True), "aware_on")
    no_criteria = post_form(doctor, path, event_values(criteria=""))
    assert "Tick at least one" in field_errors(no_criteria.get_data(as_text=True), "criteria")
    assert count_rows(app, AdverseEvent) == 0


def test_a_serious_event_is_overdue_to_the_safety_team_after_fifteen_days(
    app, factory, clock, runner
):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    event_id = _report(app, doctor, world.patient, aware_on="2026-11-21")  # due 2026-12-06
    admin = factory.signed_in(world.admin)
    detail = f"/adverse-events/{event_id}"
    assert "Due by 2026-12-06" in admin.get(detail).get_data(as_text=True)
    on_day(clock, date(2026, 12, 6))  # the last day: not overdue yet
    admin = factory.signed_in(world.admin)
    assert "overdue to the safety team (0)" in admin.get("/dashboard").get_data(as_text=True)
    assert "Queued 0 message(s)" in runner.invoke(args=["rems", "adverse-event-clock"]).output
    on_day(clock, date(2026, 12, 7))
    admin, doctor = factory.signed_in(world.admin), factory.signed_in(world.prescriber.user)
    dashboard = admin.get("/dashboard").get_data(as_text=True)
    assert "overdue to the safety team (1)" in dashboard and world.patient.rems_id in dashboard
    assert "Queued 1 message(s)" in runner.invoke(args=["rems", "adverse-event-clock"]).output
    assert "Queued 0 message(s)" in runner.invoke(args=["rems", "adverse-event-clock"]).output
    with app.app_context():
        (message,) = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "adverse_event.overdue")
        ).all()
    assert message.recipient_id == world.admin.id and "by 2026-12-06" in message.body
    assert "1 day(s) late" in admin.get(detail).get_data(as_text=True)

    late = post_form(admin, f"{detail}/submitted", {"submitted_on": "2026-12-08"}, detail)
    assert late.status_code == 422
    assert "Sent on: cannot be after today (2026-12-07" in field_errors(
        late.get_data(as_text=True), "submitted_on"
    )
    denied = post_form(doctor, f"{detail}/submitted", {"submitted_on": "2026-12-07"}, detail)
    assert denied.status_code == 403
    sent = post_form(admin, f"{detail}/submitted", {"submitted_on": "2026-12-07"}, detail)
    assert sent.status_code == 302
    assert "Sent on 2026-12-07" in admin.get(detail).get_data(as_text=True)
    assert "overdue to the safety team (0)" in admin.get("/dashboard").get_data(as_text=True)


def test_the_line_listing_exports_each_event_with_its_clock(app, factory, clock):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    _report(app, doctor, world.patient, aware_on="2026-11-01", onset_on="2026-11-01")
    _report(app, doctor, world.patient, serious="no", category="ttp")
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    query = {"from": "2026-11-01", "to": "2026-11-30", "format": "csv"}
    path = "/reports/adverse-event-line-listing/export"
    text = auditor.get(path, query_string=query).get_data().decode("utf-8-sig")
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines[0].startswith("Event,REMS patient ID,Prescriber NPI,Category")
    serious = next(line for line in lines if "Immune thrombocytopenia" in line)
    assert "hospitalisation" in serious and ",23,overdue" in serious
    ttp = next(line for line in lines if "Thrombotic thrombocytopenic purpura" in line)
    assert "not serious" in ttp and ttp.endswith(",")
    xlsx = auditor.get(path, query_string=query | {"format": "xlsx"}).get_data()
    sheet = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml").decode()
    assert "Thrombotic thrombocytopenic purpura" in sheet
    catalogue = auditor.get("/reports").get_data(as_text=True)
    assert "Adverse events, line listing" in catalogue


def test_the_e2b_export_has_the_case_report_elements(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    event_id = _report(app, doctor, world.patient, aware_on="2026-11-21")
    path = f"/adverse-events/{event_id}/e2b.xml"
    assert doctor.get(path).status_code == 403
    admin = factory.signed_in(world.admin)
    response = admin.get(path)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    body = response.get_data()
    assert b"not a validated E2B(R3) submission" in body
    root = ET.fromstring(body)  # noqa: S314 - our own export, not untrusted input
    assert root.tag == f"{HL7}MCCI_IN200100UV01"
    case = root.find(f"{HL7}PORR_IN049016UV/{HL7}controlActProcess/{HL7}subject/"
                     f"{HL7}investigationEvent")  # fmt: skip
    assert case.find(f"{HL7}id").get("extension") == f"REMS-AE-{event_id}"
    assert case.find(f"{HL7}effectiveTime/{HL7}low").get("value") == "20261121"
    assert world.patient.rems_id in case.find(f"{HL7}text").text
    role = case.find(f"{HL7}component/{HL7}adverseEventAssessment/{HL7}subject1/"
                     f"{HL7}primaryRole")  # fmt: skip
    person = role.find(f"{HL7}player1")
    assert person.find(f"{HL7}birthTime").get("value") == world.date_of_birth.replace("-", "")
    assert "." in person.find(f"{HL7}name").text  # initials only
    reaction = role.find(f"{HL7}subjectOf2/{HL7}observation")
    assert reaction.find(f"{HL7}effectiveTime/{HL7}low").get("value") == "20261120"
    assert reaction.find(f"{HL7}value").text == "Immune thrombocytopenia (ITP)"
    codes = [o.find(f"{HL7}code").get("code") for o in reaction.iter(f"{HL7}observation")]
    assert "33" in codes  # hospitalisation
    outcome = next(
        o for o in reaction.iter(f"{HL7}observation") if o.find(f"{HL7}code").get("code") == "27"
    )
    assert outcome.find(f"{HL7}value").get("code") == "2"  # recovering
    assert root.find(f".//{HL7}kindOfProduct/{HL7}name").text == "alemtuzumab"
    with app.app_context():
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(AuditEvent.action == "adverse_event.exported")
            )
            == 1
        )


def test_the_api_patient_lookup_lists_the_adverse_events(app, factory, client, clock):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    event_id = _report(app, doctor, world.patient, aware_on="2026-11-21")
    headers = {"Authorization": f"Bearer {factory.token(world.prescriber.user)}"}
    path = f"/api/v1/patients/{world.patient.rems_id}"
    (event,) = client.get(path, headers=headers).get_json()["adverse_events"]
    assert event == {
        "id": event_id, "category": "immune_thrombocytopenia",
        "category_label": "Immune thrombocytopenia (ITP)", "onset_on": "2026-11-20",
        "aware_on": "2026-11-21", "serious": True, "seriousness_criteria": ["hospitalisation"],
        "outcome": "recovering", "follow_ups": 0, "report_due_on": "2026-12-06",
        "sent_on": None, "clock": "open",
    }  # fmt: skip
    clock.advance(hours=1)
    doctor = factory.signed_in(world.prescriber.user)
    _report(app, doctor, world.patient, serious="no", category="other")
    assert len(client.get(path, headers=headers).get_json()["adverse_events"]) == 2
    then = client.get(path, headers=headers, query_string={"as_of": "2026-11-24T09:30:00Z"})
    assert [e["id"] for e in then.get_json()["adverse_events"]] == [event_id]
