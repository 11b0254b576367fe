"""A denial reaches whoever must act: the prescriber (once a day per patient and set of
reasons), the receiving site's staff, the administrators for a pharmacy that may not dispense.
DOSES_EXCEEDED names the authorization holding the doses; an uncertified pharmacy's request is
recorded as PHARMACY_NOT_CERTIFIED instead of being refused."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth.models import Role, User
from rems.authorizations.models import AuthorizationDecision
from rems.certification.rules import Transition
from rems.certification.services import apply_transition
from rems.common.clock import today
from rems.common.transactions import writing
from rems.extensions import db
from rems.notifications.models import Notification
from rems.sites.models import Site
from tests.authorizations.helpers import gate, site_with_staff

GATE = "/api/v1/authorizations"


def _ask(client, token, body):
    return client.post(GATE, json=body, headers={"Authorization": f"Bearer {token}"})


def _messages(app, user_id=None) -> list[Notification]:
    with app.app_context():
        query = sa.select(Notification).order_by(Notification.id)
        if user_id is not None:
            query = query.where(Notification.recipient_id == user_id)
        messages = db.session.scalars(query).all()
        db.session.expunge_all()
        return messages


def _site(app, code: str):
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.site_code == code))
        db.session.expunge(site)
        return site


def test_a_prescriber_denial_reaches_the_prescriber_once_a_day(app, client, factory, clock):
    world = gate(app, factory, with_course=False)
    for _ in range(3):  # the pharmacy retries the same request
        denial = _ask(client, world.pharmacy_token, world.request()).get_json()
        assert [r["code"] for r in denial["reasons"]] == ["COURSE_NOT_AUTHORIZED"]
    [message] = _messages(app)
    assert message.recipient_id == world.prescriber.user.id and message.kind == "gate.denial"
    assert world.patient.rems_id in message.subject and "action needed" in message.subject
    assert "Gate Pharmacy" in message.body and "COURSE_NOT_AUTHORIZED" in message.body
    assert message.link == f"/patients/{world.patient.rems_id}"
    with app.app_context():
        queued = db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == "notification.queued")
        )
    assert queued == 1
    clock.advance(days=1)
    _ask(client, world.pharmacy_token, world.request())
    assert len(_messages(app, world.prescriber.user.id)) == 2  # a new day, a new message
    _ask(client, world.pharmacy_token, world.request(date_of_birth="1901-01-01"))
    assert len(_messages(app)) == 2  # PATIENT_NOT_FOUND is the pharmacy's: nobody else is told


def test_a_receiving_site_that_is_not_certified_hears_of_it(app, client, factory):
    world = gate(app, factory)
    site = _site(app, world.site_code)
    with app.app_context(), writing():
        row, admin = db.session.get(Site, site.id), db.session.get(User, world.admin.id)
        apply_transition(db.session, row, Transition.SUSPEND, actor=admin, today=today(),
                         reason="Inspection pending.")  # fmt: skip
        db.session.commit()
        staff = db.session.scalars(sa.select(User.id).where(User.site_id == site.id)).all()
    denial = _ask(client, world.pharmacy_token, world.request()).get_json()
    assert [r["code"] for r in denial["reasons"]] == ["SITE_NOT_CERTIFIED"]
    messages = _messages(app)
    assert {m.recipient_id for m in messages} == set(staff) and len(staff) >= 1
    assert "not certified" in messages[0].subject and "Gate Pharmacy" in messages[0].body


def _lapse(app, code: str, *, expired_on: date) -> None:
    """The pharmacy's certification ended on `expired_on` (the daily job has not run yet)."""
    with app.app_context(), writing():
        site = db.session.scalar(sa.select(Site).where(Site.site_code == code))
        site.expires_on = expired_on
        db.session.commit()


def test_a_lapsed_pharmacy_is_denied_on_record_and_administrators_are_told(app, client, factory):
    world = gate(app, factory)
    _lapse(app, world.pharmacy_code, expired_on=date(2026, 11, 20))
    response = _ask(client, world.pharmacy_token, world.request())
    assert response.status_code == 200, response.get_json()
    denial = response.get_json()
    [reason] = denial["reasons"]
    assert reason["code"] == "PHARMACY_NOT_CERTIFIED" and reason["action_by"] == "program"
    assert "expired on 2026-11-20" in reason["message"] and "renew" in reason["message"]
    with app.app_context():
        stored = db.session.scalar(sa.select(AuthorizationDecision))
        assert stored.decision_id == denial["decision_id"] and stored.outcome == "denied"
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "authorization.denied")
        )
        assert event.new_values["reasons"] == ["PHARMACY_NOT_CERTIFIED"]
        admins = set(db.session.scalars(sa.select(User.id).where(User.role == Role.ADMIN)))
    messages = _messages(app)
    assert {m.recipient_id for m in messages} == admins
    assert "Gate Pharmacy" in messages[0].subject
    assert messages[0].link == f"/authorizations/decisions/{denial['decision_id']}"
    # every other endpoint still refuses the token
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {world.pharmacy_token}"})
    assert me.status_code == 401


def test_a_suspended_pharmacy_is_told_its_certification_is_suspended(app, client, factory):
    world = gate(app, factory)
    site = _site(app, world.pharmacy_code)
    with app.app_context(), writing():
        row, admin = db.session.get(Site, site.id), db.session.get(User, world.admin.id)
        apply_transition(db.session, row, Transition.SUSPEND, actor=admin, today=today(),
                         reason="Audit findings.")  # fmt: skip
        db.session.commit()
    [reason] = _ask(client, world.pharmacy_token, world.request()).get_json()["reasons"]
    assert reason["code"] == "PHARMACY_NOT_CERTIFIED"
    assert "is suspended" in reason["message"] and "contacts the REMS program" in reason["message"]


def test_doses_exceeded_names_the_live_authorization_holding_them(app, client, factory):
    world = gate(app, factory)
    grant = _ask(client, world.pharmacy_token, world.request(doses=4)).get_json()
    number = grant["authorization_number"]
    other_code, other_token = site_with_staff(
        app, factory, world.admin, dispenses=True, infuses=False, name="Other Pharmacy"
    )
    [reason] = _ask(client, other_token, world.request(doses=3)).get_json()["reasons"]
    assert reason["code"] == "DOSES_EXCEEDED"
    assert f"Authorization {number} of Gate Pharmacy ({world.pharmacy_code})" in reason["message"]
    assert "holds 4 dose(s) until 2026-12-01" in reason["message"]
    assert "call that pharmacy" in reason["message"]
    assert reason["held_by"] == {
        "authorization_number": number, "pharmacy_site_id": world.pharmacy_code,
        "pharmacy_name": "Gate Pharmacy", "valid_until": "2026-12-01", "doses_held": 4,
        "other_live_authorizations": 0,
    }  # fmt: skip
    [own] = _ask(client, world.pharmacy_token, world.request(doses=3)).get_json()["reasons"]
    assert "your pharmacy's, which can reverse it" in own["message"]
    assert other_code != world.pharmacy_code
