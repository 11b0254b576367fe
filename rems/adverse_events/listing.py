"""The adverse-event line listing: one row per event the program became aware of in the
period, with seriousness criteria, outcome, follow-ups and the reporting clock, for the
sponsor's safety team (page, CSV, XLSX through the report framework)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from rems.adverse_events.models import AdverseEventFollowUp
from rems.adverse_events.rules import OUTCOMES
from rems.monitoring.models import AdverseEvent
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import days_between

E = AdverseEvent


def _words(column, words: dict[str, str]) -> sa.ColumnElement:
    """A code column in words (the code itself when it has none)."""
    if not words:
        return column
    return sa.case(*((column == code, text) for code, text in words.items()), else_=column)


def _listing(filters: Filters, dialect: str) -> sa.Select:
    """Events with awareness in the period, with their clock as of the report's day."""
    program = current_app.extensions["rems_program"]
    days = program.safety_reporting.serious_report_days
    categories = {c.code: c.label for c in program.adverse_events.categories}
    today = sa.literal(filters.today, sa.Date)
    elapsed = days_between(E.aware_on, sa.func.coalesce(E.submitted_on, today), dialect)
    clock = sa.case(
        (E.serious.is_(False), ""),
        (sa.and_(E.submitted_on.is_not(None), elapsed <= days), "sent on time"),
        (E.submitted_on.is_not(None), "sent late"),
        (elapsed > days, "overdue"),
        else_="open",
    )
    follow_ups = (
        sa.select(sa.func.count())
        .where(AdverseEventFollowUp.event_id == E.id)
        .correlate(E)
        .scalar_subquery()
    )
    statement = (
        sa.select(
            E.id.label("event_id"),
            Patient.rems_id.label("patient_id"),
            Prescriber.npi.label("prescriber_npi"),
            _words(E.category, categories).label("category"),
            E.onset_on.label("onset_on"),
            E.aware_on.label("aware_on"),
            sa.case((E.serious, "serious"), else_="not serious").label("seriousness"),
            sa.func.coalesce(E.serious_criteria, "").label("criteria"),
            _words(sa.func.coalesce(E.outcome, "unknown"), OUTCOMES).label("outcome"),
            E.reporter.label("reporter"),
            follow_ups.label("follow_ups"),
            E.submitted_on.label("sent_on"),
            sa.case((E.serious, elapsed)).label("days_from_awareness"),
            clock.label("clock"),
        )
        .join(Patient, Patient.id == E.patient_id)
        .join(Prescriber, Prescriber.id == Patient.prescriber_id)
        .where(E.aware_on.between(filters.date_from, filters.date_to))
    )
    if filters.prescriber_id is not None:
        statement = statement.where(Patient.prescriber_id == filters.prescriber_id)
    return statement


LINE_LISTING = Report(
    name="adverse-event-line-listing",
    title="Adverse events, line listing",
    summary="Every adverse event the program became aware of in the period, one per line: "
    "category, onset, seriousness criteria (ICH), outcome, follow-ups, and for a serious event "
    "the days from awareness to the safety team (due within the program's calendar days).",
    columns=(
        Column("event_id", "Event", "number", link=("adverse_events.event_detail", "event_id")),
        Column("patient_id", "REMS patient ID", patient_key=True),
        Column("prescriber_npi", "Prescriber NPI"),
        Column("category", "Category"),
        Column("onset_on", "Onset", "date", patient_date=True),
        Column("aware_on", "Aware on", "date", patient_date=True),
        Column("seriousness", "Seriousness"),
        Column("criteria", "Seriousness criteria", sortable=False),
        Column("outcome", "Outcome"),
        # Free text a person typed (a name, a role): dropped when de-identified.
        Column("reporter", "Reported by", identifier=True, sortable=False),
        Column("follow_ups", "Follow-ups", "number"),
        Column("sent_on", "Sent to the safety team", "date", patient_date=True),
        Column("days_from_awareness", "Days from awareness", "number"),
        Column("clock", "Reporting clock"),
    ),
    query=_listing,
    filters=frozenset({"period", "prescriber"}),
    default_sort="aware_on",
    default_descending=True,
    period_of="aware on",
    about_patients=True,
)
