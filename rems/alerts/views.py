"""Alert pages: the list (the team's own patients; every one for administrators and auditors),
one alert, and its acknowledgment with an action note. An alert on a patient who is not the
user's is a 404. The dashboards' "Needs attention" panel reads `attention_alerts()`."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length

from rems.alerts import queries
from rems.alerts.services import acknowledge_alert
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.pagination import paginate
from rems.extensions import db

bp = Blueprint("alerts", __name__)

VIEWERS = (Role.PRESCRIBER, Role.DELEGATE, Role.ADMIN, Role.AUDITOR)


class AcknowledgeForm(FlaskForm):
    """What was done about the result."""

    action_note = TextAreaField(
        "Action taken",
        validators=[Length(max=2000)],
        description="E.g. repeat count ordered, patient called, referred to haematology.",
    )


@bp.app_context_processor
def _attention():
    """`attention_alerts()` for the dashboards' panel: (rows, total) for the signed-in user."""

    def attention_alerts():
        user = current_actor()
        return queries.needing_attention(db.session, user) if user else ([], 0)

    return {"attention_alerts": attention_alerts}


@bp.get("/alerts")
@roles(*VIEWERS)
def alert_list():
    """Every alert the user may see, open ones first."""
    page = paginate(queries.visible_alerts(current_actor()))
    return render_template("alerts/list.html", page=page)


def _alert_or_404(alert_id: int):
    row = queries.alert_for(db.session, current_actor(), alert_id)
    if row is None:
        abort(404)
    return row


@bp.get("/alerts/<int:alert_id>")
@roles(*VIEWERS)
def alert_detail(alert_id: int):
    """One alert, with the acknowledgment form for the prescriber's team while it is open."""
    return render_template(
        "alerts/detail.html", alert=_alert_or_404(alert_id), form=AcknowledgeForm()
    )


@bp.post("/alerts/<int:alert_id>/acknowledge")
@roles(Role.PRESCRIBER, Role.DELEGATE)
def acknowledge(alert_id: int):
    """The prescriber or a delegate acknowledges the alert with the action taken."""
    alert = _alert_or_404(alert_id)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            acknowledge_alert(db.session, alert, current_actor(), note=form.action_note.data)
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, failure.errors)
        except StateConflict as conflict:
            db.session.rollback()
            flash(str(conflict), "error")
            return redirect(url_for("alerts.alert_detail", alert_id=alert_id))
        else:
            db.session.commit()
            flash("Alert acknowledged; your action is on record.", "success")
            return redirect(url_for("web.dashboard"))
    return render_template("alerts/detail.html", alert=alert, form=form), 422
