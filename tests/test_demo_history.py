"""The demo's history is dated on the days it tells of: a party certified on day X has its
certification's status change, audit event and as-of answer on X; every party and patient reads
as-of each day of its history what that history says; authorizations are issued before their
doses; nothing is stamped after the day the demo was loaded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from rems.audit.asof import status_at
from rems.audit.models import AuditEvent, StatusChange
from rems.audit.pointintime import authorization_at
from rems.auth.models import Role
from rems.authorizations.models import Authorization
from rems.certification.models import CertStatus
from rems.certification.queries import certification_at
from rems.common.clock import utcnow
from rems.common.programday import day_end, day_of
from rems.extensions import db
from rems.infusions.models import Infusion
from rems.patients.models import Patient
from rems.patients.queries import enrollment_at
from rems.prescribers.models import Prescriber
from rems.sites.models import Site


@pytest.fixture
def demo(app, runner, clock):
    clock.advance(days=200, hours=14)  # a New York evening: UTC's date is the next day
    result = runner.invoke(args=["rems", "demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _last_change_by_day(session, record) -> dict:
    """The status each day of the record's history ended with (program days)."""
    changes = session.scalars(
        sa.select(StatusChange)
        .where(StatusChange.entity_type == record.__tablename__)
        .where(StatusChange.entity_id == record.id)
        .order_by(StatusChange.changed_at, StatusChange.id)
    ).all()
    return {day_of(change.changed_at): change.to_status for change in changes}


def _parties(session):
    return [*session.scalars(sa.select(Prescriber)), *session.scalars(sa.select(Site))]


def test_every_party_and_patient_reads_its_history_as_of_each_of_its_days(app, demo):
    with app.app_context():
        session = db.session
        now = utcnow()
        checked = 0
        for record in [*_parties(session), *session.scalars(sa.select(Patient))]:
            ask = certification_at if not isinstance(record, Patient) else enrollment_at
            history = _last_change_by_day(session, record)
            assert day_of(record.created_at) <= min(history, default=day_of(now))
            before = day_of(record.created_at) - timedelta(days=1)
            assert ask(session, record, day_end(before)).status is None
            for day, status in history.items():
                if day < day_of(now):
                    assert ask(session, record, day_end(day)).status == status, (record, day)
                    checked += 1
            if getattr(record, "certified_on", None) is not None:
                on = day_end(record.certified_on)
                assert status_at(session, record, on, initial="draft").status == "certified"
                assert history[record.certified_on] in ("certified", "suspended", "revoked")
        assert checked >= 10


def test_each_certification_audit_event_is_on_the_party_s_certified_day(app, demo):
    with app.app_context():
        for party in _parties(db.session):
            if party.certified_on is None:
                continue
            events = db.session.scalars(
                sa.select(AuditEvent.occurred_at)
                .where(AuditEvent.entity_type == party.__tablename__)
                .where(AuditEvent.entity_id == str(party.id))
                .where(AuditEvent.action.like("%certif%"))
            ).all()
            assert events and day_of(min(events)) == party.certified_on, party


def test_authorizations_are_issued_before_their_doses(app, demo):
    with app.app_context():
        grants = db.session.scalars(sa.select(Authorization)).all()
        doses = db.session.scalars(sa.select(Infusion)).all()
        assert grants and doses
        for dose in doses:
            grant = next(g for g in grants if g.id == dose.authorization_id)
            assert grant.issued_at < dose.recorded_at
            assert day_of(grant.issued_at) < dose.administered_on
            then = authorization_at(db.session, grant, dose.recorded_at - timedelta(seconds=1))
            assert then is not None


def test_nothing_is_stamped_after_the_day_the_demo_was_loaded(app, demo):
    with app.app_context():
        now = utcnow()
        latest = db.session.scalar(sa.select(sa.func.max(AuditEvent.occurred_at)))
        assert latest <= now + timedelta(seconds=1)
        assert db.session.scalar(sa.select(sa.func.max(StatusChange.changed_at))) <= now


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_dr_patel_reads_certified_as_of_a_day_after_his_certification(app, demo, factory):
    with app.app_context():
        patel = db.session.scalar(sa.select(Prescriber).where(Prescriber.last_name == "Patel"))
        certified_on, party_id = patel.certified_on, patel.id
        assert patel.status == CertStatus.SUSPENDED
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    page = f"/admin/certification/prescribers/{party_id}"
    later = (certified_on + timedelta(days=13)).isoformat()
    assert "was certified" in _text(auditor.get(page, query_string={"as_of": later}))
    assert certified_on.isoformat() in _text(auditor.get(page))
    before = (certified_on - timedelta(days=1)).isoformat()
    assert "did not exist yet" in _text(auditor.get(page, query_string={"as_of": before}))
