"""Gate reports: dispensing decisions by day and pharmacy, denials by reason and by who must
act, and authorizations with their doses, reversals and expirations."""

from __future__ import annotations

import sqlalchemy as sa

from rems.authorizations.models import Authorization, AuthorizationDecision, AuthorizationStatus
from rems.infusions.models import Infusion
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.reports.daily import day_text, during, split_period, total
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import day_of, json_elements, json_field, within
from rems.reports.summary_models import GateDecisionDay, GateDenialDay
from rems.sites.models import Site

AUTHORIZED = "authorized"
DENIED = "denied"


def decision_counts(dialect: str, when) -> sa.Select:
    """Requests, grants and denials per program day and pharmacy (its id), where `when`."""
    day = day_of(AuthorizationDecision.decided_at, dialect).label("day")
    granted = sa.func.sum(sa.case((AuthorizationDecision.outcome == AUTHORIZED, 1), else_=0))
    denied = sa.func.sum(sa.case((AuthorizationDecision.outcome == DENIED, 1), else_=0))
    return (
        sa.select(
            day,
            AuthorizationDecision.pharmacy_site_id.label("site_id"),
            sa.func.count().label("requests"),
            granted.label("authorized"),
            denied.label("denied"),
        )
        .where(when)
        .group_by(day, AuthorizationDecision.pharmacy_site_id)
    )


def _decisions(filters: Filters, dialect: str) -> sa.Select:
    """Requests, grants and denials per program day and pharmacy: the daily summary's rows for
    the days it holds, the decisions themselves for the others (today among them)."""
    period = split_period("gate-decisions", filters.date_from, filters.date_to)
    kept, live = _summary_and_live(GateDecisionDay, period, filters)
    summary = sa.select(
        day_text(GateDecisionDay.day, dialect).label("day"),
        GateDecisionDay.pharmacy_site_id.label("site_id"),
        GateDecisionDay.requests, GateDecisionDay.authorized, GateDecisionDay.denied,
    ).where(kept)  # fmt: skip
    days = sa.union_all(summary, decision_counts(dialect, live)).subquery("days")
    return (
        sa.select(
            days.c.day,
            sa.func.coalesce(Site.site_code, "").label("pharmacy"),
            sa.func.coalesce(Site.name, "(no pharmacy)").label("pharmacy_name"),
            *(total(days.c[key]).label(key) for key in ("requests", "authorized", "denied")),
        )
        .select_from(days)
        .outerjoin(Site, Site.id == days.c.site_id)
        .group_by(days.c.day, Site.site_code, Site.name)
    )


def _summary_and_live(model, period, filters: Filters):
    """(which summary rows, which decisions): the period's days split between the two, and the
    pharmacy asked for."""
    kept = during(period.summarised, model.day.between)
    live = during(period.live, lambda a, b: within(AuthorizationDecision.decided_at, a, b))
    if filters.site_id is not None:
        kept = sa.and_(kept, model.pharmacy_site_id == filters.site_id)
        live = sa.and_(live, AuthorizationDecision.pharmacy_site_id == filters.site_id)
    return kept, live


DECISIONS = Report(
    name="gate-decisions",
    title="Dispensing decisions by day and pharmacy",
    summary="Every request a pharmacy made at the gate, granted or denied, counted per day (in "
    "the program's time zone) and pharmacy.",
    columns=(
        Column("day", "Day", "date"),
        Column("pharmacy", "Pharmacy site ID"),
        Column("pharmacy_name", "Pharmacy"),
        Column("requests", "Requests", "number"),
        Column("authorized", "Authorized", "number"),
        Column("denied", "Denied", "number"),
    ),
    query=_decisions,
    filters=frozenset({"period", "site"}),
    default_sort="day",
    default_descending=True,
    period_of="decided on",
)


def _decision_list(filters: Filters, dialect: str) -> sa.Select:
    """Each decision in the period: when, which pharmacy, granted or denied, what it issued."""
    return _decisions_narrowed(
        sa.select(
            AuthorizationDecision.decision_id.label("decision_id"),
            AuthorizationDecision.decided_at.label("decided_at"),
            sa.func.coalesce(Site.site_code, "").label("pharmacy"),
            AuthorizationDecision.outcome.label("outcome"),
            Authorization.number.label("authorization"),
            Patient.rems_id.label("patient_id"),
        )
        .outerjoin(Site, Site.id == AuthorizationDecision.pharmacy_site_id)
        .outerjoin(Patient, Patient.id == AuthorizationDecision.patient_id)
        .outerjoin(Authorization, Authorization.id == AuthorizationDecision.authorization_id),
        filters,
    )


def _decisions_counted(filters: Filters, _dialect: str) -> sa.Select:
    """`_decision_list`'s rows from the decision table alone (its joins are outer, on keys)."""
    return _decisions_narrowed(sa.select(AuthorizationDecision.id), filters)


def _decisions_narrowed(statement: sa.Select, filters: Filters) -> sa.Select:
    """The decisions of the period, of the outcome and pharmacy asked for."""
    statement = statement.where(
        within(AuthorizationDecision.decided_at, filters.date_from, filters.date_to)
    )
    if filters.status is not None:
        statement = statement.where(AuthorizationDecision.outcome == filters.status)
    if filters.site_id is not None:
        statement = statement.where(AuthorizationDecision.pharmacy_site_id == filters.site_id)
    return statement


DECISION_LIST = Report(
    name="gate-decision-list",
    title="Dispensing decisions, one by one",
    summary="Every decision of the gate in the period; open one to see its reasons, who must "
    "act, the request as received and the facts it was decided on.",
    columns=(
        Column(
            "decision_id",
            "Decision",
            link=("authorizations.decision", "decision_id"),
            record_key=True,
        ),
        Column("decided_at", "Decided (UTC)", "datetime", patient_date=True),
        Column("pharmacy", "Pharmacy site ID"),
        Column("outcome", "Outcome"),
        Column("authorization", "Authorization issued", record_key=True),
        Column("patient_id", "REMS patient ID", patient_key=True),
    ),
    query=_decision_list,
    counted=_decisions_counted,
    filters=frozenset({"period", "site", "status"}),
    default_sort="decided_at",
    default_descending=True,
    statuses=(AUTHORIZED, DENIED),
    status_label="Outcome",
    period_of="decided on",
    about_patients=True,
)


def denial_counts(dialect: str, when, *by) -> sa.Select:
    """Denials counted by each reason they carried, with who must act (and `by`), where
    `when`."""
    reason = json_elements(AuthorizationDecision.reasons, dialect).alias("reason")
    code = json_field(reason.c.value, "code", dialect).label("code")
    action_by = json_field(reason.c.value, "action_by", dialect).label("action_by")
    return (
        sa.select(*by, code, action_by, sa.func.count().label("denials"))
        .select_from(AuthorizationDecision)
        .join(reason, sa.true())
        .where(AuthorizationDecision.outcome == DENIED)
        .where(when)
        .group_by(*by, code, action_by)
    )


def _denials(filters: Filters, dialect: str) -> sa.Select:
    """Denied requests counted by each reason they carried, with who must act: the daily
    summary's counts for the days it holds, the decisions themselves for the others."""
    period = split_period("gate-denials", filters.date_from, filters.date_to)
    kept, live = _summary_and_live(GateDenialDay, period, filters)
    summary = sa.select(GateDenialDay.code, GateDenialDay.action_by, GateDenialDay.denials)
    both = sa.union_all(summary.where(kept), denial_counts(dialect, live)).subquery("reasons")
    return sa.select(
        both.c.code, both.c.action_by, total(both.c.denials).label("denials")
    ).group_by(both.c.code, both.c.action_by)


DENIALS = Report(
    name="gate-denials",
    title="Denials by reason and by who must act",
    summary="Each reason given for a denial in the period, with who must act on it. A denial "
    "with three reasons counts once under each.",
    columns=(
        Column("code", "Reason code"),
        Column("action_by", "Who must act"),
        Column("denials", "Denials", "number"),
    ),
    query=_denials,
    filters=frozenset({"period", "site"}),
    default_sort="denials",
    default_descending=True,
    period_of="decided on",
)

_PHARMACY = sa.orm.aliased(Site, name="pharmacy")


def _doses_given():
    """Doses given under the authorization, counted from the infusion records."""
    return (
        sa.select(sa.func.count(Infusion.id))
        .where(Infusion.authorization_id == Authorization.id)
        .scalar_subquery()
    )


_INFUSION_SITE = sa.orm.aliased(Site, name="infusion_site")


def _authorizations(filters: Filters, dialect: str) -> sa.Select:
    """Authorizations issued in the period: doses authorized and given, how each ended."""
    statement = (
        sa.select(
            Authorization.number.label("number"),
            Authorization.issued_at.label("issued_at"),
            Patient.rems_id.label("patient_id"),
            Prescriber.npi.label("prescriber_npi"),
            _PHARMACY.site_code.label("pharmacy"),
            _INFUSION_SITE.site_code.label("infusion_site"),
            Authorization.status.label("status"),
            Authorization.doses.label("doses"),
            _doses_given().label("doses_given"),
            Authorization.valid_until.label("valid_until"),
            Authorization.ended_at.label("ended_at"),
            Authorization.end_reason.label("end_reason"),
        )
        .join(Patient, Patient.id == Authorization.patient_id)
        .join(Prescriber, Prescriber.id == Authorization.prescriber_id)
        .join(_PHARMACY, _PHARMACY.id == Authorization.pharmacy_site_id)
        .join(_INFUSION_SITE, _INFUSION_SITE.id == Authorization.infusion_site_id)
    )
    return _authorizations_narrowed(statement, filters)


def _authorizations_counted(filters: Filters, _dialect: str) -> sa.Select:
    """`_authorizations`' rows from the authorization table alone: its joins follow required
    keys (patient, prescriber, pharmacy, infusion site), so none adds or drops a row."""
    return _authorizations_narrowed(sa.select(Authorization.id), filters)


def _authorizations_narrowed(statement: sa.Select, filters: Filters) -> sa.Select:
    """The authorizations issued in the period, of the status, prescriber and site asked for."""
    statement = statement.where(within(Authorization.issued_at, filters.date_from, filters.date_to))
    if filters.status is not None:
        statement = statement.where(Authorization.status == filters.status)
    if filters.prescriber_id is not None:
        statement = statement.where(Authorization.prescriber_id == filters.prescriber_id)
    if filters.site_id is not None:
        statement = statement.where(
            sa.or_(
                Authorization.pharmacy_site_id == filters.site_id,
                Authorization.infusion_site_id == filters.site_id,
            )
        )
    return statement


AUTHORIZATIONS = Report(
    name="authorizations",
    title="Authorizations: doses authorized and given, reversals, expirations",
    summary="Authorizations issued in the period with the doses they allowed and the doses "
    "given under them; status 'reversed' or 'expired' lists the reversals and expirations.",
    columns=(
        Column(
            "number", "Authorization", record_key=True, link=("authorizations.detail", "number")
        ),
        Column("issued_at", "Issued (UTC)", "datetime", patient_date=True),
        Column("patient_id", "REMS patient ID", patient_key=True),
        Column("prescriber_npi", "Prescriber NPI"),
        Column("pharmacy", "Pharmacy"),
        Column("infusion_site", "Infusion site"),
        Column("status", "Status"),
        Column("doses", "Doses authorized", "number"),
        Column("doses_given", "Doses given (infusions recorded)", "number"),
        Column("valid_until", "Valid until", "date", patient_date=True),
        Column("ended_at", "Ended (UTC)", "datetime", patient_date=True),
        Column("end_reason", "How it ended", identifier=True, sortable=False),
    ),
    query=_authorizations,
    counted=_authorizations_counted,
    filters=frozenset({"period", "prescriber", "site", "status"}),
    default_sort="issued_at",
    default_descending=True,
    statuses=tuple(s.value for s in AuthorizationStatus),
    period_of="issued on",
    about_patients=True,
)
