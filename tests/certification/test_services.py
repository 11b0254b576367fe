"""Certification services: every transition keeps a history row and an audit event; refused
ones store nothing; expiry, renewal and revocation behave as the program says."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent, StatusChange
from rems.auth.models import Role, User
from rems.certification.models import CertificationSubmission, CertStatus
from rems.certification.rules import Transition
from rems.certification.services import (
    apply_transition,
    decide_submission,
    expire_lapsed,
    pending_submission,
)
from rems.common.clock import today
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db
from rems.prescribers.models import Prescriber
from tests.certification.helpers import certify, make_prescriber, resubmit_prescriber

S = CertStatus


def _counts() -> tuple[int, int]:
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(StatusChange)),
        db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)),
    )


def _prescriber_in(app, factory, clock, status: CertStatus):
    """A prescriber brought to `status` through the services; returns (ref, admin ref)."""
    admin = factory.user(Role.ADMIN)
    party = make_prescriber(app, factory, submit=status != S.DRAFT)
    if status in (S.CERTIFIED, S.SUSPENDED, S.EXPIRED, S.REVOKED):
        certify(app, party, admin)
    if status in (S.SUSPENDED, S.REVOKED):
        transition = Transition.SUSPEND if status == S.SUSPENDED else Transition.REVOKE
        with app.app_context(), writing():
            apply_transition(
                db.session, db.session.get(Prescriber, party.id), transition,
                actor=db.session.get(User, admin.id), today=today(), reason="setup",
            )  # fmt: skip
            db.session.commit()
    if status == S.EXPIRED:
        clock.advance(days=2 * 366)
    return party, admin


ALLOWED = [
    (S.DRAFT, Transition.SUBMIT, S.SUBMITTED),
    (S.EXPIRED, Transition.SUBMIT, S.SUBMITTED),
    (S.SUBMITTED, Transition.CERTIFY, S.CERTIFIED),
    (S.SUBMITTED, Transition.REJECT, S.DRAFT),
    (S.CERTIFIED, Transition.SUSPEND, S.SUSPENDED),
    (S.SUSPENDED, Transition.REINSTATE, S.CERTIFIED),
    (S.SUBMITTED, Transition.REVOKE, S.REVOKED),
    (S.CERTIFIED, Transition.REVOKE, S.REVOKED),
    (S.SUSPENDED, Transition.REVOKE, S.REVOKED),
    (S.EXPIRED, Transition.REVOKE, S.REVOKED),
    (S.CERTIFIED, Transition.EXPIRE, S.EXPIRED),
    (S.SUSPENDED, Transition.EXPIRE, S.EXPIRED),
]


@pytest.mark.parametrize(("start", "transition", "end"), ALLOWED)
def test_allowed_transition_writes_history_and_audit(app, factory, clock, start, transition, end):
    party, admin = _prescriber_in(app, factory, clock, start)
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        stored_before = prescriber.status
        before = _counts()
        apply_transition(
            db.session, prescriber, transition, actor=db.session.get(User, admin.id),
            today=today(), reason="because the test says so",
        )  # fmt: skip
        db.session.commit()
        lapse = 1 if stored_before != start else 0  # an expiry the daily job had not recorded
        closed = 1 if (start, transition) == (S.SUBMITTED, Transition.REVOKE) else 0
        assert prescriber.status == end
        assert _counts() == (before[0] + 1 + lapse, before[1] + 1 + lapse + closed)
        row = db.session.scalars(sa.select(StatusChange).order_by(StatusChange.id.desc())).first()
        assert (row.from_status, row.to_status) == (start.value, end.value)
        assert row.changed_by_id == admin.id and row.reason == "because the test says so"
        event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event.action == f"prescriber.{transition.value}"
        assert (event.old_values, event.new_values) == (
            {"status": start.value},
            {"status": end.value},
        )


FORBIDDEN = [
    (status, transition)
    for status in S
    for transition in Transition
    if (status, transition) not in {(a, t) for a, t, _ in ALLOWED}
]


@pytest.mark.parametrize(("start", "transition"), FORBIDDEN)
def test_forbidden_transition_changes_nothing(app, factory, clock, start, transition):
    party, admin = _prescriber_in(app, factory, clock, start)
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        if prescriber.status != start:  # record the lapse first, as the daily job would
            expire_lapsed(db.session, today())
            db.session.commit()
        before = _counts()
        with pytest.raises(StateConflict, match=f"Cannot {transition.value}"):
            apply_transition(
                db.session, prescriber, transition, actor=db.session.get(User, admin.id),
                today=today(), reason="try it",
            )  # fmt: skip
        db.session.rollback()
        assert db.session.get(Prescriber, party.id).status == start
        assert _counts() == before


def test_admin_decisions_need_reasons(app, factory, clock):
    party, _ = _prescriber_in(app, factory, clock, S.CERTIFIED)
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        with pytest.raises(ValidationFailed, match="reason"):
            apply_transition(db.session, prescriber, Transition.SUSPEND, actor=None, today=today())


def test_certification_lasts_the_program_period(app, factory, clock):
    party, _ = _prescriber_in(app, factory, clock, S.CERTIFIED)
    with app.app_context():
        prescriber = db.session.get(Prescriber, party.id)
        assert prescriber.certified_on == date(2026, 11, 24)
        assert prescriber.expires_on == date(2028, 11, 23)


def test_expire_job_is_idempotent_and_reads_do_not_wait_for_it(app, factory, clock, runner, client):
    party, _ = _prescriber_in(app, factory, clock, S.CERTIFIED)
    token = factory.token(factory.user(Role.AUDITOR))
    clock.advance(days=731)  # 2028-11-25: the day after the last day
    lookup = client.get(
        f"/api/v1/prescribers/{party.npi}", headers={"Authorization": f"Bearer {token}"}
    )
    assert lookup.get_json()["status"] == "expired"
    first = runner.invoke(args=["rems", "expire-certifications"])
    assert "Expired 1 certification(s)" in first.output
    again = runner.invoke(args=["rems", "expire-certifications"])
    assert "Expired 0 certification(s)" in again.output
    with app.app_context():
        assert db.session.get(Prescriber, party.id).status == S.EXPIRED


def test_early_renewal_keeps_the_party_certified_and_extends_without_losing_days(
    app, factory, clock
):
    party, admin = _prescriber_in(app, factory, clock, S.CERTIFIED)
    clock.advance(days=2 * 365 - 10)  # inside the 30-day window before 2028-11-23
    submission_id = resubmit_prescriber(app, party)
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        assert prescriber.status == S.CERTIFIED
        submission = db.session.get(CertificationSubmission, submission_id)
        assert submission.is_recertification
        decide_submission(
            db.session, submission, certify=True, actor=db.session.get(User, admin.id),
            today=today(),
        )  # fmt: skip
        db.session.commit()
        assert (prescriber.certified_on, prescriber.expires_on) == (
            date(2028, 11, 24),
            date(2030, 11, 23),
        )
        history = db.session.scalars(
            sa.select(StatusChange).where(StatusChange.entity_id == party.id)
        ).all()
        assert history[-1].to_status == "certified" and "Recertified" in history[-1].reason


def test_renewal_cannot_start_before_the_window(app, factory, clock):
    party, _ = _prescriber_in(app, factory, clock, S.CERTIFIED)
    clock.advance(days=30)
    with pytest.raises(StateConflict, match="renewal opens"):
        resubmit_prescriber(app, party)


def test_revocation_closes_a_pending_submission(app, factory, clock):
    party, admin = _prescriber_in(app, factory, clock, S.SUBMITTED)
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        apply_transition(
            db.session, prescriber, Transition.REVOKE, actor=db.session.get(User, admin.id),
            today=today(), reason="Fraudulent license",
        )  # fmt: skip
        db.session.commit()
        assert pending_submission(db.session, prescriber) is None
        submission = db.session.get(CertificationSubmission, party.submission_id)
        assert submission.decision == "closed"
        assert "Fraudulent license" in submission.decision_reason


def test_a_decided_submission_cannot_be_decided_again(app, factory, clock):
    party, _ = _prescriber_in(app, factory, clock, S.CERTIFIED)
    with app.app_context(), writing():
        submission = db.session.get(CertificationSubmission, party.submission_id)
        with pytest.raises(StateConflict, match="already decided"):
            decide_submission(db.session, submission, certify=False, actor=None,
                              today=today(), reason="no")  # fmt: skip


def test_suspension_stops_the_party_api_tokens_and_reinstatement_restores_them(
    app, factory, clock, client
):
    party, admin = _prescriber_in(app, factory, clock, S.CERTIFIED)
    headers = {"Authorization": f"Bearer {factory.token(party.user)}"}
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    for transition, expected in ((Transition.SUSPEND, 401), (Transition.REINSTATE, 200)):
        with app.app_context(), writing():
            apply_transition(
                db.session, db.session.get(Prescriber, party.id), transition,
                actor=db.session.get(User, admin.id), today=today(), reason="review",
            )  # fmt: skip
            db.session.commit()
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == expected
    clock.advance(days=800)
    assert client.get("/api/v1/me", headers=headers).status_code == 401  # expired


def test_a_lapse_the_job_missed_is_recorded_before_the_next_transition(app, factory, clock):
    party, admin = _prescriber_in(app, factory, clock, S.CERTIFIED)
    clock.advance(days=800)
    with app.app_context(), writing():
        prescriber = db.session.get(Prescriber, party.id)
        with pytest.raises(StateConflict, match="status is expired"):
            apply_transition(
                db.session, prescriber, Transition.SUSPEND,
                actor=db.session.get(User, admin.id), today=today(), reason="x",
            )  # fmt: skip
        db.session.rollback()
        apply_transition(
            db.session, prescriber, Transition.REVOKE, actor=db.session.get(User, admin.id),
            today=today(), reason="Never renewed; license lapsed",
        )  # fmt: skip
        db.session.commit()
        rows = db.session.scalars(
            sa.select(StatusChange).where(StatusChange.entity_id == party.id)
            .order_by(StatusChange.id)
        ).all()  # fmt: skip
        assert [(r.from_status, r.to_status, r.changed_by_id) for r in rows[-2:]] == [
            ("certified", "expired", None),
            ("expired", "revoked", admin.id),
        ]
        assert "ended on 2028-11-23" in rows[-2].reason
