"""Enrollment reports: patients by status, and Medication Guide acknowledgment coverage per
document version."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from rems.common.clock import utcnow
from rems.db import UTCDateTime
from rems.documents.models import Acknowledgment, Document, DocumentVersion
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber
from rems.reports.daily import total
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import age_on, percent, within
from rems.reports.summary_models import CoverageSnapshot, ReportSummaryDay
from rems.sites.models import Site

PATIENT_STATUSES = tuple(s.value for s in PatientStatus)
COVERAGE = "acknowledgments"


def _patients(filters: Filters, dialect: str) -> sa.Select:
    """Patients whose enrollment began in the period, with status and prescriber of record."""
    statement = (
        sa.select(
            Patient.rems_id.label("patient_id"),
            Patient.last_name.label("last_name"),
            Patient.first_name.label("first_name"),
            Patient.date_of_birth.label("date_of_birth"),
            age_on(Patient.date_of_birth, Patient.created_at, dialect).label("age"),
            Patient.sex.label("sex"),
            Patient.state.label("state"),
            Patient.status.label("status"),
            Patient.created_at.label("started_at"),
            Patient.enrolled_at.label("enrolled_at"),
            Prescriber.npi.label("prescriber_npi"),
            (Prescriber.last_name + ", " + Prescriber.first_name).label("prescriber"),
            Site.site_code.label("planned_site"),
        )
        .join(Prescriber, Prescriber.id == Patient.prescriber_id)
        .outerjoin(Site, Site.id == Patient.planned_site_id)
        .where(within(Patient.created_at, filters.date_from, filters.date_to))
    )
    return _narrow(statement, filters)


def _patients_counted(filters: Filters, _dialect: str) -> sa.Select:
    """`_patients`' rows from the patient table alone: the prescriber of record is a required
    key and the planned site an outer join on its key, so neither adds or drops a row."""
    return _narrow(
        sa.select(Patient.id).where(within(Patient.created_at, filters.date_from, filters.date_to)),
        filters,
    )


def _narrow(statement: sa.Select, filters: Filters) -> sa.Select:
    """Status, state, prescriber of record and planned site."""
    if filters.status is not None:
        statement = statement.where(Patient.status == filters.status)
    if filters.state is not None:
        statement = statement.where(Patient.state == filters.state)
    if filters.prescriber_id is not None:
        statement = statement.where(Patient.prescriber_id == filters.prescriber_id)
    if filters.site_id is not None:
        statement = statement.where(Patient.planned_site_id == filters.site_id)
    return statement


ENROLLMENTS = Report(
    name="enrollments",
    title="Patients by enrollment status",
    summary="Patients whose enrollment began in the period, with their status today and their "
    "prescriber of record.",
    columns=(
        Column("patient_id", "REMS patient ID", patient_key=True),
        Column("last_name", "Last name", identifier=True),
        Column("first_name", "First name", identifier=True),
        Column("date_of_birth", "Date of birth", "date", identifier=True),
        Column("age", "Age at enrollment", "number", age=True),
        Column("sex", "Sex"),
        Column("state", "State"),
        Column("status", "Status"),
        Column("started_at", "Enrollment begun (UTC)", "datetime", patient_date=True),
        Column("enrolled_at", "Enrolled (UTC)", "datetime", patient_date=True),
        Column("prescriber_npi", "Prescriber NPI"),
        Column("prescriber", "Prescriber"),
        Column("planned_site", "Planned infusion site"),
    ),
    query=_patients,
    counted=_patients_counted,
    filters=frozenset({"period", "prescriber", "site", "state", "status"}),
    default_sort="started_at",
    default_descending=True,
    statuses=PATIENT_STATUSES,
    period_of="enrollment begun on",
    about_patients=True,
)


def _in_period(filters: Filters):
    """Acknowledgments of the row's version recorded in the period (counted from the rows)."""
    return (
        sa.select(sa.func.count())
        .where(Acknowledgment.document_version_id == DocumentVersion.id)
        .where(within(Acknowledgment.acknowledged_at, filters.date_from, filters.date_to))
        .scalar_subquery()
    )


def _coverage(filters: Filters, dialect: str) -> sa.Select:
    """Per document version: acknowledgments in the period, and the share of patients enrolled
    who have acknowledged it (ever): from the daily snapshot when there is one (its time in
    "As of"), else counted now."""
    from rems.extensions import db

    taken = db.session.scalar(
        sa.select(sa.func.max(ReportSummaryDay.day)).where(ReportSummaryDay.report == COVERAGE)
    )
    if taken is None:
        return _live_coverage(filters)
    C = CoverageSnapshot
    asked = ((C.prescriber_id, filters.prescriber_id), (C.planned_site_id, filters.site_id),
             (C.patient_state, filters.state))  # fmt: skip
    kept = [column == value for column, value in asked if value is not None]
    patients = sa.select(total(C.patients)).where(*kept)
    enrolled = patients.where(C.document_version_id.is_(None)).scalar_subquery()
    covered = patients.where(C.document_version_id == DocumentVersion.id).scalar_subquery()
    as_of = sa.select(sa.func.max(C.taken_at)).scalar_subquery()
    return _rows(filters, covered, enrolled, as_of)


def _rows(filters: Filters, covered, enrolled, as_of) -> sa.Select:
    return sa.select(
        Document.title.label("document"),
        DocumentVersion.label.label("version"),
        DocumentVersion.effective_on.label("effective_on"),
        _in_period(filters).label("acknowledged_in_period"),
        covered.label("enrolled_acknowledged"),
        enrolled.label("enrolled"),
        percent(covered, enrolled).label("coverage"),
        as_of.label("as_of"),
    ).join(Document, Document.id == DocumentVersion.document_id)


def _live_coverage(filters: Filters) -> sa.Select:
    """The coverage counted from the patients and acknowledgments now."""
    enrolled = _narrow(
        sa.select(Patient.id).where(Patient.status == PatientStatus.ENROLLED.value),
        replace(filters, status=None),
    ).subquery()
    enrolled_count = sa.select(sa.func.count()).select_from(enrolled).scalar_subquery()
    covered = (
        sa.select(sa.func.count(sa.distinct(Acknowledgment.patient_id)))
        .where(Acknowledgment.document_version_id == DocumentVersion.id)
        .where(Acknowledgment.patient_id.in_(sa.select(enrolled.c.id)))
        .scalar_subquery()
    )
    return _rows(filters, covered, enrolled_count, sa.literal(utcnow(), UTCDateTime()))


def coverage_rows() -> tuple[sa.Select, sa.Select]:
    """The snapshot's rows: enrolled patients per prescriber, planned site and state, and
    those of them who acknowledged each version (patient counted once per version)."""
    groups = (Patient.prescriber_id, Patient.planned_site_id, Patient.state)
    enrolled = Patient.status == PatientStatus.ENROLLED.value
    everyone = sa.select(sa.null(), *groups, sa.func.count()).where(enrolled).group_by(*groups)
    acknowledged = (
        sa.select(Acknowledgment.document_version_id, *groups,
                  sa.func.count(sa.distinct(Acknowledgment.patient_id)))
        .join(Patient, Patient.id == Acknowledgment.patient_id)
        .where(enrolled)
        .group_by(Acknowledgment.document_version_id, *groups)
    )  # fmt: skip
    return everyone, acknowledged


ACKNOWLEDGMENTS = Report(
    name="acknowledgments",
    title="Medication Guide acknowledgment coverage",
    summary="For each published version of each document: acknowledgments recorded in the "
    "period, and how many of the patients enrolled have acknowledged it, as of the time in the "
    "As of column: the daily snapshot taken by `summarise-reports` after midnight, or now when "
    "none has been taken (the period's acknowledgments are always counted from the records).",
    columns=(
        Column("document", "Document"),
        Column("version", "Version"),
        Column("effective_on", "In effect from", "date"),
        Column("acknowledged_in_period", "Acknowledged in the period", "number"),
        Column("enrolled_acknowledged", "Enrolled patients who acknowledged", "number"),
        Column("enrolled", "Patients enrolled", "number"),
        Column("coverage", "Coverage (%)", "percent"),
        Column("as_of", "As of (UTC)", "datetime"),
    ),
    query=_coverage,
    filters=frozenset({"period", "prescriber", "site", "state"}),
    default_sort="effective_on",
    default_descending=True,
    period_of="acknowledged on",
)
