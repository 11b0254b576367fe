"""Certification reports: prescribers and healthcare settings by status (and expiring soon),
and the history of their status transitions."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from rems.audit.models import StatusChange
from rems.auth.models import User
from rems.certification.models import CertStatus
from rems.prescribers.models import Prescriber
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import within
from rems.sites.models import Site

STATUSES = tuple(s.value for s in CertStatus)
LAPSING = (CertStatus.CERTIFIED.value, CertStatus.SUSPENDED.value)


def _status_today(table, today):
    """The status as of today: a period that ended reads as expired, job or no job."""
    lapsed = sa.and_(table.expires_on < today, table.status.in_(LAPSING))
    return sa.case((lapsed, CertStatus.EXPIRED.value), else_=table.status)


def _site_kind():
    """What a setting is: pharmacy, infusion site, or both."""
    return sa.case(
        (sa.and_(Site.dispenses, Site.infuses), "pharmacy and infusion site"),
        (Site.dispenses, "pharmacy"),
        else_="infusion site",
    )


def _parties(today) -> sa.Subquery:
    """Prescribers and sites as one table of parties."""
    prescribers = sa.select(
        sa.literal("prescriber").label("party"),
        sa.literal("prescriber").label("kind"),
        sa.func.coalesce(Prescriber.npi, "").label("code"),
        (Prescriber.last_name + ", " + Prescriber.first_name).label("name"),
        Prescriber.state.label("state"),
        _status_today(Prescriber, today).label("status"),
        Prescriber.certified_on.label("certified_on"),
        Prescriber.expires_on.label("expires_on"),
        Prescriber.id.label("party_id"),
    )
    sites = sa.select(
        sa.literal("site"), _site_kind(), Site.site_code, Site.name, Site.state,
        _status_today(Site, today), Site.certified_on, Site.expires_on, Site.id,
    )  # fmt: skip
    return sa.union_all(prescribers, sites).subquery("parties")


def _by_status(filters: Filters, dialect: str) -> sa.Select:
    """Parties with their status as of today, narrowed by the filters."""
    parties = _parties(filters.today)
    statement = sa.select(
        parties.c.kind, parties.c.code, parties.c.name, parties.c.state, parties.c.status,
        parties.c.certified_on, parties.c.expires_on,
    )  # fmt: skip
    conditions = {
        "status": parties.c.status == filters.status,
        "state": parties.c.state == filters.state,
        "party": parties.c.party == filters.party,
        "prescriber_id": sa.and_(
            parties.c.party == "prescriber", parties.c.party_id == filters.prescriber_id
        ),
        "site_id": sa.and_(parties.c.party == "site", parties.c.party_id == filters.site_id),
    }
    for name, condition in conditions.items():
        if getattr(filters, name) is not None:
            statement = statement.where(condition)
    if filters.within_days is not None:
        last = filters.today + timedelta(days=filters.within_days)
        statement = statement.where(
            parties.c.status == CertStatus.CERTIFIED.value,
            parties.c.expires_on.between(filters.today, last),
        )
    return statement


CERTIFICATIONS = Report(
    name="certifications",
    title="Certifications by status",
    summary="Prescribers, pharmacies and infusion sites with their certification status as of "
    "today; 'expiring within' lists the certified ones whose period ends in that many days.",
    columns=(
        Column("kind", "Party"),
        Column("code", "NPI or site ID"),
        Column("name", "Name"),
        Column("state", "State"),
        Column("status", "Status"),
        Column("certified_on", "Certified on", "date"),
        Column("expires_on", "Certified until", "date"),
    ),
    query=_by_status,
    filters=frozenset({"prescriber", "site", "state", "status", "party", "within_days"}),
    default_sort="expires_on",
    statuses=STATUSES,
)


def _transitions(filters: Filters, dialect: str) -> sa.Select:
    """Status changes of prescribers and sites in the period."""
    parties = _parties(filters.today)
    statement = (
        sa.select(
            StatusChange.changed_at.label("changed_at"),
            parties.c.kind, parties.c.code, parties.c.name,
            StatusChange.from_status.label("from_status"),
            StatusChange.to_status.label("to_status"),
            sa.func.coalesce(User.username, "system").label("changed_by"),
            StatusChange.reason.label("reason"),
        )
        .join(parties, sa.and_(
            parties.c.party == sa.case((StatusChange.entity_type == "prescriber", "prescriber"),
                                       else_="site"),
            parties.c.party_id == StatusChange.entity_id,
        ))
        .outerjoin(User, User.id == StatusChange.changed_by_id)
        .where(StatusChange.entity_type.in_(("prescriber", "site")))
        .where(within(StatusChange.changed_at, filters.date_from, filters.date_to))
    )  # fmt: skip
    if filters.status is not None:
        statement = statement.where(StatusChange.to_status == filters.status)
    if filters.party is not None:
        statement = statement.where(parties.c.party == filters.party)
    if filters.prescriber_id is not None:
        statement = statement.where(
            parties.c.party == "prescriber", parties.c.party_id == filters.prescriber_id
        )
    if filters.site_id is not None:
        statement = statement.where(
            parties.c.party == "site", parties.c.party_id == filters.site_id
        )
    return statement


CERTIFICATION_HISTORY = Report(
    name="certification-history",
    title="Certification transitions",
    summary="Every change of a prescriber's or setting's certification status in the period: "
    "from, to, when, by whom and why.",
    columns=(
        Column("changed_at", "When (UTC)", "datetime"),
        Column("kind", "Party"),
        Column("code", "NPI or site ID"),
        Column("name", "Name"),
        Column("from_status", "From"),
        Column("to_status", "To"),
        Column("changed_by", "By"),
        Column("reason", "Reason", sortable=False),
    ),
    query=_transitions,
    filters=frozenset({"period", "prescriber", "site", "status", "party"}),
    default_sort="changed_at",
    default_descending=True,
    statuses=STATUSES,
    period_of="status changed on",
)
