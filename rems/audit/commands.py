"""`flask rems audit-verify`, `audit-anchor` and `grant-app-role`: the trail's integrity outside
the application's reach."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from rems.audit.anchor import AnchorError, anchor_path, anchor_problem, last_anchor, write_anchor
from rems.audit.roles import RoleError, grant_app_role
from rems.audit.verify import verify_chain
from rems.extensions import db


@click.command("audit-verify")
@with_appcontext
def audit_verify():
    """Re-hash the whole audit chain, name the first broken row, check the last anchor."""
    report = verify_chain(db.session)
    if not report.ok:
        click.echo(
            f"Audit chain BROKEN at event seq {report.broken_seq} (id {report.broken_id}): "
            f"{report.problem}. {report.checked} events before it are intact.",
            err=True,
        )
        raise SystemExit(1)
    click.echo(f"Audit chain intact: {report.checked} events checked.")
    try:
        anchor = last_anchor()
        problem = anchor and anchor_problem(db.session, anchor)
    except AnchorError as error:
        click.echo(f"Audit anchor NOT CHECKED: {error}", err=True)
        raise SystemExit(1) from None
    if anchor is None:
        click.echo(f"No anchor in {anchor_path()} yet: schedule `flask rems audit-anchor`.")
        return
    if problem:
        click.echo(f"Audit chain does NOT MATCH its anchor: {problem}.", err=True)
        raise SystemExit(1)
    click.echo(
        f"Anchor matches: event seq {anchor.seq} as anchored at {anchor.anchored_at}; "
        f"{report.checked - anchor.seq} events since."
    )


@click.command("audit-anchor")
@with_appcontext
def audit_anchor():
    """Append the audit chain's head, with its HMAC, to the anchor file (a scheduled job)."""
    try:
        anchor = write_anchor(db.session)
    except (AnchorError, OSError) as error:
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None
    click.echo(
        f"Anchored the audit chain at event seq {anchor.seq} (hash {anchor.row_hash[:16]}…) "
        f"in {anchor_path()}."
    )


@click.command("grant-app-role")
@with_appcontext
@click.argument("role")
def grant_app_role_command(role: str):
    """PostgreSQL, run as the tables' owner after every migration: let ROLE (the app's login)
    read and write the tables, but only INSERT and SELECT the audit trail and the access log."""
    try:
        granted = grant_app_role(db.session, role)
    except RoleError as error:
        db.session.rollback()
        click.echo(f"Error: {error}", err=True)
        raise SystemExit(1) from None
    db.session.commit()
    click.echo(f"Granted {role} the app's privileges on {granted} tables; the audit trail and "
               "the access log are append-only for it.")  # fmt: skip


#: Added to the `flask rems` group by rems.cli.
COMMANDS = (audit_verify, audit_anchor, grant_app_role_command)
