"""Adverse-event pages: the prescriber's team records one, an infusion site records a reaction
to its infusion, a serious event waits on the administrators' dashboard until reviewed."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.extensions import db
from rems.infusions.models import Infusion
from rems.monitoring.models import AdverseEvent
from tests.authorizations.helpers import gate, infusion, site_with_staff
from tests.infusions.test_pages import field_errors, staff_of
from tests.patients.helpers import add_delegate, certified_prescriber, enroll_patient
from tests.patients.pages import count_rows, post_form

TODAY = "2026-11-24"


def event_values(**changes) -> dict[str, str]:
    values = {
        "category": "immune_thrombocytopenia",
        "onset_on": "2026-11-20",
        "serious": "yes",
        "outcome": "recovering",
        "reporter": "Dr. Lee, hematologist",
        "description": "Platelets 18,000; admitted.",
        "criteria": "hospitalisation",
    }
    values |= changes
    values.setdefault("aware_on", values["onset_on"])
    if values["serious"] != "yes":
        values.pop("criteria")
    return values


def test_the_prescriber_records_an_event_listed_on_the_patient_page(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/adverse-events/new"
    form = doctor.get(path).get_data(as_text=True)
    assert "Immune thrombocytopenia (ITP)" in form and "Serious infection" in form
    values = event_values(serious="no", category="thyroid_disorder", outcome="not_recovered")
    response = post_form(doctor, path, values)
    assert response.status_code == 302
    page = doctor.get(response.headers["Location"]).get_data(as_text=True)
    assert "The adverse event is recorded" in page
    assert "Thyroid disorder" in page and "Not recovered or not resolved" in page
    assert "Dr. Lee, hematologist" in page and "Not needed" in page
    with app.app_context():
        event = db.session.scalar(sa.select(AdverseEvent))
        assert event.onset_on == date(2026, 11, 20) and event.serious is False
        audit = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.entity_type == "adverse_event")
        )
        assert audit.action == "adverse_event.reported"
    admin = factory.signed_in(world.admin)
    assert "No serious adverse event awaits review" in admin.get("/dashboard").get_data(
        as_text=True
    )


def test_bad_input_is_named_on_each_field_and_nothing_is_stored(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/adverse-events/new"
    values = event_values(category="flu", onset_on="2026-11-25", serious="", reporter="")
    response = post_form(doctor, path, values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose the category" in field_errors(html, "category")
    assert "Onset date: cannot be after today (2026-11-24 at " in field_errors(html, "onset_on")
    assert "Say whether the event is serious" in field_errors(html, "serious")
    assert "Name who reported the event" in field_errors(html, "reporter")
    assert field_errors(html, "outcome") == ""
    assert count_rows(app, AdverseEvent) == 0


def test_a_delegate_records_but_another_team_gets_a_404(app, factory):
    world = gate(app, factory, with_course=False)
    delegate = factory.signed_in(add_delegate(app, factory, world.prescriber))
    path = f"/patients/{world.patient.rems_id}/adverse-events/new"
    assert post_form(delegate, path, event_values(serious="no")).status_code == 302
    other = certified_prescriber(app, factory, world.admin, "Other")
    stranger = factory.signed_in(other.user)
    assert stranger.get(path).status_code == 404
    with app.app_context():
        event_id = db.session.scalar(sa.select(AdverseEvent.id))
    assert stranger.get(f"/adverse-events/{event_id}").status_code == 404
    assert delegate.get(f"/adverse-events/{event_id}").status_code == 200
    own_patient = enroll_patient(app, other)
    assert stranger.get(f"/patients/{own_patient.rems_id}/adverse-events/new").status_code == 200


def test_a_serious_event_waits_on_the_dashboard_until_an_administrator_reviews_it(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/adverse-events/new"
    done = post_form(doctor, path, event_values())
    assert "the program reviews it" in doctor.get(done.headers["Location"]).get_data(as_text=True)
    admin = factory.signed_in(world.admin)
    dashboard = admin.get("/dashboard").get_data(as_text=True)
    assert "Serious adverse events awaiting review (1)" in dashboard
    assert world.patient.rems_id in dashboard and "Immune thrombocytopenia" in dashboard
    with app.app_context():
        event_id = db.session.scalar(sa.select(AdverseEvent.id))
    detail = f"/adverse-events/{event_id}"
    assert "Mark reviewed" not in doctor.get(detail).get_data(as_text=True)
    refused = post_form(admin, f"{detail}/review", {"note": "  "}, form_page=detail)
    assert refused.status_code == 422
    assert "Write what the review found" in field_errors(refused.get_data(as_text=True), "note")
    reviewed = post_form(
        admin, f"{detail}/review", {"note": "Followed up; MedWatch filed."}, detail
    )
    assert reviewed.status_code == 302
    page = admin.get(detail).get_data(as_text=True)
    assert "The event is marked reviewed" in page and "MedWatch filed" in page
    assert "No serious adverse event awaits review" in admin.get("/dashboard").get_data(
        as_text=True
    )
    assert "Reviewed 2026-11-24" in admin.get("/adverse-events?show=serious").get_data(as_text=True)
    assert "No serious event awaits review" in admin.get("/adverse-events").get_data(as_text=True)
    again = post_form(admin, f"{detail}/review", {"note": "again"}, form_page="/adverse-events")
    assert again.status_code == 422
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity_type == "adverse_event")
        ).all()
        assert actions == ["adverse_event.reported", "adverse_event.reviewed"]


def test_an_auditor_reads_but_cannot_review(app, factory):
    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    post_form(doctor, f"/patients/{world.patient.rems_id}/adverse-events/new", event_values())
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    with app.app_context():
        event_id = db.session.scalar(sa.select(AdverseEvent.id))
    page = auditor.get(f"/adverse-events/{event_id}").get_data(as_text=True)
    assert "Awaiting review" in page and "Mark reviewed" not in page
    assert world.patient.rems_id in auditor.get("/adverse-events").get_data(as_text=True)


def _infusion_today(app, client, world) -> int:
    """Dose 1 given today at the world's infusion site; its id."""
    headers = {"Authorization": f"Bearer {world.pharmacy_token}"}
    granted = client.post("/api/v1/authorizations", json=world.request(), headers=headers)
    number = granted.get_json()["authorization_number"]
    headers = {"Authorization": f"Bearer {world.nurse_token}"}
    path = f"/api/v1/authorizations/{number}/infusions"
    response = client.post(path, json=infusion(date(2026, 11, 24)), headers=headers)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        return db.session.scalar(sa.select(Infusion.id))


def test_the_infusion_site_records_a_reaction_to_its_own_infusion(app, factory, client):
    world = gate(app, factory)
    infusion_id = _infusion_today(app, client, world)
    nurse = factory.signed_in(staff_of(app, factory, world.site_code))
    path = f"/infusions/{infusion_id}/adverse-event"
    form = nurse.get(path).get_data(as_text=True)
    assert "Infusion reaction" in form and "Serious infection" not in form
    assert f'value="{TODAY}"' in form
    refused = post_form(nurse, path, event_values(category="serious_infection"))
    assert "infusion reactions only" in field_errors(refused.get_data(as_text=True), "category")
    values = event_values(category="infusion_reaction", onset_on=TODAY, serious="no",
                          reporter="Nurse Kim")  # fmt: skip
    done = post_form(nurse, path, values)
    assert done.status_code == 302 and done.headers["Location"].startswith("/authorizations/")
    with app.app_context():
        event = db.session.scalar(sa.select(AdverseEvent))
        assert event.infusion_id == infusion_id and event.category == "infusion_reaction"
    other_code, _ = site_with_staff(
        app, factory, world.admin, dispenses=False, infuses=True, name="Other Site"
    )
    stranger = factory.signed_in(staff_of(app, factory, other_code))
    assert stranger.get(path).status_code == 404


def test_a_serious_event_is_told_to_the_administrators_and_the_prescriber(app, factory):
    from rems.notifications.models import Notification

    world = gate(app, factory, with_course=False)
    doctor = factory.signed_in(world.prescriber.user)
    path = f"/patients/{world.patient.rems_id}/adverse-events/new"
    post_form(doctor, path, event_values(serious="no"))
    assert count_rows(app, Notification) == 0
    post_form(doctor, path, event_values())
    with app.app_context():
        sent = db.session.scalars(sa.select(Notification).order_by(Notification.recipient_id))
        recipients = {(n.recipient_id, n.kind) for n in sent}
        event_id = db.session.scalar(sa.select(sa.func.max(AdverseEvent.id)))
        message = db.session.scalar(sa.select(Notification))
    assert recipients == {
        (world.admin.id, "adverse_event.serious"),
        (world.prescriber.user.id, "adverse_event.serious"),
    }
    assert world.patient.rems_id in message.subject and "Immune thrombocytopenia" in message.subject
    assert message.link == f"/adverse-events/{event_id}"
    assert "Serious adverse event" in doctor.get("/dashboard").get_data(as_text=True)
