"""The notifications outbox: queueing once per fact, delivery over real SMTP, and the pages."""

from __future__ import annotations

import socket
from email import message_from_bytes

import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth import users
from rems.auth.models import Role
from rems.extensions import db
from rems.notifications.models import DeliveryState, Notification
from rems.notifications.services import notify
from tests import smtp


def _queue(app, username, *, key=None, subject="Test result overdue", body="CBC is overdue."):
    """Queue a message for `username` through the service, committed."""
    with app.app_context():
        recipient = users.find_user(db.session, username)
        message = notify(db.session, recipient, kind="monitoring_overdue", subject=subject,
                         body=body, key=key, link="/patients")  # fmt: skip
        db.session.commit()
        return None if message is None else message.id


def _messages(app):
    with app.app_context():
        return db.session.execute(
            sa.select(Notification.subject, Notification.state, Notification.recipient_id)
        ).all()


def test_a_fact_is_notified_once_with_an_audit_event(app, factory):
    doctor = factory.user(Role.PRESCRIBER)
    assert _queue(app, doctor.username, key="overdue:p1:cbc:2027-01-24") is not None
    assert _queue(app, doctor.username, key="overdue:p1:cbc:2027-01-24") is None
    assert _queue(app, doctor.username) is not None  # no key: always queued
    assert [row.state for row in _messages(app)] == [DeliveryState.QUEUED] * 2
    with app.app_context():
        actions = db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity_type == "notification")
        ).all()
    assert actions == ["notification.queued", "notification.queued"]


def test_a_rolled_back_change_takes_its_message_back(app, factory):
    doctor = factory.user(Role.PRESCRIBER)
    with app.app_context():
        recipient = users.find_user(db.session, doctor.username)
        notify(db.session, recipient, kind="x", subject="s", body="b", key="k")
        db.session.rollback()
    assert _messages(app) == []
    assert _queue(app, doctor.username, key="k") is not None


def test_a_subject_is_one_line(app, factory):
    doctor = factory.user(Role.PRESCRIBER)
    _queue(app, doctor.username, subject="Overdue\r\nBcc: someone@example.org")
    assert _messages(app)[0].subject == "Overdue Bcc: someone@example.org"


def test_delivery_sends_each_message_once_over_smtp(app, factory, runner, smtp_server):
    port, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, REMS_BASE_URL="https://rems.test")
    doctor = factory.user(Role.PRESCRIBER)
    _queue(app, doctor.username, key="a", subject="Two tests overdue")
    result = runner.invoke(args=["rems", "deliver-notifications"])
    assert result.exit_code == 0, result.output
    assert "Sent 1 message(s); 0 failed" in result.output
    assert len(inbox.received) == 1
    mail = message_from_bytes(inbox.received[0].content)
    assert mail["To"] == f"{doctor.username}@example.org"
    assert mail["Subject"] == "Two tests overdue"
    assert "https://rems.test/patients" in mail.get_payload()
    assert [row.state for row in _messages(app)] == [DeliveryState.SENT]

    again = runner.invoke(args=["rems", "deliver-notifications"])
    assert "Sent 0 message(s)" in again.output and len(inbox.received) == 1


def test_without_a_relay_messages_wait_in_the_outbox(app, factory, runner):
    doctor = factory.user(Role.PRESCRIBER)
    _queue(app, doctor.username)
    result = runner.invoke(args=["rems", "deliver-notifications"])
    assert "No MAIL_SERVER configured" in result.output
    assert [row.state for row in _messages(app)] == [DeliveryState.QUEUED]


def test_an_unreachable_relay_is_reported_and_nothing_changes(app, factory, runner):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port)
    doctor = factory.user(Role.PRESCRIBER)
    _queue(app, doctor.username)
    result = runner.invoke(args=["rems", "deliver-notifications"])
    assert result.exit_code == 1 and "could not be reached" in result.output
    assert [row.state for row in _messages(app)] == [DeliveryState.QUEUED]


def test_the_dashboard_shows_only_the_users_own_messages(app, factory):
    doctor, other = factory.user(Role.PRESCRIBER), factory.user(Role.PRESCRIBER)
    _queue(app, doctor.username, subject="Denied: the patient must acknowledge the guide")
    _queue(app, other.username, subject="Someone else's <b>news</b>")
    page = factory.signed_in(doctor).get("/dashboard").get_data(as_text=True)
    assert "Denied: the patient must acknowledge the guide" in page
    assert "Someone else" not in page
    others = factory.signed_in(other).get("/notifications").get_data(as_text=True)
    assert "Someone else&#39;s &lt;b&gt;news&lt;/b&gt;" in others
    assert "Denied" not in others


def test_an_empty_dashboard_says_so(app, factory):
    page = factory.signed_in(factory.user(Role.SITE_STAFF)).get("/dashboard")
    assert "Nothing needs your attention" in page.get_data(as_text=True)


def test_the_outbox_lists_and_filters_every_message(app, factory):
    doctor, nurse = factory.user(Role.PRESCRIBER), factory.user(Role.DELEGATE)
    _queue(app, doctor.username, subject="For the doctor")
    _queue(app, nurse.username, subject="For the delegate")
    admin = factory.signed_in(factory.user(Role.ADMIN))
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert "For the doctor" in page and "For the delegate" in page
    assert "No mail relay is configured" in page
    filtered = admin.get(f"/admin/outbox?recipient={nurse.username}").get_data(as_text=True)
    assert "For the delegate" in filtered and "For the doctor" not in filtered
    sent_only = admin.get("/admin/outbox?state=sent").get_data(as_text=True)
    assert "No message matches these filters" in sent_only
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    assert "For the doctor" in auditor.get("/admin/outbox").get_data(as_text=True)


class _Refusing(smtp.Inbox):
    """Refuses mail for one mailbox, accepts the rest."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("refused"):
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_a_refused_message_is_marked_failed_and_tried_again(app, factory, runner):
    inbox = _Refusing()
    with smtp.running(inbox) as port:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        _queue(app, factory.user(Role.PRESCRIBER, username="refused.doc").username)
        _queue(app, factory.user(Role.PRESCRIBER).username)
        result = runner.invoke(args=["rems", "deliver-notifications"])
        assert "Sent 1 message(s); 1 failed" in result.output
        again = runner.invoke(args=["rems", "deliver-notifications"])
        assert "Sent 0 message(s); 1 failed" in again.output
    with app.app_context():
        failed = db.session.scalar(
            sa.select(Notification).where(Notification.state == DeliveryState.FAILED)
        )
        assert failed.attempts == 2 and "550" in failed.last_error
    assert len(inbox.received) == 1
