"""Administrators waiving the same monitoring item at the same moment: one waiver is stored,
and every other administrator gets a clear 409 page naming who waived it (never a 500).
Real concurrent requests on the per-test SQLite file, or PostgreSQL with REMS_TEST_POSTGRES_URL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from rems.auth.models import Role, User
from rems.extensions import db
from rems.monitoring.models import MonitoringWaiver
from rems.program.model import add_months
from tests.concurrent import send, serving, together
from tests.factories import csrf_token
from tests.monitoring.helpers import days, move_to, treated_patient

ADMINISTRATORS = 6


@pytest.fixture
def port(app):
    with serving(app) as port:
        yield port


def _signed_in_form(factory, admin, path: str) -> tuple[str, str]:
    """An administrator's session cookie and the waive form's CSRF token."""
    client = factory.signed_in(admin)
    token = csrf_token(client, path)
    return client.get_cookie("rems_session").value, token


def test_concurrent_waivers_of_one_item_store_one_and_name_its_author(app, factory, clock, port):
    treated = treated_patient(app, factory, clock)
    move_to(clock, add_months(treated.first_dose, 1) + days(8))
    path = f"/patients/{treated.world.patient.rems_id}/monitoring/waive"
    item = f"cbc|{add_months(treated.first_dose, 1).isoformat()}"
    admins = [factory.user(Role.ADMIN) for _ in range(ADMINISTRATORS)]
    sessions = [_signed_in_form(factory, admin, path) for admin in admins]
    form = {"item": item, "reason": "Hospitalised"}
    calls = [
        lambda cookie=cookie, token=token, admin=admin: send(
            port,
            "POST",
            path,
            Cookie=f"rems_session={cookie}",
            form=form | {"csrf_token": token, "password": admin.password},
        )
        for admin, (cookie, token) in zip(admins, sessions, strict=True)
    ]
    replies = together(calls)
    assert sorted(reply.status for reply in replies) == [302] + [409] * (ADMINISTRATORS - 1), [
        (reply.status, reply.error or reply.text[:300]) for reply in replies
    ]
    winner = admins[[reply.status for reply in replies].index(302)]
    with app.app_context():
        name = db.session.get(User, winner.id).full_name
    for loser in (reply for reply in replies if reply.status == 409):
        assert "text/html" in loser.headers["Content-Type"]
        text = re.sub(r"\s+", " ", loser.text)
        assert f"This item was already waived by {name} ({winner.username})" in text, text[:3000]
    with app.app_context():
        waivers = db.session.scalars(sa.select(MonitoringWaiver)).all()
        assert [w.waived_by_id for w in waivers] == [winner.id]
