"""The administrators' page of CDS Hooks clients: the list (auditors see it too), registering
one, deactivating one. Forms carry CSRF tokens; every change goes through `cds_clients`, which
audits it."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from rems.admin.forms import ReasonForm
from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.errors import StateConflict, ValidationFailed
from rems.common.forms import show_errors
from rems.extensions import db
from rems.interop import cds_clients
from rems.interop.cds_models import CdsClient
from rems.sites.models import Site

bp = Blueprint("cds_admin", __name__, url_prefix="/admin/cds-clients")


class NewCdsClientForm(FlaskForm):
    """An EHR allowed to call the CDS Hooks services."""

    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    issuer = StringField("JWT issuer (iss)", validators=[DataRequired(), Length(max=500)])
    jwks = TextAreaField("Public keys (JWKS as JSON)", validators=[Optional(), Length(max=65536)])
    jwks_url = StringField("…or the JWKS's https URL (fetched now)",
                           validators=[Optional(), Length(max=500)])  # fmt: skip
    site_code = StringField("Speaks for our site (site ID, optional)",
                            validators=[Optional(), Length(max=16)])  # fmt: skip
    organisation = StringField("Organisation (when not one of our sites)",
                               validators=[Optional(), Length(max=200)])  # fmt: skip


@bp.get("")
@roles(Role.ADMIN, Role.AUDITOR)
def client_list():
    """Every registered client, newest first."""
    rows = db.session.execute(
        sa.select(CdsClient, Site.site_code)
        .outerjoin(Site, Site.id == CdsClient.site_id)
        .order_by(CdsClient.created_at.desc(), CdsClient.id.desc())
    ).all()
    return render_template("admin/cds_clients.html", rows=rows, form=ReasonForm())


@bp.route("/new", methods=["GET", "POST"])
@roles(Role.ADMIN)
def client_new():
    """Register a client."""
    form = NewCdsClientForm()
    if form.validate_on_submit():
        try:
            values = {k: v or "" for k, v in form.data.items() if k != "csrf_token"}
            client = cds_clients.register_client(db.session, actor=current_actor(), **values)
        except ValidationFailed as failure:
            db.session.rollback()
            show_errors(form, failure.errors)
        else:
            db.session.commit()
            flash(f"CDS client {client.name} registered.", "success")
            return redirect(url_for("cds_admin.client_list"))
    return render_template("admin/cds_client_new.html", form=form)


@bp.post("/<int:client_id>/deactivate")
@roles(Role.ADMIN)
def client_deactivate(client_id: int):
    """Refuse the client's calls from now on."""
    client = db.get_or_404(CdsClient, client_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash("Give the reason for deactivating the client.", "error")
        return redirect(url_for("cds_admin.client_list"))
    try:
        cds_clients.deactivate_client(db.session, actor=current_actor(), client=client,
                                      reason=form.reason.data)  # fmt: skip
    except (StateConflict, ValidationFailed) as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"CDS client {client.name} deactivated.", "success")
    return redirect(url_for("cds_admin.client_list"))
