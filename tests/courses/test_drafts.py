"""Delegates prepare the Patient Authorization and Baseline Lab Form as a draft; the prescriber
is told, reviews it pre-filled and signs it (every rule checked as without a draft); either may
discard it with a reason. A delegate never signs; another prescriber's patient is a 404."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role
from rems.courses.models import Course, CourseDraft
from rems.extensions import db
from rems.notifications.models import Notification
from tests.courses.test_pages import field_errors, form_values
from tests.factories import csrf_token
from tests.patients.helpers import add_delegate, certified_prescriber, enroll_patient
from tests.patients.helpers import publish_guides as publish
from tests.patients.pages import count_rows

DRAFT_RE = re.compile(r'name="draft" type="hidden" value="([^"]*)"')


@pytest.fixture
def team(app, factory):
    """A certified prescriber with a delegate, the guides published, an enrolled patient."""
    admin = factory.user(Role.ADMIN)
    prescriber = certified_prescriber(app, factory, admin)
    publish(app, admin)
    patient = enroll_patient(app, prescriber)
    delegate = add_delegate(app, factory, prescriber)
    return admin, prescriber, delegate, patient


def _draft_values(app, **ages) -> dict:
    """What the delegate fills in: the planned start and the baseline dates, nothing else."""
    values = form_values(app, ages=ages or None)
    return {k: v for k, v in values.items() if k == "planned_start" or k.startswith("baseline_")}


def _post(client, path: str, values: dict, page: str | None = None):
    """Post as the browser does, with the page's CSRF token and hidden draft version."""
    html = client.get(page or path).get_data(as_text=True)
    token = csrf_token(client, page or path)
    hidden = DRAFT_RE.search(html)
    draft = {"draft": hidden.group(1)} if hidden else {}
    return client.post(path, data={"csrf_token": token, **draft, **values})


def _prepare(app, client, patient, **ages):
    return _post(client, f"/patients/{patient.rems_id}/courses/draft", _draft_values(app, **ages))


def _actions(app, prefix: str) -> list[tuple[str, str]]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.actor_label)
            .where(AuditEvent.action.startswith(prefix))
            .order_by(AuditEvent.seq)
        )
        return [tuple(row) for row in rows]


def _draft(app) -> CourseDraft:
    with app.app_context():
        draft = db.session.scalar(sa.select(CourseDraft).order_by(CourseDraft.id.desc()))
        db.session.expunge(draft)
        return draft


def test_a_delegate_prepares_a_draft_and_the_prescriber_is_told(app, factory, team):
    _, prescriber, delegate, patient = team
    browser = factory.signed_in(delegate)
    page = browser.get(f"/patients/{patient.rems_id}").get_data(as_text=True)
    assert f"/patients/{patient.rems_id}/courses/draft" in page
    form = browser.get(f"/patients/{patient.rems_id}/courses/draft").get_data(as_text=True)
    assert 'name="baseline_cbc"' in form
    assert 'name="password"' not in form and 'name="attest_' not in form  # the prescriber's

    response = _prepare(app, browser, patient)
    assert response.status_code == 302 and response.headers["Location"].endswith(patient.rems_id)
    page = browser.get(response.headers["Location"]).get_data(as_text=True)
    assert "The draft of course 1 is saved" in page and "waiting for the prescriber" in page
    assert count_rows(app, Course) == 0
    assert _draft(app).status == "open" and _draft(app).prepared_by_id == delegate.id
    assert _actions(app, "course_draft.") == [("course_draft.prepared", delegate.username)]
    with app.app_context():
        [told] = db.session.scalars(
            sa.select(Notification).where(Notification.kind == "course_draft.waiting")
        ).all()
        assert told.recipient_id == prescriber.user.id
        assert told.link == f"/patients/{patient.rems_id}/courses/new"

    dashboard = factory.signed_in(prescriber.user).get("/dashboard").get_data(as_text=True)
    assert "Waiting for your signature" in dashboard
    assert f'href="/patients/{patient.rems_id}/courses/new">{patient.name}</a>' in dashboard
    assert patient.name in browser.get("/dashboard").get_data(as_text=True)  # the delegate's too


def test_the_delegate_updates_the_one_open_draft(app, factory, team):
    _, _, delegate, patient = team
    browser = factory.signed_in(delegate)
    _prepare(app, browser, patient)
    form = browser.get(f"/patients/{patient.rems_id}/courses/draft").get_data(as_text=True)
    assert "already has an open draft" in form and 'value="2026-11-21"' in form  # pre-filled
    assert _prepare(app, browser, patient, cbc=10).status_code == 302
    assert count_rows(app, CourseDraft) == 1
    draft = _draft(app)
    assert draft.version == 2 and draft.baseline["cbc"] == "2026-11-16"
    assert [a for a, _ in _actions(app, "course_draft.")] == [
        "course_draft.prepared",
        "course_draft.updated",
    ]
    assert count_rows(app, Notification, Notification.kind == "course_draft.waiting") == 1


def test_the_prescriber_signs_the_prefilled_draft_and_the_course_is_authorized(app, factory, team):
    _, prescriber, delegate, patient = team
    _prepare(app, factory.signed_in(delegate), patient, cbc=12)
    client = factory.signed_in(prescriber.user)
    path = f"/patients/{patient.rems_id}/courses/new"
    page = client.get(path).get_data(as_text=True)
    assert "Prepared by" in page and "Test Delegate" in page
    assert 'value="2026-11-26"' in page and 'value="2026-11-14"' in page  # start, CBC
    signing = form_values(app, ages={"cbc": 12})
    response = _post(client, path, signing)
    assert response.status_code == 302, field_errors(response.get_data(as_text=True), "password")
    draft = _draft(app)
    assert draft.status == "signed" and draft.course_id is not None
    with app.app_context():
        course = db.session.get(Course, draft.course_id)
        assert course.status == "authorized" and course.planned_start.isoformat() == "2026-11-26"
    assert ("course_draft.signed", prescriber.user.username) in _actions(app, "course_draft.")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "No course authorization prepared by your delegates is waiting" in dashboard


def test_signing_a_draft_checks_every_rule_as_before(app, factory, team):
    _, prescriber, delegate, patient = team
    _prepare(app, factory.signed_in(delegate), patient, cbc=31)
    client = factory.signed_in(prescriber.user)
    path = f"/patients/{patient.rems_id}/courses/new"
    too_old = _post(client, path, form_values(app, ages={"cbc": 31}))
    assert too_old.status_code == 422
    assert "too old" in field_errors(too_old.get_data(as_text=True), "baseline_cbc")
    unsigned = _post(client, path, form_values(app, password="not the password"))
    assert unsigned.status_code == 422
    assert count_rows(app, Course) == 0 and _draft(app).status == "open"


def test_a_draft_changed_since_the_page_was_shown_is_not_signed(app, factory, team):
    _, prescriber, delegate, patient = team
    delegate_browser = factory.signed_in(delegate)
    _prepare(app, delegate_browser, patient)
    client = factory.signed_in(prescriber.user)
    path = f"/patients/{patient.rems_id}/courses/new"
    html = client.get(path).get_data(as_text=True)
    shown = DRAFT_RE.search(html).group(1)
    _prepare(app, delegate_browser, patient, cbc=10)  # the delegate changes it meanwhile
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "draft": shown, **form_values(app)})
    assert response.status_code == 302 and response.headers["Location"] == path
    assert "draft changed" in client.get(path).get_data(as_text=True)
    assert count_rows(app, Course) == 0 and _draft(app).status == "open"


def test_a_delegate_never_signs_and_a_prescriber_does_not_prepare(app, factory, team):
    _, prescriber, delegate, patient = team
    browser = factory.signed_in(delegate)
    _prepare(app, browser, patient)
    token = csrf_token(browser, f"/patients/{patient.rems_id}/courses/draft")
    signing = {"csrf_token": token, **form_values(app), "password": delegate.password}
    assert browser.post(f"/patients/{patient.rems_id}/courses/new", data=signing).status_code == 403
    client = factory.signed_in(prescriber.user)
    assert client.get(f"/patients/{patient.rems_id}/courses/draft").status_code == 403
    assert count_rows(app, Course) == 0 and _draft(app).status == "open"


@pytest.mark.parametrize("who", ["delegate", "prescriber"])
def test_discarding_needs_a_reason_and_is_recorded(app, factory, team, who):
    _, prescriber, delegate, patient = team
    _prepare(app, factory.signed_in(delegate), patient)
    client = factory.signed_in(delegate if who == "delegate" else prescriber.user)
    path = f"/patients/{patient.rems_id}/courses/draft/discard"
    assert path in client.get(f"/patients/{patient.rems_id}").get_data(as_text=True)
    empty = _post(client, path, {"reason": "  "})
    assert empty.status_code == 422
    assert "Give the reason" in field_errors(empty.get_data(as_text=True), "reason")
    assert _draft(app).status == "open"
    done = _post(client, path, {"reason": "wrong patient chosen"})
    assert done.status_code == 302
    draft = _draft(app)
    assert draft.status == "discarded" and draft.discard_reason == "wrong patient chosen"
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "course_draft.discarded")
        )
        assert event.reason == "wrong patient chosen"
    page = client.get(f"/patients/{patient.rems_id}").get_data(as_text=True)
    assert 'id="course-draft"' not in page
    assert _prepare(app, factory.signed_in(delegate), patient).status_code == 302  # a new one


def test_another_prescribers_patient_and_draft_are_404(app, factory, team):
    admin, _, delegate, patient = team
    _prepare(app, factory.signed_in(delegate), patient)
    other = certified_prescriber(app, factory, admin, "Okafor")
    outsiders = [
        factory.signed_in(other.user),
        factory.signed_in(add_delegate(app, factory, other)),
    ]
    for client in outsiders:
        token = csrf_token(client, "/account")
        for action in ("draft", "draft/discard"):
            path = f"/patients/{patient.rems_id}/courses/{action}"
            if client.get(path).status_code == 403:  # the prescriber has no draft page at all
                continue
            assert client.get(path).status_code == 404
            data = {"csrf_token": token, "reason": "x", **_draft_values(app)}
            assert client.post(path, data=data).status_code == 404
        assert patient.name not in client.get("/dashboard").get_data(as_text=True)
    assert _draft(app).status == "open" and count_rows(app, CourseDraft) == 1
