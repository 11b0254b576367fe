"""The `flask rems` commands."""

from __future__ import annotations

import sqlite3

import pytest
import sqlalchemy as sa

from rems.auth.models import ApiToken, User
from rems.demo.accounts import DEMO_PASSWORD, DEMO_USERS
from rems.demo.parties import PRESCRIBERS, SITES
from rems.extensions import db
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.sites.models import Site


def _create_user(runner, username="pharm.admin", role="site_staff", password="long enough secret"):
    return runner.invoke(
        args=[
            "rems", "create-user", "--username", username, "--full-name", "Pat Pharm",
            "--email", f"{username}@example.org", "--role", role, "--representative",
        ],
        input=f"{password}\n{password}\n",
    )  # fmt: skip


def test_create_user_prompts_for_the_password(app, runner):
    result = _create_user(runner)
    assert result.exit_code == 0, result.output
    assert "Created site staff pharm.admin." in result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert user.is_authorized_representative and user.role.value == "site_staff"


def test_create_user_names_the_bad_field_and_stores_nothing(app, runner):
    assert _create_user(runner).exit_code == 0
    result = _create_user(runner, password="short")
    assert result.exit_code == 1
    assert "Error: username: This username is already taken." in result.output
    assert "Error: password: Use at least 12 characters." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_token_prints_it_once_and_stores_its_hash(app, runner):
    _create_user(runner, username="audit.system", role="auditor")
    result = runner.invoke(
        args=["rems", "create-token", "--username", "audit.system", "--name", "PMS"]
    )
    assert result.exit_code == 0, result.output
    plaintext = result.output.strip().splitlines()[-1]
    assert plaintext.startswith("rems_")
    with app.app_context():
        token = db.session.scalar(sa.select(ApiToken))
        assert token.name == "PMS" and plaintext not in token.token_hash


def test_no_token_for_staff_of_a_site_that_is_not_certified(app, runner):
    _create_user(runner)  # site staff, no certified site
    result = runner.invoke(
        args=["rems", "create-token", "--username", "pharm.admin", "--name", "PMS"]
    )
    assert result.exit_code == 1
    assert "The site of this account is not certified" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken)) is None


def test_create_token_for_unknown_user(runner):
    result = runner.invoke(args=["rems", "create-token", "--username", "ghost", "--name", "x"])
    assert result.exit_code == 1
    assert "Error: username: No user named 'ghost'." in result.output


def test_demo_is_idempotent_and_prints_how_to_sign_in(app, runner):
    first = runner.invoke(args=["rems", "demo"])
    assert first.exit_code == 0, first.output
    assert DEMO_PASSWORD in first.output
    assert "admin" in first.output and "created" in first.output
    second = runner.invoke(args=["rems", "demo"])
    assert second.exit_code == 0
    assert "already there" in second.output
    assert "Riverside Specialty Pharmacy (dispenses): certified until" in second.output
    with app.app_context():
        staff = sum(1 for *_, member in SITES.values() if member)
        count = db.session.scalar(sa.select(sa.func.count()).select_from(User))
        assert count == len(DEMO_USERS) + staff
        statuses = set(db.session.scalars(sa.select(Prescriber.status)))
        assert {s.value for s in statuses} == {
            "draft",
            "submitted",
            "certified",
            "suspended",
            "expired",
            "revoked",
        }
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Site)) == len(SITES)
        patient_statuses = {s.value for s in db.session.scalars(sa.select(Patient.status))}
        assert patient_statuses == {"pending", "enrolled", "discontinued", "closed"}
        assert (
            db.session.scalar(
                sa.select(sa.func.count()).where(Patient.possible_duplicate_of_id.is_not(None))
            )
            == 1
        )
        assert len(PRESCRIBERS) == db.session.scalar(
            sa.select(sa.func.count()).select_from(Prescriber)
        )


def test_backup(app, runner, tmp_path):
    _create_user(runner)
    target = tmp_path / "copy.sqlite3"
    result = runner.invoke(args=["rems", "backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert "pg_dump --format=custom" in result.output
        assert "***" in result.output or "@" in result.output
        return
    with sqlite3.connect(target) as copy:
        assert copy.execute("SELECT username FROM user_account").fetchall() == [("pharm.admin",)]


@pytest.mark.parametrize(
    "command",
    [
        "create-user",
        "create-token",
        "demo",
        "audit-verify",
        "backup",
        "expire-certifications",
        "expire-authorizations",
        "reset-password",
        "unlock-user",
    ],
)
def test_every_command_has_help(runner, command):
    result = runner.invoke(args=["rems", command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output
