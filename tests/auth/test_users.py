"""Account services: validation names the field, nothing partial is stored."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from rems.audit.models import AuditEvent
from rems.auth import own_password, users
from rems.auth.models import Role, User
from rems.common.errors import StateConflict, ValidationFailed
from tests.factories import PASSWORD


def _create(db, **overrides):
    fields = dict(
        actor=None, actor_label="test", username="casey", email="casey@example.org",
        full_name="Casey Example", role=Role.AUDITOR, password=PASSWORD,
    )  # fmt: skip
    fields.update(overrides)
    return users.create_user(db.session, **fields)


def _count(db, model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_passwords_are_argon2id_hashes(db):
    user = _create(db)
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_usernames_are_case_insensitive_and_unique(db):
    _create(db, username="Casey")
    db.session.commit()
    with pytest.raises(ValidationFailed) as failure:
        _create(db, username="  CASEY ", email="other@example.org")
    assert failure.value.errors == {"username": ["This username is already taken."]}
    db.session.rollback()
    assert _count(db, User) == 1
    assert _count(db, AuditEvent) == 1


def test_every_bad_field_is_reported_at_once(db):
    with pytest.raises(ValidationFailed) as failure:
        _create(db, username="x", email="nope", full_name=" ", role="wizard", password="short")
    assert set(failure.value.errors) == {"username", "email", "full_name", "role", "password"}
    assert "Use at least 12 characters." in failure.value.errors["password"]


def test_password_may_not_contain_the_username(db):
    with pytest.raises(ValidationFailed, match="must not contain the username"):
        _create(db, password="casey-is-my-password")


def test_change_password_checks_the_current_one_and_rotates_the_session(db):
    user = _create(db)
    db.session.commit()
    old_token = user.session_token
    with pytest.raises(ValidationFailed) as failure:
        own_password.change_password(
            db.session, user, current_password="wrong", new_password="another long secret"
        )
    assert "current_password" in failure.value.errors
    own_password.change_password(
        db.session, user, current_password=PASSWORD, new_password="another long secret"
    )
    db.session.commit()
    assert user.session_token != old_token
    actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.seq))
    assert list(actions) == ["user.created", "user.password_change_failed", "user.password_changed"]


def test_deactivation_needs_a_reason_and_cannot_repeat(db):
    admin = _create(db, username="boss", email="boss@example.org", role=Role.ADMIN)
    user = _create(db)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="reason"):
        users.set_active(db.session, user, False, actor=admin, reason=" ")
    users.set_active(db.session, user, False, actor=admin, reason="Left the program")
    db.session.commit()
    assert not user.is_active
    with pytest.raises(StateConflict, match="already deactivated"):
        users.set_active(db.session, user, False, actor=admin, reason="again")
    with pytest.raises(StateConflict, match="your own account"):
        users.set_active(db.session, admin, False, actor=admin, reason="oops")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.deactivated"))
    assert (event.reason, event.old_values, event.new_values) == (
        "Left the program",
        {"active": True},
        {"active": False},
    )
