"""The adverse-event blueprint and what its pages share: one event of a patient the user may see
(or a 404), and the event's page with its forms."""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from rems.adverse_events import forms, presenters, queries
from rems.auth.permissions import current_actor
from rems.common.localtime import program_today
from rems.extensions import db
from rems.infusions.models import Infusion

bp = Blueprint("adverse_events", __name__)


def _event_or_404(event_id: int):
    found = queries.event_for(db.session, current_actor(), event_id)
    if found is None:
        abort(404)
    return found


def _detail(event, patient, form, status: int = 200, follow_up=None, submitted=None):
    row = presenters.event_rows(db.session, [event])[0]
    infusion = db.session.get(Infusion, event.infusion_id) if event.infusion_id else None
    return render_template(
        "adverse_events/detail.html", row=row, event=event, patient=patient, form=form,
        infusion=infusion, follow_ups=presenters.follow_up_rows(db.session, event.id),
        follow_up_form=follow_up or forms.FollowUpForm(formdata=None),
        submitted_form=submitted or forms.SubmittedForm(formdata=None),
        clock=presenters.clock_of(event, program_today()),
    ), status  # fmt: skip
