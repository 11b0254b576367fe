"""The REMS assessment for a period: the program's figures in the shape an assessment to the
FDA uses. One function computes them; the page, the printable layout and the PDF all show
that one result, so their numbers cannot differ."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.models import StatusChange
from rems.authorizations.models import AuthorizationDecision
from rems.documents.models import Acknowledgment, Document, DocumentVersion
from rems.prescribers.models import Prescriber
from rems.reports import assessment_followup as followup
from rems.reports import assessment_monitoring, gateproof
from rems.reports import assessment_period as period
from rems.reports.clinical import ADVERSE_EVENTS, infusion_figures, infusion_sites
from rems.reports.deviations import DEVIATIONS, NOT_INFUSED
from rems.reports.framework import Filters, ordered
from rems.reports.gate import DENIALS
from rems.reports.queries import dialect_of
from rems.reports.sqlfn import month_of, start_of, within
from rems.sites.models import Site

GUIDE_CODE = "medication_guide"

PARTY_KINDS = (
    ("Prescribers", "prescriber", None),
    ("Pharmacies", "site", Site.dispenses),
    ("Infusion sites", "site", Site.infuses),
)
TRANSITIONS = ("suspended", "revoked", "expired")


@dataclass
class Assessment:
    """Every figure of the assessment, in the order it is shown."""

    date_from: date
    date_to: date
    parties: list[dict[str, Any]] = field(default_factory=list)
    patients: dict[str, int] = field(default_factory=dict)
    guide: dict[str, Any] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    decisions_by_month: list[dict[str, Any]] = field(default_factory=list)
    denials: list[dict[str, Any]] = field(default_factory=list)
    gate_proof: gateproof.Proof | None = None
    infusions: dict[str, Any] = field(default_factory=dict)
    deviations: list[dict[str, Any]] = field(default_factory=list)
    not_infused: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    adverse_events: list[dict[str, Any]] = field(default_factory=list)
    monitoring: dict[str, Any] = field(default_factory=dict)
    knowledge: dict[str, Any] = field(default_factory=dict)
    first_dose: dict[str, Any] = field(default_factory=dict)
    denial_resolution: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)


def assess(session: Session, date_from: date, date_to: date, today: date) -> Assessment:
    """The assessment for the period from `date_from` to `date_to`, both included. `today`
    only says which non-compliance cases are open now; every other figure is the period's."""
    dialect = dialect_of(session)
    filters = Filters(date_from=date_from, date_to=date_to, today=today)
    result = Assessment(date_from, date_to)
    result.parties = [_parties(session, *kind, date_from, date_to) for kind in PARTY_KINDS]
    result.patients = _patients(session, date_from, date_to)
    result.decisions, result.decisions_by_month = _decisions(session, filters, dialect)
    result.denials = _rows(
        session, DENIALS.query(filters, dialect).order_by(sa.text("denials DESC"))
    )
    result.gate_proof = gateproof.prove(session, date_from, date_to)
    result.infusions = _infusions(session, filters, dialect)
    result.deviations, result.not_infused = _noncompliance(session, filters, dialect)
    result.cases = period.cases(session, date_from, date_to)
    result.adverse_events = _rows(
        session, ADVERSE_EVENTS.query(filters, dialect).order_by(sa.text("category"))
    )
    result.guide = _guide(session, date_from, date_to)
    result.monitoring = assessment_monitoring.monitoring(session, date_from, date_to)
    result.knowledge = period.knowledge(session, date_from, date_to)
    result.first_dose = period.first_dose(session, date_from, date_to)
    result.denial_resolution = period.denial_resolution(session, date_from, date_to)
    result.alerts = followup.alerts(session, date_from, date_to)
    result.statuses = followup.statuses(session, date_from, date_to)
    return result


def _rows(session: Session, statement: sa.Select) -> list[dict[str, Any]]:
    """Every row as a dict."""
    return [dict(row) for row in session.execute(statement).mappings()]


def last_status(entity_type: str, moment) -> sa.Subquery:
    """Each record's status at `moment`: its last recorded change at or before it."""
    ranked = (
        sa.select(
            StatusChange.entity_id.label("entity_id"),
            StatusChange.to_status.label("status"),
            sa.func.row_number()
            .over(
                partition_by=StatusChange.entity_id,
                order_by=(StatusChange.changed_at.desc(), StatusChange.id.desc()),
            )
            .label("rank"),
        )
        .where(StatusChange.entity_type == entity_type, StatusChange.changed_at < moment)
        .subquery()
    )
    return sa.select(ranked.c.entity_id, ranked.c.status).where(ranked.c.rank == 1).subquery()


def _parties(session, label, entity_type, capability, date_from, date_to) -> dict[str, Any]:
    """New, active at the period's end, and suspended, revoked or expired in the period."""
    table = Prescriber if entity_type == "prescriber" else Site
    ids = sa.select(table.id)
    if capability is not None:
        ids = ids.where(capability)
    end = start_of(date_to + timedelta(days=1))
    changes = sa.select(
        StatusChange.entity_id, StatusChange.to_status, StatusChange.changed_at
    ).where(StatusChange.entity_type == entity_type, StatusChange.entity_id.in_(ids))
    in_period = changes.where(within(StatusChange.changed_at, date_from, date_to)).subquery()
    before = changes.where(StatusChange.changed_at < start_of(date_from)).subquery()
    first_ever = sa.select(before.c.entity_id).where(before.c.to_status == "certified")
    row = {"label": label}
    row["new"] = session.scalar(
        sa.select(sa.func.count(sa.distinct(in_period.c.entity_id))).where(
            in_period.c.to_status == "certified", in_period.c.entity_id.not_in(first_ever)
        )
    )
    at_end = last_status(entity_type, end)
    row["active"] = session.scalar(
        sa.select(sa.func.count()).select_from(at_end)
        .where(at_end.c.status == "certified", at_end.c.entity_id.in_(ids))
    )  # fmt: skip
    for status in TRANSITIONS:
        row[status] = session.scalar(
            sa.select(sa.func.count(sa.distinct(in_period.c.entity_id))).where(
                in_period.c.to_status == status
            )
        )
    return row


def _patients(session: Session, date_from: date, date_to: date) -> dict[str, int]:
    """Patients enrolled, discontinued and closed in the period; enrolled at its end."""
    changes = sa.select(StatusChange.entity_id, StatusChange.to_status).where(
        StatusChange.entity_type == "patient",
        within(StatusChange.changed_at, date_from, date_to),
    ).subquery()  # fmt: skip
    figures = {}
    for status in ("enrolled", "discontinued", "closed"):
        figures[f"{status}_in_period"] = session.scalar(
            sa.select(sa.func.count(sa.distinct(changes.c.entity_id)))
            .where(changes.c.to_status == status)
        )  # fmt: skip
    at_end = last_status("patient", start_of(date_to + timedelta(days=1)))
    figures["enrolled_at_end"] = session.scalar(
        sa.select(sa.func.count()).select_from(at_end).where(at_end.c.status == "enrolled")
    )
    return figures


def _guide(session: Session, date_from: date, date_to: date) -> dict[str, Any]:
    """The Medication Guide version in effect at the period's end, and how many of the patients
    enrolled then had acknowledged it; acknowledgments of any version in the period."""
    version = session.execute(
        sa.select(DocumentVersion.id, DocumentVersion.label, DocumentVersion.effective_on)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.code == GUIDE_CODE, DocumentVersion.effective_on <= date_to)
        .order_by(DocumentVersion.effective_on.desc(), DocumentVersion.id.desc())
        .limit(1)
    ).first()
    end = start_of(date_to + timedelta(days=1))
    at_end = last_status("patient", end)
    enrolled = sa.select(at_end.c.entity_id).where(at_end.c.status == "enrolled")
    total = session.scalar(sa.select(sa.func.count()).select_from(enrolled.subquery()))
    acknowledged = 0
    if version is not None:
        acknowledged = session.scalar(
            sa.select(sa.func.count(sa.distinct(Acknowledgment.patient_id))).where(
                Acknowledgment.document_version_id == version.id,
                Acknowledgment.acknowledged_at < end,
                Acknowledgment.patient_id.in_(enrolled),
            )
        )
    in_period = session.scalar(
        sa.select(sa.func.count())
        .select_from(Acknowledgment)
        .join(DocumentVersion, DocumentVersion.id == Acknowledgment.document_version_id)
        .join(Document, Document.id == DocumentVersion.document_id)
        .where(Document.code == GUIDE_CODE)
        .where(within(Acknowledgment.acknowledged_at, date_from, date_to))
    )
    return {
        "version": f"{version.label} (in effect from {version.effective_on})" if version else None,
        "enrolled": total,
        "acknowledged": acknowledged,
        "share": round(100 * acknowledged / total, 1) if total else None,
        "in_period": in_period,
    }


def _decisions(session: Session, filters: Filters, dialect: str):
    """Requests, grants and denials in the period, in total and per month."""
    month = month_of(AuthorizationDecision.decided_at, dialect).label("month")
    granted = sa.func.sum(sa.case((AuthorizationDecision.outcome == "authorized", 1), else_=0))
    statement = (
        sa.select(month, sa.func.count().label("requests"), granted.label("authorized"))
        .where(within(AuthorizationDecision.decided_at, filters.date_from, filters.date_to))
        .group_by(month)
        .order_by(month)
    )
    by_month = []
    for row in session.execute(statement).mappings():
        authorized = int(row["authorized"] or 0)
        denied = row["requests"] - authorized
        by_month.append(
            {"month": row["month"], "requests": row["requests"], "authorized": authorized,
             "denied": denied}
        )  # fmt: skip
    totals = {key: sum(m[key] for m in by_month) for key in ("requests", "authorized", "denied")}
    zero = {"requests": 0, "authorized": 0, "denied": 0}
    months = period.months_of(filters.date_from, filters.date_to)
    return totals, period.every_month(by_month, months, zero)


def _infusions(session: Session, filters: Filters, dialect: str) -> dict[str, Any]:
    """Infusions given in the period and their checklist compliance: the infusions report's
    figures summed over every site (its daily summaries for the days they hold)."""
    figures = infusion_figures(infusion_sites(filters, dialect))
    statement = sa.select(*(value.label(key) for key, value in figures.items()))
    return dict(session.execute(statement).mappings().one())


def _noncompliance(session: Session, filters: Filters, dialect: str):
    """Deviations by code and site, visits not infused by reason: the rows of the reports of
    the same name."""
    return tuple(
        _rows(session, ordered(report, filters, dialect)) for report in (DEVIATIONS, NOT_INFUSED)
    )
