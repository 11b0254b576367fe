"""A gate world whose infusion site records deviating doses over the API, and the people who
answer for them: the site's representative, the administrator, an auditor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from rems.auth.models import Role
from rems.compliance.models import NonComplianceCase
from rems.extensions import db
from rems.sites.models import Site
from tests.authorizations.helpers import Gate, infusion
from tests.factories import UserRef


@dataclass(frozen=True)
class Answering:
    """The gate and the accounts of a case's life."""

    world: Gate
    site_rep: UserRef
    auditor: UserRef


def answering(app, factory, world: Gate) -> Answering:
    """The infusion site's authorized representative and an auditor, for `world`."""
    with app.app_context():
        site_id = db.session.scalar(sa.select(Site.id).where(Site.site_code == world.site_code))
    rep = factory.user(Role.SITE_STAFF, site_id=site_id, representative=True)
    return Answering(world, rep, factory.user(Role.AUDITOR))


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def grant(client, world: Gate, **changes) -> str:
    """A dispensing authorization for the gate's patient: its number."""
    answer = client.post(
        "/api/v1/authorizations",
        json=world.request(**changes),
        headers=bearer(world.pharmacy_token),
    )
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["authorization_number"]


def infuse(client, world: Gate, number: str, day: date, *, acknowledged: bool, **changes):
    """Record a dose on `day` over the API, confirming its deviations or not."""
    body = infusion(day, **changes)
    if acknowledged:
        body["deviations_acknowledged"] = True
    path = f"/api/v1/authorizations/{number}/infusions"
    return client.post(path, json=body, headers=bearer(world.nurse_token))


def cases(app) -> list[NonComplianceCase]:
    """Every case, oldest first (detached)."""
    with app.app_context():
        found = list(db.session.scalars(sa.select(NonComplianceCase).order_by("id")))
        for case in found:
            db.session.expunge(case)
        return found
