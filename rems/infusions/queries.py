"""Reads of the infusion record: the deviations flagged on doses, the visits not infused."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.infusions.models import InfusionDeviation, NotInfusedVisit


def deviations_by_infusion(
    session: Session, infusion_ids: list[int]
) -> dict[int, list[InfusionDeviation]]:
    """The deviations of these doses, by infusion id (one query)."""
    found: dict[int, list[InfusionDeviation]] = {}
    if not infusion_ids:
        return found
    rows = session.scalars(
        sa.select(InfusionDeviation)
        .where(InfusionDeviation.infusion_id.in_(infusion_ids))
        .order_by(InfusionDeviation.id)
    )
    for row in rows:
        found.setdefault(row.infusion_id, []).append(row)
    return found


def not_infused_visits(session: Session, authorization_id: int) -> list[NotInfusedVisit]:
    """The visits under an authorization that ended without an infusion, oldest first."""
    return list(
        session.scalars(
            sa.select(NotInfusedVisit)
            .where(NotInfusedVisit.authorization_id == authorization_id)
            .order_by(NotInfusedVisit.visit_on, NotInfusedVisit.id)
        )
    )
