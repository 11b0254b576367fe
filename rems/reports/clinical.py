"""Clinical reports: infusions per site with their checklist compliance and reactions, and
adverse events by category and seriousness with the time from the last dose."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from rems.infusions.models import Infusion, Reaction
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient
from rems.reports.daily import during, split_period, total
from rems.reports.deviations import deviation_free
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import days_between, minutes_between, percent
from rems.reports.summary_models import InfusionDay


def _count_when(condition):
    """How many rows meet `condition`."""
    return sa.func.sum(sa.case((condition, 1), else_=0))


def infusion_compliance(dialect: str) -> dict[str, sa.ColumnElement]:
    """Aggregates over infusions: count, doses with no deviation (checklist compliance),
    premedication and observation kept, reactions."""
    dosing = current_app.extensions["rems_program"].dosing
    minutes = dosing.observation_minutes
    observed = minutes_between(Infusion.infusion_ended_at, Infusion.observation_ended_at, dialect)
    premedicated = sa.and_(
        sa.or_(Infusion.dose_number > dosing.premedication_doses,
               Infusion.corticosteroid_premedication),
        sa.or_(Infusion.dose_number != dosing.antiviral_from_dose, Infusion.antiviral_prophylaxis),
    )  # fmt: skip
    total = sa.func.count(Infusion.id)
    clean = deviation_free()
    return {
        "infusions": total,
        "deviation_free": clean,
        "checklist_rate": percent(clean, total),
        "premedicated": _count_when(premedicated),
        "premedication_rate": percent(_count_when(premedicated), total),
        "observed": _count_when(observed >= minutes - 0.001),
        "observation_rate": percent(_count_when(observed >= minutes - 0.001), total),
        "reactions": _count_when(Infusion.reaction != Reaction.NONE.value),
        "serious_reactions": _count_when(Infusion.reaction == Reaction.SERIOUS.value),
    }


#: The counts of `infusion_compliance` (its rates are computed from them).
COUNTS = ("infusions", "deviation_free", "premedicated", "observed", "reactions",
          "serious_reactions")  # fmt: skip
RATES = {"checklist_rate": "deviation_free", "premedication_rate": "premedicated",
         "observation_rate": "observed"}  # fmt: skip


def infusion_counts(dialect: str, when) -> sa.Select:
    """Per infusion site (its id): the counts of doses given where `when`."""
    figures = infusion_compliance(dialect)
    return (
        sa.select(Infusion.site_id.label("site_id"), *(figures[k].label(k) for k in COUNTS))
        .where(when)
        .group_by(Infusion.site_id)
    )


def infusion_sites(filters: Filters, dialect: str) -> sa.Subquery:
    """The counts of doses given in the period (`COUNTS`), as rows with a site id, several
    per site: from the daily summary for the days it holds and from the infusions for the
    others."""
    period = split_period("infusions", filters.date_from, filters.date_to)
    summary = sa.select(InfusionDay.site_id, *(getattr(InfusionDay, k) for k in COUNTS))
    summary = summary.where(during(period.summarised, InfusionDay.day.between))
    live = infusion_counts(dialect, during(period.live, Infusion.administered_on.between))
    return sa.union_all(summary, live).subquery("sites")


def infusion_figures(sites: sa.Subquery) -> dict[str, sa.ColumnElement]:
    """The sums of `infusion_sites`' counts and the rates between them, by key (those of
    `infusion_compliance`)."""
    sums = {key: total(sites.c[key]) for key in COUNTS}
    return sums | {rate: percent(sums[part], sums["infusions"]) for rate, part in RATES.items()}


def _infusions(filters: Filters, dialect: str) -> sa.Select:
    """Per infusion site: infusions given in the period and how the checklist was kept."""
    from rems.sites.models import Site

    sites = infusion_sites(filters, dialect)
    figures = infusion_figures(sites)
    keys = [c.key for c in INFUSIONS.columns[2:]]
    statement = (
        sa.select(
            Site.site_code.label("site"),
            Site.name.label("site_name"),
            *(figures[key].label(key) for key in keys),
        )
        .select_from(sites)
        .join(Site, Site.id == sites.c.site_id)
        .group_by(Site.site_code, Site.name)
    )
    if filters.site_id is not None:
        statement = statement.where(Site.id == filters.site_id)
    if filters.state is not None:
        statement = statement.where(Site.state == filters.state)
    return statement


INFUSIONS = Report(
    name="infusions",
    title="Infusions per site: premedication, observation, reactions",
    summary="Doses given in the period at each infusion site. Checklist compliance: doses "
    "recorded with no protocol deviation ÷ doses recorded. Premedicated: corticosteroids "
    "and antiviral prophylaxis given for every dose the program file requires them for; "
    "observed: the program's full observation period after the infusion ended.",
    columns=(
        Column("site", "Site ID"),
        Column("site_name", "Infusion site"),
        Column("infusions", "Infusions", "number"),
        Column("deviation_free", "With no deviation", "number"),
        Column("checklist_rate", "Checklist compliance (%)", "percent"),
        Column("premedicated", "Premedicated", "number"),
        Column("premedication_rate", "Premedicated (%)", "percent"),
        Column("observed", "Observed the full period", "number"),
        Column("observation_rate", "Observed (%)", "percent"),
        Column("reactions", "Reactions", "number"),
        Column("serious_reactions", "Serious reactions", "number"),
    ),
    query=_infusions,
    filters=frozenset({"period", "site", "state"}),
    default_sort="site",
    period_of="given on",
)


def last_dose_before(dialect: str):
    """The patient's last dose on or before the event's onset (a correlated subquery)."""
    return (
        sa.select(sa.func.max(Infusion.administered_on))
        .where(Infusion.patient_id == AdverseEvent.patient_id)
        .where(Infusion.administered_on <= AdverseEvent.onset_on)
        .scalar_subquery()
    )


def _events(filters: Filters, dialect: str) -> sa.Select:
    """Adverse events with onset in the period, by category and seriousness."""
    last_dose = last_dose_before(dialect)
    days = days_between(last_dose, AdverseEvent.onset_on, dialect)
    serious = sa.case((AdverseEvent.serious, "serious"), else_="not serious").label("seriousness")
    statement = (
        sa.select(
            AdverseEvent.category.label("category"),
            serious,
            sa.func.count().label("events"),
            sa.func.count(last_dose).label("after_a_dose"),
            sa.func.min(days).label("min_days"),
            sa.func.round(sa.func.avg(days), 1).label("mean_days"),
            sa.func.max(days).label("max_days"),
        )
        .join(Patient, Patient.id == AdverseEvent.patient_id)
        .where(AdverseEvent.onset_on.between(filters.date_from, filters.date_to))
        .group_by(AdverseEvent.category, serious)
    )
    if filters.prescriber_id is not None:
        statement = statement.where(Patient.prescriber_id == filters.prescriber_id)
    return statement


ADVERSE_EVENTS = Report(
    name="adverse-events",
    title="Adverse events by category and seriousness",
    summary="Adverse events with onset in the period, with the days from the patient's last "
    "dose before onset (fewest, mean, most) for those that followed a dose.",
    columns=(
        Column("category", "Category"),
        Column("seriousness", "Seriousness"),
        Column("events", "Events", "number"),
        Column("after_a_dose", "After a dose", "number"),
        Column("min_days", "Days from last dose: fewest", "number"),
        Column("mean_days", "mean", "number"),
        Column("max_days", "most", "number"),
    ),
    query=_events,
    filters=frozenset({"period", "prescriber"}),
    default_sort="events",
    default_descending=True,
    period_of="onset on",
)
