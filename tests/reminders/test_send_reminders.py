"""`flask rems send-reminders` end to end: one digest per prescriber over a real SMTP server,
nothing new on a second run, an item again only when its state changes."""

from __future__ import annotations

from datetime import date, timedelta
from email import message_from_bytes

import sqlalchemy as sa

from rems.auth.models import User
from rems.common.transactions import writing
from rems.extensions import db
from rems.notifications.models import Notification
from rems.patients.models import Patient
from rems.prior_treatment.services import PriorCourse, record_prior_course
from rems.reminders.models import MonitoringReminder
from tests.authorizations.helpers import gate
from tests.factories import PASSWORD
from tests.patients.helpers import certified_prescriber, enroll_patient


def treated(app, world, patient, first: date, by=None) -> None:
    """A prior course 1 of five doses from `first`, recorded by the patient's prescriber (the
    world's unless `by`): the patient's 48 months start then."""
    with app.app_context(), writing():
        record_prior_course(
            db.session, db.session.get(Patient, patient.id),
            db.session.get(User, (by or world.prescriber).user.id),
            PriorCourse({f"dose_{n}": first + timedelta(days=n) for n in range(5)}, "Chart"),
            password=PASSWORD, today=date(2026, 11, 24),
        )  # fmt: skip
        db.session.commit()


def reminders(app) -> set[tuple]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                MonitoringReminder.test_code, MonitoringReminder.item, MonitoringReminder.state
            )
        )
        return set(rows.all())


def test_one_digest_a_day_over_smtp_and_never_an_item_twice(
    app, factory, runner, clock, smtp_server
):
    port, inbox = smtp_server
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    world = gate(app, factory, with_course=False)
    certified_prescriber(app, factory, world.admin, "Idle")  # no patients: no digest
    treated(app, world, world.patient, date(2026, 10, 1))
    treated(app, world, enroll_patient(app, world.prescriber), date(2026, 10, 1))

    first = runner.invoke(args=["rems", "send-reminders"])
    assert first.exit_code == 0, first.output
    # each patient: CBC, creatinine and urinalysis #1 overdue (due 11-01), #2 due 12-01 (this week)
    assert "Queued 1 digest(s) telling of 12 item(s)." in first.output
    assert "Sent 1 message(s)" in first.output
    assert len(inbox.received) == 1
    mail = message_from_bytes(inbox.received[0].content)
    assert mail["Subject"] == "Monitoring: 2 patient(s) overdue, 2 overdue or due this week"
    body = mail.get_payload()
    block = body[body.index(world.patient.rems_id) - len(world.patient.name) - 2 :]
    assert block.startswith(f"{world.patient.name} ({world.patient.rems_id})")
    assert f"/patients/{world.patient.rems_id}" in block
    assert "  - overdue: CBC with differential #1 (due 2026-11-01)" in block
    assert "  - due this week: CBC with differential #2 (due 2026-12-01)" in block
    assert "Skin exam" not in body and "TSH" not in body  # not due within the week
    assert ("cbc", 1, "overdue") in reminders(app) and ("cbc", 2, "due_soon") in reminders(app)

    again = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 0 digest(s) telling of 0 item(s)." in again.output
    assert "Sent 0 message(s)" in again.output and len(inbox.received) == 1

    clock.advance(days=15)  # 2026-12-09: item 2 is past its grace, item 3 not due this week
    later = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 1 digest(s) telling of 12 item(s)." in later.output
    assert len(inbox.received) == 2
    second = message_from_bytes(inbox.received[1].content).get_payload()
    assert "overdue: CBC with differential #2 (due 2026-12-01)" in second
    assert "overdue: CBC with differential #1 (due 2026-11-01)" in second  # still overdue
    assert "- due this week" not in second and "2027-01-01" not in second


def test_without_a_relay_the_digest_waits_in_the_outbox(app, factory, runner):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 10, 1))
    result = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 1 digest(s)" in result.output
    assert "No MAIL_SERVER configured: the digests wait in the outbox." in result.output
    with app.app_context():
        digest = db.session.scalar(sa.select(Notification))
        assert digest.state == "queued" and digest.recipient_id == world.prescriber.user.id
    outbox = factory.signed_in(world.admin).get("/admin/outbox").get_data(as_text=True)
    assert "Monitoring: 1 patient(s) overdue, 1 overdue or due this week" in outbox


def test_a_closed_record_is_not_reminded(app, factory, runner):
    world = gate(app, factory, with_course=False)
    treated(app, world, world.patient, date(2026, 10, 1))
    with app.app_context(), writing():
        from rems.patients import lifecycle

        patient = db.session.get(Patient, world.patient.id)
        actor = db.session.get(User, world.prescriber.user.id)
        lifecycle.close(
            db.session, patient, actor, close_reason="lost_to_follow_up",
            closed_on=date(2026, 11, 20), note="Moved away", today=date(2026, 11, 24),
        )  # fmt: skip
        db.session.commit()
    result = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 0 digest(s)" in result.output


def test_each_prescriber_gets_their_own_digest_built_one_at_a_time(
    app, factory, runner, monkeypatch
):
    monkeypatch.setattr("rems.reminders.cli.PROGRESS_EVERY", 1)
    world = gate(app, factory, with_course=False)
    other = certified_prescriber(app, factory, world.admin, "Okafor")
    theirs = enroll_patient(app, other)
    treated(app, world, world.patient, date(2026, 10, 1))
    treated(app, world, theirs, date(2026, 10, 1), by=other)
    result = runner.invoke(args=["rems", "send-reminders"])
    assert result.exit_code == 0, result.output
    assert "... 1 of 2 prescribers, 1 patients in their digests" in result.output  # on stderr
    assert "Queued 2 digest(s) telling of 12 item(s)." in result.output
    with app.app_context():
        digests = {n.recipient_id: n.body for n in db.session.scalars(sa.select(Notification))}
    mine, others = digests[world.prescriber.user.id], digests[other.user.id]
    assert set(digests) == {world.prescriber.user.id, other.user.id}
    assert world.patient.rems_id in mine and world.patient.rems_id not in others
    assert theirs.rems_id in others and theirs.rems_id not in mine


def test_a_digest_names_a_few_patients_and_counts_the_rest_never_naming_an_item_twice(
    app, factory, runner, clock, monkeypatch
):
    monkeypatch.setattr("rems.reminders.digest.DIGEST_PATIENTS", 1)
    monkeypatch.setattr("rems.reminders.digest.PAGE", 1)
    world = gate(app, factory, with_course=False)
    other = enroll_patient(app, world.prescriber)
    treated(app, world, world.patient, date(2026, 10, 1))
    treated(app, world, other, date(2026, 10, 1))

    def digests() -> list[str]:
        with app.app_context():
            return list(db.session.scalars(sa.select(Notification.body).order_by(Notification.id)))

    first = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 1 digest(s) telling of 12 item(s)." in first.output
    (body,) = digests()
    assert (
        "2 of your patients have something overdue or due this week (2 overdue): 12 item(s)" in body
    )
    assert "  CBC with differential: 2 overdue, 0 due, 2 due within the week" in body
    assert "every patient is on your worklist: /worklist" in body
    assert world.patient.rems_id in body and other.rems_id not in body  # one named
    assert {r[0] for r in reminders(app)} == {"cbc", "creatinine", "urinalysis"}
    with app.app_context():
        named = db.session.scalars(sa.select(MonitoringReminder.patient_id)).all()
    assert set(named) == {world.patient.id} and len(named) == 6

    clock.advance(days=1)  # the same states: only the patient not named yet is new
    second = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 1 digest(s) telling of 12 item(s)." in second.output
    body = digests()[1]
    assert other.rems_id in body and world.patient.rems_id not in body

    clock.advance(days=1)  # every item named in its state: nothing new
    third = runner.invoke(args=["rems", "send-reminders"])
    assert "Queued 0 digest(s) telling of 0 item(s)." in third.output
    assert len(digests()) == 2
