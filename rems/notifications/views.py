"""Each user's own messages, and the administrators' view of the whole outbox."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles, signed_in
from rems.common.pagination import paginate
from rems.extensions import db
from rems.notifications import queries
from rems.notifications.forms import OutboxFilterForm
from rems.notifications.models import Notification

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@signed_in
def own_list():
    """The signed-in user's messages, newest first, a page at a time."""
    page = paginate(queries.own_statement(current_actor()))
    return render_template("notifications/own.html", page=page)


@bp.get("/admin/outbox")
@roles(Role.ADMIN, Role.AUDITOR)
def outbox():
    """Every message the system has queued, with its delivery state."""
    filters = OutboxFilterForm(request.args)
    statement = queries.outbox_statement(filters.state.data, filters.recipient.data)
    return render_template(
        "notifications/outbox.html",
        filters=filters,
        page=paginate(statement),
        counts=queries.state_counts(db.session),
        mail_configured=bool(current_app.config.get("MAIL_SERVER")),
    )


@bp.get("/admin/outbox/<int:message_id>")
@roles(Role.ADMIN, Role.AUDITOR)
def outbox_message(message_id: int):
    """One message as queued: full text, recipient, link, and every delivery attempt."""
    message = db.session.get(Notification, message_id)
    if message is None:
        abort(404)
    return render_template(
        "notifications/outbox_message.html",
        message=message,
        attempts=queries.delivery_attempts(db.session, message),
        outcomes=queries.DELIVERY_OUTCOMES,
        mail_configured=bool(current_app.config.get("MAIL_SERVER")),
    )
