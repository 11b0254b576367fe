"""The `flask rems …` commands: accounts (password resets, unlocks), tokens, demo data, audit
verification, backups."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy.engine import make_url

from rems.auth import resets, tokens, users
from rems.auth.models import Role
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.transactions import writing
from rems.extensions import db

rems_cli = AppGroup("rems", help="Administer the REMS system.")


def _fail(failure: Exception) -> None:
    """Print a service's refusal, field by field, and exit non-zero; nothing was stored."""
    db.session.rollback()
    if isinstance(failure, ValidationFailed):
        for field, messages in failure.errors.items():
            for message in messages:
                click.echo(f"Error: {field}: {message}", err=True)
    else:
        click.echo(f"Error: {failure}", err=True)
    raise SystemExit(1)


@rems_cli.command("create-user")
@click.option("--username", required=True, help="3–80 characters: letters, digits, . _ -")
@click.option("--full-name", required=True, help="Name printed on the user's signatures.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--representative", is_flag=True, help="Site staff: the site's representative.")
@click.password_option(help="Prompted for (twice) when not given.")
def create_user(username, full_name, email, role, representative, password):
    """Create a user account."""
    with writing():
        try:
            user = users.create_user(
                db.session, actor=None, actor_label="cli:create-user", username=username,
                email=email, full_name=full_name, role=role, password=password,
                is_authorized_representative=representative,
            )  # fmt: skip
        except ValidationFailed as failure:
            _fail(failure)
        db.session.commit()
    click.echo(f"Created {user.role.label.lower()} {user.username}.")


@rems_cli.command("create-token")
@click.option("--username", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="Name it after the system that will use it.")
def create_token(username, name):
    """Create an API token for a user and print it once."""
    with writing():
        owner = users.find_user(db.session, username)
        if owner is None:
            _fail(ValidationFailed.single("username", f"No user named {username!r}."))
        try:
            _, plaintext = tokens.issue_token(
                db.session, owner=owner, name=name, actor=None, actor_label="cli:create-token"
            )
        except (ValidationFailed, StateConflict) as failure:
            _fail(failure)
        db.session.commit()
    click.echo(f"API token for {owner.username} ({name}). It is shown only now; store it safely:")
    click.echo(plaintext)


@rems_cli.command("reset-password")
@click.argument("username")
@click.option(
    "--prompt", "typed", is_flag=True,
    help="Type the temporary password (asked twice, hidden) instead of generating one.",
)  # fmt: skip
@click.option("--reason", default="", help="Recorded in the audit trail.")
def reset_password(username, typed, reason):
    """Reset USERNAME's password to a temporary one they must change at their next sign-in;
    their sessions end and their failed sign-ins are cleared. A generated one is printed once."""
    password = None
    if typed:
        password = click.prompt("Temporary password", hide_input=True, confirmation_prompt=True)
    with writing():
        user = _account(username)
        try:
            password = resets.reset_password(
                db.session, user, actor=None, actor_label="cli:reset-password",
                password=password, reason=reason,
            )  # fmt: skip
        except (ValidationFailed, StateConflict) as failure:
            _fail(failure)
        db.session.commit()
    click.echo(f"The password of {user.username} is reset; their sessions have ended.")
    if not typed:
        click.echo("Temporary password, shown only now (they must change it at next sign-in):")
        click.echo(password)


@rems_cli.command("unlock-user")
@click.argument("username")
@click.option("--reason", default="", help="Recorded in the audit trail.")
def unlock_user(username, reason):
    """Clear USERNAME's failed sign-ins so that they can sign in at once (password unchanged)."""
    with writing():
        user = _account(username)
        try:
            cleared = resets.unlock(
                db.session, user, actor=None, actor_label="cli:unlock-user", reason=reason
            )
        except StateConflict as failure:
            _fail(failure)
        db.session.commit()
    click.echo(f"Unlocked {user.username}: {cleared} failed sign-in(s) no longer count.")


def _account(username: str):
    """The account with this username, or a refusal naming it."""
    user = users.find_user(db.session, username)
    if user is None:
        _fail(ValidationFailed.single("username", f"No user named {username!r}."))
    return user


@rems_cli.command("expire-certifications")
def expire_certifications():
    """Move prescribers and sites past their certification's last day to expired (daily job)."""
    from rems.certification.services import expire_lapsed
    from rems.common.localtime import program_today

    with writing():
        moved = expire_lapsed(db.session, program_today())
        db.session.commit()
    click.echo(f"Expired {moved} certification(s) whose period had ended.")


@rems_cli.command("expire-authorizations")
def expire_authorizations_command():
    """Expire live authorizations past their last day; unused doses return (daily job)."""
    from rems.common.localtime import program_today
    from rems.courses.settling import expire_authorizations

    with writing():
        moved = expire_authorizations(db.session, program_today())
        db.session.commit()
    click.echo(f"Expired {moved} authorization(s) past their validity; unused doses returned.")


@rems_cli.command("deliver-notifications")
def deliver_notifications_command():
    """Mail every queued message in the outbox (daily job; without MAIL_SERVER, it waits)."""
    from rems.notifications.delivery import deliver_queued

    if not current_app.config.get("MAIL_SERVER"):
        click.echo("No MAIL_SERVER configured: messages stay in the outbox and on dashboards.")
        return
    with writing():
        try:
            sent, failed = deliver_queued(db.session, current_app.config, now=utcnow())
        except OSError as failure:
            _fail(RuntimeError(f"the mail relay could not be reached: {failure}"))
    click.echo(f"Sent {sent} message(s); {failed} failed and will be tried again.")


@rems_cli.command("backup")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Backup file.")
def backup(output: Path | None):
    """Back up the database (SQLite: online backup; PostgreSQL: prints the pg_dump command)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    if url.get_backend_name() == "postgresql":
        target = output or Path(f"rems-{stamp}.dump")
        plain = url.set(drivername="postgresql")
        click.echo("Run this on a machine with PostgreSQL client tools (password not shown):")
        click.echo(f"pg_dump --format=custom --file={target} '{plain.render_as_string()}'")
        return
    target = output or Path(current_app.instance_path) / f"rems-backup-{stamp}.sqlite3"
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(url.database)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    click.echo(f"Backed up {url.database} to {target}.")


def install(app: Flask) -> None:
    """Attach the command group, with the demo data's, rebuild-monitoring's, the report
    export's, the expiry notices', the monitoring reminders' and the audit trail's commands."""
    from rems.adverse_events.cli import adverse_event_clock
    from rems.alerts.cli import escalate_alerts_command
    from rems.audit.commands import COMMANDS as AUDIT_COMMANDS
    from rems.certification.cli import notify_expiring_certifications
    from rems.demo.command import demo
    from rems.monitoring.cli import rebuild_monitoring
    from rems.reminders.cli import send_reminders
    from rems.reports.cli import export_report
    from rems.reports.summary_cli import summarise_reports

    rems_cli.add_command(demo)
    rems_cli.add_command(rebuild_monitoring)
    rems_cli.add_command(export_report)
    rems_cli.add_command(notify_expiring_certifications)
    rems_cli.add_command(send_reminders)
    rems_cli.add_command(escalate_alerts_command)
    rems_cli.add_command(adverse_event_clock)
    rems_cli.add_command(summarise_reports)
    for command in AUDIT_COMMANDS:
        rems_cli.add_command(command)
    app.cli.add_command(rems_cli)
