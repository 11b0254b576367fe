"""The non-compliance pages: the site's representative sees the open case on the dashboard and
writes the corrective action (bad input named on its field), the administrator asks for more
then accepts it and the case closes; the auditor reads; other parties get a 404; the list
filters, pages and has an empty state."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.extensions import db
from rems.notifications.models import Notification
from tests.authorizations.helpers import gate, on_day, site_with_staff
from tests.compliance.helpers import answering, cases, grant, infuse
from tests.factories import csrf_token


def _field_errors(html: str, field_id: str) -> str:
    match = re.search(rf'<ul class="field-errors" id="{field_id}-error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def _case_with_short_observation(app, factory, clock):
    world = gate(app, factory)
    client = app.test_client()
    number = grant(client, world)
    day = clock.now().date() + timedelta(days=2)
    on_day(clock, day)
    short = {"observation_ended_at": f"{day}T08:00:00Z"}  # 90 minutes
    assert infuse(client, world, number, day, acknowledged=True, **short).status_code == 201
    (case,) = cases(app)
    return answering(app, factory, world), case.id, day


def _post(client, path: str, form_path: str, data: dict):
    return client.post(path, data={"csrf_token": csrf_token(client, form_path), **data})


def test_a_case_goes_from_deviation_to_accepted_action(app, factory, clock):
    people, case_id, day = _case_with_short_observation(app, factory, clock)
    rep = factory.signed_in(people.site_rep)
    dashboard = rep.get("/dashboard").get_data(as_text=True)
    assert "Your open non-compliance cases (1)" in dashboard and f"Case {case_id}" in dashboard
    page_path = f"/compliance/cases/{case_id}"
    page = rep.get(page_path).get_data(as_text=True)
    assert "Observation short" in page and "observed minutes: 90" in page
    action = f"{page_path}/action"
    yesterday = (day - timedelta(days=1)).isoformat()
    empty = _post(
        rep, action, page_path, {"root_cause": " ", "action": "Timer", "due_on": yesterday}
    )
    html = empty.get_data(as_text=True)
    assert empty.status_code == 422
    assert "Write the root cause" in _field_errors(html, "root_cause")
    assert "The due date is in the past" in _field_errors(html, "due_on")
    written = {"root_cause": "No timer at the chair", "action": "A timer at every chair",
               "due_on": (day + timedelta(days=30)).isoformat()}  # fmt: skip
    assert _post(rep, action, page_path, written).status_code == 302
    admin = factory.signed_in(people.world.admin)
    assert f"Case {case_id}" in admin.get("/dashboard").get_data(as_text=True)
    review = f"{page_path}/review"
    vague = _post(admin, review, page_path, {"outcome": "more_needed", "note": ""})
    assert "Say what more" in _field_errors(vague.get_data(as_text=True), "note")
    assert _post(admin, review, page_path, {"outcome": "accepted", "note": ""}).status_code == 302
    (case,) = cases(app)
    assert case.state == "closed" and case.closed_at is not None
    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        told = db.session.scalars(
            sa.select(Notification.body).where(Notification.kind == "compliance.case")
        ).all()
    assert {"case.opened", "case.action_submitted", "case.reviewed"} <= actions
    assert any("review it" in body for body in told)
    assert any("accepted: the case is closed" in body for body in told)


def test_the_auditor_reads_and_other_parties_get_a_404(app, factory, clock):
    people, case_id, _ = _case_with_short_observation(app, factory, clock)
    auditor = factory.signed_in(people.auditor)
    page = auditor.get(f"/compliance/cases/{case_id}").get_data(as_text=True)
    assert "Observation short" in page and "Submit the corrective action" not in page
    assert "Record the review" not in page
    code, _ = site_with_staff(app, factory, people.world.admin, dispenses=False, infuses=True,
                              name="Elsewhere Center")  # fmt: skip
    with app.app_context():
        from rems.sites.models import Site

        other_site = db.session.scalar(sa.select(Site.id).where(Site.site_code == code))
    stranger = factory.signed_in(
        factory.user(Role.SITE_STAFF, site_id=other_site, representative=True)
    )
    assert stranger.get(f"/compliance/cases/{case_id}").status_code == 404
    assert "No non-compliance case" in stranger.get("/compliance/cases").get_data(as_text=True)


def test_the_case_list_filters_and_shows_an_empty_state(app, factory, clock):
    people, case_id, _ = _case_with_short_observation(app, factory, clock)
    admin = factory.signed_in(people.world.admin)
    listed = admin.get("/compliance/cases?party=site&state=open&severity=major")
    assert f"Case {case_id}" in listed.get_data(as_text=True)
    for query in ("party=prescriber", "severity=minor", "state=closed", "age=30"):
        html = admin.get(f"/compliance/cases?{query}").get_data(as_text=True)
        assert "No case matches these filters." in html, query
    clock.advance(days=31)
    admin = factory.signed_in(people.world.admin)
    assert f"Case {case_id}" in admin.get("/compliance/cases?age=30").get_data(as_text=True)
