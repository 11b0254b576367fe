"""Non-compliance reports: protocol deviations by code and site, visits not infused by reason,
and non-compliance cases opened, closed and with overdue corrective actions by party. The
assessment shows the same queries' rows, so its figures and these reports' cannot differ."""

from __future__ import annotations

import sqlalchemy as sa

from rems.compliance.models import CaseState, NonComplianceCase
from rems.infusions.models import Infusion, InfusionDeviation, NotInfusedVisit
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import within
from rems.sites.models import Site


def _count_when(condition):
    return sa.func.sum(sa.case((condition, 1), else_=0))


def deviation_free():
    """Doses with no deviation recorded (an aggregate over Infusion rows)."""
    flagged = sa.exists().where(InfusionDeviation.infusion_id == Infusion.id)
    return _count_when(~flagged)


def _narrowed(statement: sa.Select, filters: Filters) -> sa.Select:
    if filters.site_id is not None:
        statement = statement.where(Site.id == filters.site_id)
    if filters.state is not None:
        statement = statement.where(Site.state == filters.state)
    return statement


def _deviations(filters: Filters, dialect: str) -> sa.Select:
    """Deviations on doses given in the period, by infusion site and code."""
    statement = (
        sa.select(
            Site.site_code.label("site"), Site.name.label("site_name"),
            InfusionDeviation.code.label("code"), InfusionDeviation.severity.label("severity"),
            sa.func.count().label("deviations"),
        )
        .join(Infusion, Infusion.id == InfusionDeviation.infusion_id)
        .join(Site, Site.id == Infusion.site_id)
        .where(Infusion.administered_on.between(filters.date_from, filters.date_to))
        .group_by(Site.site_code, Site.name, InfusionDeviation.code, InfusionDeviation.severity)
    )  # fmt: skip
    return _narrowed(statement, filters)


DEVIATIONS = Report(
    name="deviations",
    title="Protocol deviations by code and site",
    summary="Deviations recorded with the doses given in the period (a dose counts under each "
    "of its deviations), by the infusion site that gave the dose.",
    columns=(
        Column("site", "Site ID"),
        Column("site_name", "Infusion site"),
        Column("code", "Deviation"),
        Column("severity", "Severity"),
        Column("deviations", "Deviations", "number"),
    ),
    query=_deviations,
    filters=frozenset({"period", "site", "state"}),
    default_sort="deviations",
    default_descending=True,
    period_of="dose given on",
)


def _not_infused(filters: Filters, dialect: str) -> sa.Select:
    """Visits that ended without an infusion in the period, by site and reason."""
    statement = (
        sa.select(
            Site.site_code.label("site"), Site.name.label("site_name"),
            NotInfusedVisit.reason.label("reason"), sa.func.count().label("visits"),
        )
        .join(Site, Site.id == NotInfusedVisit.site_id)
        .where(NotInfusedVisit.visit_on.between(filters.date_from, filters.date_to))
        .group_by(Site.site_code, Site.name, NotInfusedVisit.reason)
    )  # fmt: skip
    return _narrowed(statement, filters)


NOT_INFUSED = Report(
    name="not-infused",
    title="Visits not infused, by reason",
    summary="Visits under an authorization that ended without an infusion: no dose counted.",
    columns=(
        Column("site", "Site ID"),
        Column("site_name", "Infusion site"),
        Column("reason", "Reason"),
        Column("visits", "Visits", "number"),
    ),
    query=_not_infused,
    filters=frozenset({"period", "site", "state"}),
    default_sort="visits",
    default_descending=True,
    period_of="visit on",
)


def _cases(filters: Filters, dialect: str) -> sa.Select:
    """By party: cases opened and closed in the period; open now and overdue actions today."""
    case = NonComplianceCase
    still_open = case.state != CaseState.CLOSED
    overdue = sa.and_(still_open, case.due_on.is_not(None), case.due_on < filters.today)
    return sa.select(
        case.party.label("party"),
        _count_when(within(case.opened_at, filters.date_from, filters.date_to)).label("opened"),
        _count_when(
            sa.and_(case.closed_at.is_not(None),
                    within(case.closed_at, filters.date_from, filters.date_to))
        ).label("closed"),
        _count_when(still_open).label("open_now"),
        _count_when(case.escalated_at.is_not(None)).label("escalated"),
        _count_when(overdue).label("overdue_actions"),
    ).group_by(case.party)  # fmt: skip


CASES = Report(
    name="noncompliance-cases",
    title="Non-compliance cases and corrective actions, by party",
    summary="Cases opened and closed in the period; open today, escalated, and with a "
    "corrective action past its due date today.",
    columns=(
        Column("party", "Party"),
        Column("opened", "Opened", "number"),
        Column("closed", "Closed", "number"),
        Column("open_now", "Open today", "number"),
        Column("escalated", "Escalated", "number"),
        Column("overdue_actions", "Corrective actions overdue", "number"),
    ),
    query=_cases,
    filters=frozenset({"period"}),
    default_sort="party",
    period_of="opened or closed on",
)
