"""The audit chain's anchor and the app's database role (issue 11, item 4): deleting the newest
rows or rewriting and re-hashing the chain passes the chain's own check, not the anchor's; on
PostgreSQL the app's role cannot touch the trail or its triggers."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from rems.audit.anchoring import ALERT_KIND
from rems.audit.models import AuditEvent
from rems.audit.trail import compute_row_hash
from rems.audit.verify import verify_chain
from rems.auth import users
from rems.auth.models import Role
from rems.common.transactions import writing
from rems.extensions import db as _db
from rems.notifications.models import Notification

KEY = "anchor-key-kept-off-the-database"


@pytest.fixture
def anchored(app, tmp_path):
    """The app with an anchor key and file."""
    app.config.update(AUDIT_ANCHOR_KEY=KEY, AUDIT_ANCHOR_PATH=str(tmp_path / "anchors"))
    return app


def _events(app, *names: str) -> None:
    with app.app_context(), writing():
        for name in names:
            users.create_user(
                _db.session, actor=None, actor_label="test", username=name,
                email=f"{name}@example.org", full_name=name.title(), role=Role.AUDITOR,
                password="a perfectly fine passphrase",
            )  # fmt: skip
        _db.session.commit()


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=["rems", *args])


def _tamper(app, *statements: str | tuple[str, dict]) -> None:
    """What someone with the owner's rights could do: lift the guard, edit, restore."""
    with app.app_context(), _db.engine.begin() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
        else:
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_no_delete")
        for statement in statements:
            text, values = statement if isinstance(statement, tuple) else (statement, {})
            connection.execute(sa.text(text), values)
        if postgres:
            connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")


def _rehash_from(app, seq: int) -> None:
    """Re-chain every row from `seq` on, so that the chain verifies again."""
    with app.app_context():
        rows = _db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.seq)).all()
        previous = rows[seq - 2].row_hash if seq > 1 else "0" * 64
        updates = []
        for row in rows[seq - 1 :]:
            row.prev_hash = previous
            row.row_hash = previous = compute_row_hash(row)
            updates.append((row.seq, row.prev_hash, row.row_hash))
        _db.session.rollback()
    rechain = "UPDATE audit_event SET prev_hash = :p, row_hash = :h WHERE seq = :s"
    _tamper(app, *((rechain, {"s": s, "p": p, "h": h}) for s, p, h in updates))


def _chain_ok(app) -> bool:
    with app.app_context():
        return verify_chain(_db.session).ok


def test_the_anchor_holds_the_head_and_later_events_still_verify(anchored):
    _events(anchored, "ann", "ben", "cat")
    written = _cli(anchored, "audit-anchor")
    assert written.exit_code == 0 and "event seq 3" in written.output
    _events(anchored, "dan")
    verified = _cli(anchored, "audit-verify")
    assert verified.exit_code == 0, verified.output
    # since the anchor: its own `audit.anchored` event, and dan's account
    assert "Anchor matches: event seq 3" in verified.output and "2 events since" in verified.output


def test_deleting_the_newest_rows_is_caught_by_the_anchor(anchored):
    _events(anchored, "ann", "ben", "cat")
    _cli(anchored, "audit-anchor")
    _tamper(anchored, "DELETE FROM audit_event WHERE seq >= 3")
    assert _chain_ok(anchored)  # what the chain alone cannot see
    result = _cli(anchored, "audit-verify")
    assert result.exit_code == 1
    assert "event seq 3" in result.output and "the newest rows were deleted" in result.output


def test_a_rewritten_and_rehashed_chain_is_caught_by_the_anchor(anchored):
    _events(anchored, "ann", "ben", "cat")
    _cli(anchored, "audit-anchor")
    _tamper(anchored, "UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 2")
    _rehash_from(anchored, 2)
    assert _chain_ok(anchored)
    result = _cli(anchored, "audit-verify")
    assert result.exit_code == 1
    assert "rewritten and re-hashed" in result.output


def test_an_edited_anchor_file_is_caught_by_its_hmac(anchored, tmp_path):
    _events(anchored, "ann", "ben")
    _cli(anchored, "audit-anchor")
    path = tmp_path / "anchors"
    path.write_text(path.read_text().replace('"seq": 2', '"seq": 1'))
    result = _cli(anchored, "audit-verify")
    assert result.exit_code == 1
    assert "HMAC does not match" in result.output


def test_no_anchor_without_a_key(app, tmp_path):
    app.config["AUDIT_ANCHOR_PATH"] = str(tmp_path / "anchors")
    result = _cli(app, "audit-anchor")
    assert result.exit_code == 1
    assert "AUDIT_ANCHOR_KEY is not set" in result.output
    assert not (tmp_path / "anchors").exists()


# ---------- Issue 22, item 2: no anchor for a tampered chain ----------


def _admin_alerts(app) -> list[Notification]:
    with app.app_context():
        rows = _db.session.scalars(
            sa.select(Notification).where(Notification.kind == ALERT_KIND)
        ).all()
        for row in rows:
            _db.session.expunge(row)
        return rows


def test_a_truncated_chain_is_not_anchored_again(anchored, factory, tmp_path):
    admin = factory.user(Role.ADMIN)
    _events(anchored, "ann", "ben", "cat")
    assert _cli(anchored, "audit-anchor").exit_code == 0
    before = (tmp_path / "anchors").read_text()
    _tamper(anchored, "DELETE FROM audit_event WHERE seq >= 3")
    assert _chain_ok(anchored)
    refused = _cli(anchored, "audit-anchor")
    assert refused.exit_code == 1
    assert (
        "Audit anchor REFUSED" in refused.output
        and "the newest rows were deleted" in refused.output
    )
    assert (tmp_path / "anchors").read_text() == before  # the forged head is not blessed
    [alert] = _admin_alerts(anchored)
    assert alert.recipient_id == admin.id and alert.link == "/audit/verify"
    assert "deleted" in alert.body
    again = _cli(anchored, "audit-verify")
    assert again.exit_code == 1 and "does NOT MATCH" in again.output


def test_a_rechained_trail_is_not_anchored_again(anchored, factory, tmp_path):
    factory.user(Role.ADMIN)
    _events(anchored, "ann", "ben", "cat")
    _cli(anchored, "audit-anchor")
    _tamper(anchored, "UPDATE audit_event SET reason = 'nothing to see' WHERE seq = 2")
    _rehash_from(anchored, 2)
    refused = _cli(anchored, "audit-anchor")
    assert refused.exit_code == 1 and "rewritten and re-hashed" in refused.output
    assert len(_admin_alerts(anchored)) == 1
    assert _cli(anchored, "audit-verify").exit_code == 1


def test_a_broken_chain_is_not_anchored(anchored, factory):
    factory.user(Role.ADMIN)
    _events(anchored, "ann", "ben")
    _tamper(anchored, "UPDATE audit_event SET reason = 'edited' WHERE seq = 1")
    refused = _cli(anchored, "audit-anchor")
    assert refused.exit_code == 1 and "broken at event seq 1" in refused.output
    assert len(_admin_alerts(anchored)) == 1


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_an_emptied_or_deleted_anchor_file_is_a_failure(anchored, factory, tmp_path, how):
    factory.user(Role.ADMIN)
    _events(anchored, "ann", "ben")
    assert _cli(anchored, "audit-anchor").exit_code == 0
    path = tmp_path / "anchors"
    path.write_text("") if how == "emptied" else path.unlink()
    verified = _cli(anchored, "audit-verify")
    assert verified.exit_code == 1 and "is missing or empty" in verified.output
    refused = _cli(anchored, "audit-anchor")
    assert refused.exit_code == 1 and "is missing or empty" in refused.output
    assert len(_admin_alerts(anchored)) == 1


def test_a_configured_anchor_that_was_never_written_fails_verification(anchored):
    _events(anchored, "ann")
    verified = _cli(anchored, "audit-verify")
    assert verified.exit_code == 1 and "Audit anchor MISSING" in verified.output
    assert _cli(anchored, "audit-anchor").exit_code == 0  # the first anchor of a new trail
    assert _cli(anchored, "audit-verify").exit_code == 0


def test_the_auditors_page_checks_the_anchor_too(anchored, factory):
    auditor = factory.signed_in(factory.user(Role.AUDITOR))
    _events(anchored, "ann", "ben", "cat")
    _cli(anchored, "audit-anchor")
    intact = auditor.get("/audit/verify").get_data(as_text=True)
    assert "The audit trail is intact" in intact and "exactly as it was anchored" in intact
    _tamper(anchored, "DELETE FROM audit_event WHERE seq >= 4")  # the anchored head and after
    page = auditor.get("/audit/verify").get_data(as_text=True)
    assert "The audit trail is intact" in page  # the chain alone holds …
    assert "The audit trail does not match its anchor" in page  # … the anchor does not


# ---------- PostgreSQL: the app's role ----------


@pytest.fixture
def app_role(app, database_url):
    """A login role of its own, granted the app's privileges by `flask rems grant-app-role`."""
    role = f"rems_app_{uuid.uuid4().hex[:8]}"
    with app.app_context(), _db.engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        connection.commit()
    result = _cli(app, "grant-app-role", role)
    assert result.exit_code == 0, result.output
    url = sa.engine.make_url(database_url).set(username=role, password=None)
    engine = sa.create_engine(url.render_as_string(hide_password=False).replace(
        "postgresql://", "postgresql+psycopg://"))  # fmt: skip
    yield engine
    engine.dispose()
    with app.app_context(), _db.engine.connect() as connection:
        connection.exec_driver_sql(f"DROP OWNED BY {role}")
        connection.exec_driver_sql(f"DROP ROLE {role}")
        connection.commit()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_event SET reason = 'edited'",
        "DELETE FROM audit_event",
        "TRUNCATE audit_event",
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "DROP TRIGGER audit_event_no_update_or_delete ON audit_event",
    ],
)
def test_the_app_role_may_not_touch_the_trail(app, app_role, statement):
    _events(app, "ann")
    with app_role.connect() as connection, pytest.raises(sa.exc.ProgrammingError) as refused:
        connection.exec_driver_sql(statement)
    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)


@pytest.mark.postgres
def test_the_app_role_runs_the_app(app, app_role, database_url):
    from rems import create_app

    url = app_role.url.render_as_string(hide_password=False)
    as_app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    as_app.extensions["rems_clock"] = app.extensions["rems_clock"]
    _events(as_app, "ann", "ben")  # writes accounts and appends to the trail
    with as_app.app_context():
        assert verify_chain(_db.session).checked == 2
        _db.session.remove()
        _db.engine.dispose()
