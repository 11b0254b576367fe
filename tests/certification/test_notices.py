"""Notices before a certification ends: 60, 30 and 7 days before the last day, once each, to
the prescriber and to the site's authorized representative, through the outbox."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from rems.auth.models import Role
from rems.certification.notices import notice_due
from rems.extensions import db
from rems.notifications.models import Notification
from tests.certification.helpers import certify, make_prescriber, make_site


def test_the_due_notice_is_the_tightest_that_applies():
    last = date(2027, 3, 1)
    assert notice_due(last, last - timedelta(days=61)) is None
    assert notice_due(last, last - timedelta(days=60)) == 60
    assert notice_due(last, last - timedelta(days=31)) == 60
    assert notice_due(last, last - timedelta(days=30)) == 30
    assert notice_due(last, last - timedelta(days=8)) == 30
    assert notice_due(last, last - timedelta(days=7)) == 7
    assert notice_due(last, last) == 7
    assert notice_due(last, last + timedelta(days=1)) is None


def _messages(app) -> list[tuple[str, str]]:
    """(recipient username, subject) of every queued message, oldest first."""
    from rems.auth.models import User

    with app.app_context():
        rows = db.session.execute(
            sa.select(User.username, Notification.subject)
            .join(User, User.id == Notification.recipient_id)
            .where(Notification.kind == "certification_expiring")
            .order_by(Notification.id)
        ).all()
        return [tuple(row) for row in rows]


def test_the_daily_job_sends_each_notice_once(app, factory, clock, runner):
    admin = factory.user(Role.ADMIN)
    prescriber = make_prescriber(app, factory)
    certify(app, prescriber, admin)
    site = make_site(app, factory, name="Notice Pharmacy")
    certify(app, site, admin)
    with app.app_context():
        from rems.prescribers.models import Prescriber

        last = db.session.get(Prescriber, prescriber.id).expires_on
    days_to = (last - clock.now().date()).days
    clock.advance(days=days_to - 61)
    assert "Queued 0" in runner.invoke(args=["rems", "notify-expiring-certifications"]).output
    sent = []
    for step in (1, 1, 29, 1, 22, 1, 7):  # 60, 59, 30, 29, 7, 6, 0 days before the last day
        clock.advance(days=step)
        result = runner.invoke(args=["rems", "notify-expiring-certifications"])
        assert result.exit_code == 0, result.output
        sent.append(len(_messages(app)))
    assert sent == [2, 2, 4, 4, 6, 6, 6]
    messages = _messages(app)
    assert {who for who, _ in messages} == {prescriber.user.username, site.user.username}
    assert [s.split("(")[1] for w, s in messages if w == prescriber.user.username] == [
        "60 days)", "30 days)", "7 days)",
    ]  # fmt: skip
    clock.advance(days=1)
    assert "Queued 0" in runner.invoke(args=["rems", "notify-expiring-certifications"]).output
