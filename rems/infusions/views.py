"""The infusion site's pages: the authorizations for the site (live first) and the infusion
record of one of them. Same service as the JSON API."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for

from rems.audit.access import note_read
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.authorizations.forms import authorization_page, authorization_rows
from rems.authorizations.models import LIVE_AUTHORIZATION_STATUSES, Authorization
from rems.authorizations.views import site_that, visible_or_404
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.common.localtime import local_today_for_site, site_zone
from rems.common.pagination import paginate
from rems.common.transactions import reading
from rems.extensions import db
from rems.infusions import forms
from rems.infusions.deviations import DeviationsToConfirm
from rems.infusions.models import Reaction
from rems.infusions.not_infused import record_not_infused
from rems.infusions.services import record_infusion
from rems.patients.models import Patient

bp = Blueprint("infusions", __name__, url_prefix="/infusions")

CONFIRM = "Read the protocol deviations above, then confirm that you are recording what happened."
FLAGGED = (
    "{count} protocol deviation(s) are recorded with the dose and flagged; the responsible "
    "party answers for them in a non-compliance case."
)
NOT_INFUSED = "The visit is recorded as not infused; no dose was counted."
RECORDED = "Dose {dose} of course {course} is recorded. The course is now {status}."
ADVERSE_EVENT = (
    "A serious reaction was recorded: an adverse event is now on the patient's record for the "
    "prescriber and the program."
)


def for_site(site_id: int) -> sa.Select:
    """The authorizations an infusion site receives: live ones first, then the newest."""
    live = Authorization.status.in_([s.value for s in LIVE_AUTHORIZATION_STATUSES])
    return (
        sa.select(Authorization)
        .where(Authorization.infusion_site_id == site_id)
        .order_by(sa.case((live, 0), else_=1), Authorization.id.desc())
    )


@bp.get("")
@roles(Role.SITE_STAFF)
def site_list():
    """The authorizations for this infusion site, live first, each with its record link."""
    site = site_that("infuses")
    page = paginate(for_site(site.id))
    rows = authorization_rows(db.session, page.items, local_today_for_site(site))
    return render_template("infusions/list.html", site=site, page=page, rows=rows)


@bp.route("/<number>/record", methods=["GET", "POST"])
@roles(Role.SITE_STAFF)
def record(number: str):
    """Record one dose given under an authorization for this site; errors on their fields."""
    site = site_that("infuses")
    authorization = visible_or_404(number)
    if authorization.infusion_site_id != site.id:
        abort(404)
    zone = site_zone(site)
    form = forms.infusion_form(current_app.extensions["rems_program"], zone.key)
    if not form.is_submitted():
        form.administered_on.data = local_today_for_site(site)
    elif form.validate_on_submit() and (done := _record(authorization, form, site)):
        return done
    deviations = getattr(form, "pending_deviations", ())
    facts = authorization_page(
        db.session, authorization, current_actor(), local_today_for_site(site)
    )
    patient = db.session.get(Patient, facts["course"].patient_id) if facts["may_record"] else None
    if patient is not None:  # the initials and date of birth to check the patient against
        db.session.rollback()  # a failed post's re-read must not hold the write lock…
        with reading():  # …nor take it again while the read is logged
            note_read(current_actor(), "page", "patient", patient.rems_id)
    return render_template(
        "infusions/record.html", form=form, dose_number=facts["course"].doses_given + 1,
        patient=patient, site_zone_name=zone.key, pending=deviations, **facts,
    ), 422 if form.is_submitted() else 200  # fmt: skip


def _record(authorization: Authorization, form, site):
    """Record through the service: a redirect when done or refused, None to show errors."""
    number = authorization.number
    record = forms.infusion_record(form, site_zone(site))
    try:
        recorded = record_infusion(
            db.session, authorization, current_actor(), record, today=local_today_for_site(site)
        )
    except DeviationsToConfirm as unconfirmed:
        db.session.rollback()
        form.pending_deviations = unconfirmed.described
        form.deviations_acknowledged.errors = [CONFIRM]
        return None
    except ValidationFailed as failure:
        db.session.rollback()
        show_errors(form, failure.errors)
        return None
    except StateConflict as conflict:
        db.session.rollback()
        flash(str(conflict), "error")
        return redirect(url_for("authorizations.detail", number=number))
    dose, course = recorded.infusion.dose_number, recorded.course
    done = RECORDED.format(
        dose=dose, course=course.number, status=course.status.value.replace("_", " ")
    )
    serious = recorded.infusion.reaction == Reaction.SERIOUS
    warnings = [w["message"] for w in recorded.warnings]
    if recorded.deviations:
        warnings.append(FLAGGED.format(count=len(recorded.deviations)))
    db.session.commit()
    flash(done, "success")
    for message in [*warnings, *([ADVERSE_EVENT] if serious else [])]:
        flash(message, "warning")
    return redirect(url_for("authorizations.detail", number=number))


@bp.route("/<number>/not-infused", methods=["GET", "POST"])
@roles(Role.SITE_STAFF)
def not_infused(number: str):
    """The receiving site records a visit that ended without an infusion, with its reason."""
    site = site_that("infuses")
    authorization = visible_or_404(number)
    if authorization.infusion_site_id != site.id:
        abort(404)
    form = forms.not_infused_form(current_app.extensions["rems_program"])
    if not form.is_submitted():
        form.visit_on.data = local_today_for_site(site)
    elif form.validate_on_submit():
        record = {"visit_on": form.visit_on.data, "reason": form.reason.data,
                  "notes": form.notes.data}  # fmt: skip
        try:
            record_not_infused(db.session, authorization, current_actor(), record)
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, failure.errors)
        else:
            db.session.commit()
            flash(NOT_INFUSED, "success")
            return redirect(url_for("authorizations.detail", number=number))
    page = render_template("infusions/not_infused.html", form=form, authorization=authorization)
    return page, 422 if form.is_submitted() else 200
