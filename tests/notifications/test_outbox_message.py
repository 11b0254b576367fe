"""One message of the outbox, opened by an administrator or auditor: its full text, recipient,
link and every delivery attempt; nobody else may open it."""

from __future__ import annotations

from rems.auth.models import Role
from tests import smtp
from tests.notifications.test_outbox import _queue, _Refusing

BODY = "Two tests are overdue.\n\nCBC with differential #3 was due on 2027-01-24 <b>today</b>."


def test_an_administrator_opens_a_message_from_the_outbox(app, factory):
    doctor = factory.user(Role.PRESCRIBER)
    message_id = _queue(app, doctor.username, subject="Monitoring: 2 overdue", body=BODY)
    admin = factory.signed_in(factory.user(Role.ADMIN))
    listing = admin.get("/admin/outbox").get_data(as_text=True)
    assert f'href="/admin/outbox/{message_id}">Monitoring: 2 overdue</a>' in listing

    page = admin.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert "<h1>Monitoring: 2 overdue</h1>" in page
    assert f"({doctor.username}, {doctor.username}@example.org)" in page
    assert "<p>Two tests are overdue.</p>" in page
    assert "due on 2027-01-24 &lt;b&gt;today&lt;/b&gt;." in page  # full text, escaped
    assert '<a href="/patients"><code>/patients</code></a>' in page
    assert "0 attempt(s)" in page and "No mail relay is configured" in page


def test_the_message_lists_each_delivery_attempt(app, factory, runner):
    inbox = _Refusing()
    with smtp.running(inbox) as port:
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        refused = factory.user(Role.PRESCRIBER, username="refused.doc")
        message_id = _queue(app, refused.username)
        runner.invoke(args=["rems", "deliver-notifications"])
        runner.invoke(args=["rems", "deliver-notifications"])
        auditor = factory.signed_in(factory.user(Role.AUDITOR))
        page = auditor.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert "2 attempt(s); the last one failed" in page
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert rows.count("<tr>") == 2 and rows.count("<td>failed</td>") == 2
    assert "550" in rows


def test_only_administrators_and_auditors_open_a_message(app, factory):
    doctor = factory.user(Role.PRESCRIBER)
    message_id = _queue(app, doctor.username)
    assert factory.signed_in(doctor).get(f"/admin/outbox/{message_id}").status_code == 403
    admin = factory.signed_in(factory.user(Role.ADMIN))
    assert admin.get(f"/admin/outbox/{message_id + 1000}").status_code == 404


def test_the_menu_marks_the_outbox_or_your_messages_never_both(app, factory):
    doctor = factory.user(Role.PRESCRIBER)
    message_id = _queue(app, doctor.username)
    admin = factory.signed_in(factory.user(Role.ADMIN))
    opened = admin.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert '<a href="/admin/outbox" aria-current="true">Outbox</a>' in opened
    assert '<a href="/notifications">Messages</a>' in opened
    own = admin.get("/notifications").get_data(as_text=True)
    assert '<a href="/notifications" aria-current="page">Messages</a>' in own
    assert '<a href="/admin/outbox">Outbox</a>' in own
