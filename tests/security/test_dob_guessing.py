"""Guessing dates of birth at the gate (issue 22, items 3–5): counted per pharmacy site however
many tokens it makes and however the REMS ID is typed; the patient-wide count alerts
administrators but blocks no pharmacy; a pharmacy that is not certified learns nothing."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import ApiToken, Role, User
from rems.authorizations.guessing import ALERT_KIND
from rems.certification.rules import Transition
from rems.certification.services import apply_transition
from rems.common.clock import today
from rems.common.transactions import writing
from rems.extensions import db
from rems.notifications.models import Notification
from rems.sites.models import Site
from tests.authorizations.helpers import gate, site_with_staff
from tests.factories import csrf_token

GATE = "/api/v1/authorizations"


def _ask(client, token: str, body: dict):
    return client.post(GATE, json=body, headers={"Authorization": f"Bearer {token}"})


def _codes(answer) -> list[str]:
    return [reason["code"] for reason in answer.get_json()["reasons"]]


def _site_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Site.id).where(Site.site_code == code))


def _alerts(app) -> list[Notification]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Notification).where(Notification.kind == ALERT_KIND)
        ).all()
        db.session.expunge_all()
        return rows


def _spaced(rems_id: str) -> str:
    """The same REMS ID as a person might type it: lower case, dashes and spaces."""
    return f" {rems_id[:4].lower()}-{rems_id[4:8]} {rems_id[8:].lower()} "


# ---------- 3. Counted by site and by the normalised REMS ID ----------


def test_new_tokens_of_the_same_site_share_its_count(app, factory):
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "3 per hour"
    world = gate(app, factory)
    client = app.test_client()
    site_id = _site_id(app, world.pharmacy_code)
    for day in ("1950-01-01", "1950-01-02", "1950-01-03"):
        fresh = factory.token(factory.user(Role.SITE_STAFF, site_id=site_id))
        wrong = _ask(client, fresh, world.request(date_of_birth=day))
        assert _codes(wrong) == ["PATIENT_NOT_FOUND"]
    another = factory.token(factory.user(Role.SITE_STAFF, site_id=site_id))
    refused = _ask(client, another, world.request())  # the right date of birth, a new token
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "rate_limited"


def test_the_id_typed_differently_is_the_same_patient(app, factory):
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "2 per hour"
    world = gate(app, factory)
    factory.user(Role.ADMIN)
    _, second = site_with_staff(app, factory, world.admin, dispenses=True, infuses=False,
                                name="Second Pharmacy")  # fmt: skip
    client, rems_id = app.test_client(), world.patient.rems_id
    typings = [(world.pharmacy_token, rems_id.lower()), (second, _spaced(rems_id)),
               (second, rems_id)]  # fmt: skip
    for token, typed in typings:
        wrong = _ask(client, token, world.request(patient_id=typed, date_of_birth="1950-01-01"))
        assert _codes(wrong) == ["PATIENT_NOT_FOUND"]
    [alert, *_] = _alerts(app)  # three wrong guesses at one patient, typed three ways
    assert rems_id in alert.subject


def test_a_site_cannot_dodge_its_count_by_typing_the_id_differently(app, factory):
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "2 per hour"
    world = gate(app, factory)
    client, rems_id = app.test_client(), world.patient.rems_id
    for typed in (rems_id.lower(), _spaced(rems_id)):
        _ask(
            client,
            world.pharmacy_token,
            world.request(patient_id=typed, date_of_birth="1950-01-01"),
        )
    assert _ask(client, world.pharmacy_token, world.request()).status_code == 429


def test_api_tokens_made_per_day_are_limited(app, factory):
    app.config["REMS_API_TOKENS_PER_DAY"] = 2
    world = gate(app, factory)
    staff = factory.user(Role.SITE_STAFF, site_id=_site_id(app, world.pharmacy_code))
    browser = factory.signed_in(staff)
    for name in ("one", "two", "three"):
        token = csrf_token(browser, "/account/tokens")
        page = browser.post("/account/tokens", data={"csrf_token": token, "name": name})
    assert "the most allowed" in page.get_data(as_text=True)
    with app.app_context():
        made = db.session.scalar(sa.select(sa.func.count()).where(ApiToken.user_id == staff.id))
    assert made == 2


# ---------- 4. The patient-wide count blocks nobody ----------


def test_wrong_guesses_elsewhere_do_not_block_the_real_pharmacy(app, factory):
    app.config["REMS_PATIENT_NOT_FOUND_LIMIT"] = "3 per hour"
    world = gate(app, factory)
    admin_ids = {world.admin.id}
    client = app.test_client()
    for index in range(3):
        _, token = site_with_staff(app, factory, world.admin, dispenses=True, infuses=False,
                                   name=f"Guessing Pharmacy {index}")  # fmt: skip
        for day in ("1950-01-01", "1950-01-02"):
            assert _codes(_ask(client, token, world.request(date_of_birth=day))) == [
                "PATIENT_NOT_FOUND"
            ]
    # six wrong dates of birth for the patient: the real pharmacy is still answered
    granted = _ask(client, world.pharmacy_token, world.request(doses=1))
    assert granted.status_code == 201, granted.get_json()
    alerts = _alerts(app)
    assert {a.recipient_id for a in alerts} == admin_ids  # told once, not per guess
    assert world.patient.rems_id in alerts[0].subject


# ---------- 5. A pharmacy that is not certified learns nothing ----------


def _suspend(app, world) -> None:
    with app.app_context(), writing():
        row = db.session.scalar(sa.select(Site).where(Site.site_code == world.pharmacy_code))
        admin = db.session.get(User, world.admin.id)
        apply_transition(db.session, row, Transition.SUSPEND, actor=admin, today=today(),
                         reason="Audit findings.")  # fmt: skip
        db.session.commit()


def test_a_suspended_pharmacy_hears_only_that_it_is_not_certified(app, factory):
    world = gate(app, factory)
    _suspend(app, world)
    client = app.test_client()
    right = _ask(client, world.pharmacy_token, world.request()).get_json()
    wrong = _ask(client, world.pharmacy_token, world.request(date_of_birth="1950-01-01")).get_json()
    for answer in (right, wrong):
        assert [r["code"] for r in answer["reasons"]] == ["PHARMACY_NOT_CERTIFIED"]
        assert answer["warnings"] == []
        assert world.patient.rems_id not in str(answer)
    assert {k: v for k, v in right.items() if k != "decision_id"} == {
        k: v for k, v in wrong.items() if k != "decision_id"
    }


def test_a_suspended_pharmacy_cannot_make_tokens(app, factory):
    world = gate(app, factory)
    staff = factory.user(Role.SITE_STAFF, site_id=_site_id(app, world.pharmacy_code))
    browser = factory.signed_in(staff)
    _suspend(app, world)
    token = csrf_token(browser, "/account/tokens")
    page = browser.post("/account/tokens", data={"csrf_token": token, "name": "Pharmacy system"})
    assert "The site of this account is not certified" in page.get_data(as_text=True)
