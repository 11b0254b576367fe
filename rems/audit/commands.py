"""`flask rems audit-verify`, `audit-anchor` and `grant-app-role`: the trail's integrity outside
the application's reach."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from rems.audit.anchor import AnchorError, anchor_path
from rems.audit.anchoring import AnchorRefused, anchor_chain, check_anchor
from rems.audit.roles import RoleError, grant_app_role
from rems.audit.verify import verify_chain
from rems.common.transactions import writing
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
    check = check_anchor(db.session)
    if check.problem:
        click.echo(f"Audit chain does NOT MATCH its anchor: {check.problem}.", err=True)
        raise SystemExit(1)
    if check.anchor is None:
        _no_anchor(check)
        return
    click.echo(
        f"Anchor matches: event seq {check.anchor.seq} as anchored at "
        f"{check.anchor.anchored_at}; {report.checked - check.anchor.seq} events since."
    )


def _no_anchor(check) -> None:
    """Nothing anchored yet: a failure when anchors are configured (AUDIT_ANCHOR_KEY is set)."""
    if check.configured:
        click.echo(
            f"Audit anchor MISSING: AUDIT_ANCHOR_KEY is set but {anchor_path()} holds no anchor; "
            "run `flask rems audit-anchor` and find out why the file is missing or empty.",
            err=True,
        )
        raise SystemExit(1)
    click.echo("Anchors are not configured (AUDIT_ANCHOR_KEY is not set): the chain's newest "
               "rows are not checked against an anchor.")  # fmt: skip


@click.command("audit-anchor")
@with_appcontext
def audit_anchor():
    """Verify the chain and its last anchor, then append the chain's head, with its HMAC, to
    the anchor file (a scheduled job). When the chain does not hold, refuse and tell the
    administrators."""
    with writing():
        try:
            anchor = anchor_chain(db.session)
        except AnchorRefused as refused:
            db.session.commit()  # the refusal's event and the administrators' alerts
            click.echo(f"Audit anchor REFUSED: {refused}. Nothing was anchored; the "
                       "administrators are told.", err=True)  # fmt: skip
            raise SystemExit(1) from None
        except (AnchorError, OSError) as error:
            db.session.rollback()
            click.echo(f"Error: {error}", err=True)
            raise SystemExit(1) from None
        db.session.commit()
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
