"""Enrollment reports: patients by status, and Medication Guide acknowledgment coverage per
document version."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from rems.documents.models import Acknowledgment, Document, DocumentVersion
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber
from rems.reports.framework import Column, Filters, Report
from rems.reports.sqlfn import age_on, percent, within
from rems.sites.models import Site

PATIENT_STATUSES = tuple(s.value for s in PatientStatus)


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
    filters=frozenset({"period", "prescriber", "site", "state", "status"}),
    default_sort="started_at",
    default_descending=True,
    statuses=PATIENT_STATUSES,
    period_of="enrollment begun on",
    about_patients=True,
)


def _coverage(filters: Filters, dialect: str) -> sa.Select:
    """Per document version: acknowledgments in the period, and the share of patients enrolled
    today who have acknowledged it (ever)."""
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
    in_period = (
        sa.select(sa.func.count())
        .where(Acknowledgment.document_version_id == DocumentVersion.id)
        .where(within(Acknowledgment.acknowledged_at, filters.date_from, filters.date_to))
        .scalar_subquery()
    )
    share = percent(covered, enrolled_count)
    return sa.select(
        Document.title.label("document"),
        DocumentVersion.label.label("version"),
        DocumentVersion.effective_on.label("effective_on"),
        in_period.label("acknowledged_in_period"),
        covered.label("enrolled_acknowledged"),
        enrolled_count.label("enrolled"),
        share.label("coverage"),
    ).join(Document, Document.id == DocumentVersion.document_id)


ACKNOWLEDGMENTS = Report(
    name="acknowledgments",
    title="Medication Guide acknowledgment coverage",
    summary="For each published version of each document: acknowledgments recorded in the "
    "period, and how many of the patients enrolled today have acknowledged it.",
    columns=(
        Column("document", "Document"),
        Column("version", "Version"),
        Column("effective_on", "In effect from", "date"),
        Column("acknowledged_in_period", "Acknowledged in the period", "number"),
        Column("enrolled_acknowledged", "Enrolled patients who acknowledged", "number"),
        Column("enrolled", "Patients enrolled today", "number"),
        Column("coverage", "Coverage (%)", "percent"),
    ),
    query=_coverage,
    filters=frozenset({"period", "prescriber", "site", "state"}),
    default_sort="effective_on",
    default_descending=True,
    period_of="acknowledged on",
)
