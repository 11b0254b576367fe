"""Gathering the plain facts a dispensing decision needs in one joined read.

One Core select, anchored on a single-row subquery, LEFT JOINs each record the request names by
its unique key (the requester's pharmacy, the receiving site, the prescriber by NPI, the patient
by REMS ID and date of birth, the patient's open course) and adds correlated EXISTS columns: the
acknowledgments of the current document versions, whether a live authorization of the course is
past its last day, and the decision an earlier request with the same Idempotency-Key produced.
Document versions come from a per-server cache whose stamp is read in the same select.

To add a fact: add labelled columns in `_fact_columns` (a scalar or EXISTS subquery correlated on
the patient) and read them in `_facts_from_row`. Overdue monitoring is one such EXISTS column;
only when it is true does a second read name the overdue tests for the warning.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.authorizations.rules import DispenseFacts, Holder, OpenCourse, Party
from rems.certification.models import CertStatus
from rems.certification.rules import effective_status
from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.common.statements import Statement
from rems.courses.models import Course, CourseStatus
from rems.documents import cache
from rems.documents.models import Acknowledgment
from rems.documents.rules import current_versions, missing_acknowledgments
from rems.monitoring.models import MonitoringStatus
from rems.monitoring.queries import overdue_tests
from rems.patients.models import Patient, PatientStatus
from rems.prescribers.models import Prescriber
from rems.sites.models import Site
from rems.sites.queries import SITE_ID_PREFIX

LIVE = ("issued", "partially_used")
OPEN = ("authorized", "in_progress")


@dataclass(frozen=True, slots=True)
class Refs:
    """The ids and public numbers the facts came from, for writing the grant."""

    pharmacy_id: int | None
    site_id: int | None
    prescriber_id: int | None
    patient_id: int | None
    patient_rems_id: str | None
    course_id: int | None
    course_number: int | None
    #: The prescriber the request concerns (the matched patient's of record, else the one
    #: named) and their user; the parties' names, for the notices of a denial.
    concerned_prescriber_id: int | None = None
    prescriber_user_id: int | None = None
    pharmacy_name: str | None = None
    site_name: str | None = None
    asked_patient_id: str | None = None


@dataclass(frozen=True, slots=True)
class Gathered:
    """The facts, their sources, the earlier decision for this key, whether time must settle."""

    facts: DispenseFacts
    refs: Refs
    earlier_id: int | None
    needs_settling: bool


def gather_facts(
    session: Session, requester, request: dict[str, Any], today: date, key: str | None = None
) -> Gathered:
    """The facts of one request (the requester's own site is the pharmacy): one statement
    while the document-version cache is current, three when a version was just published."""
    versions = cache.cached_versions(session)
    row = _read(session, requester, request, today, key, versions)
    if not cache.is_current(versions, row.versions_count, row.versions_max_id):
        versions = cache.reload_versions(session)
        row = _read(session, requester, request, today, key, versions)
    gathered = _facts_from_row(row, requester, request, today, versions)
    if row.monitoring_overdue:  # one more indexed read, only when a warning will name tests
        named = _overdue(session, row.pt_id, today)
        gathered = replace(gathered, facts=replace(gathered.facts, monitoring_overdue=named))
    return gathered


def _overdue(session: Session, patient_id: int, today: date) -> tuple[str, ...]:
    """The patient's overdue monitoring tests, named with the oldest due date."""
    return tuple(
        f"{test.name} (due {test.due_on.isoformat()})"
        for test in overdue_tests(session, patient_id, today)
    )


def _read(session: Session, requester, request, today: date, key, versions):
    """Run the (cached) statement with this request's values."""
    current = list(_current(versions, today).items())
    params = {
        "pharmacy_id": requester.site_id,
        "site_code": _identifier(request.get("infusion_site_id"), SITE_ID_PREFIX),
        "npi": request.get("prescriber_npi"),
        "rems_id": _identifier(request.get("patient_id"), "P"),
        "born": request["date_of_birth"],
        "today": today,
        "requester_id": requester.id,
        "key": key,
    }
    for index, (code, version) in enumerate(current):
        params[f"ack_id_{index}"] = version.id if version is not None else 0
        params[f"any_ids_{index}"] = list(versions.ids_of(code)) or [0]
    return _statement(len(current)).one(session, params)


#: The statement for each number of required documents, built and compiled once per process
#: and run through the session (`rems.common.statements`): only the values vary per request.
_STATEMENTS: dict[int, Statement] = {}


def _statement(documents: int) -> Statement:
    """The one select: each named record LEFT JOINed by its unique key, plus EXISTS columns."""
    if documents not in _STATEMENTS:
        _STATEMENTS[documents] = Statement(_build(documents))
    return _STATEMENTS[documents]


def _build(documents: int) -> sa.Select:
    pharmacy, site = Site.__table__.alias("pharmacy"), Site.__table__.alias("receiving")
    prescriber, patient = (
        Prescriber.__table__.alias("prescriber"),
        Patient.__table__.alias("patient"),
    )
    course = Course.__table__.alias("course")
    of_record = Prescriber.__table__.alias("of_record")
    held, holder = Authorization.__table__.alias("held"), Site.__table__.alias("holder")
    anchor = sa.select(sa.literal_column("1").label("one")).subquery("anchor")
    joined = (
        anchor.outerjoin(pharmacy, pharmacy.c.id == sa.bindparam("pharmacy_id"))
        .outerjoin(site, site.c.site_code == sa.bindparam("site_code"))
        .outerjoin(prescriber, prescriber.c.npi == sa.bindparam("npi"))
        .outerjoin(patient, sa.and_(
            patient.c.rems_id == sa.bindparam("rems_id"),
            patient.c.date_of_birth == sa.bindparam("born"),
        ))
        .outerjoin(course, sa.and_(course.c.patient_id == patient.c.id, course.c.status.in_(OPEN)))
        .outerjoin(of_record, of_record.c.id == patient.c.prescriber_id)
        .outerjoin(held, held.c.id == _newest_live(course))
        .outerjoin(holder, holder.c.id == held.c.pharmacy_site_id)
    )  # fmt: skip
    columns = [
        pharmacy.c.status.label("ph_status"), pharmacy.c.expires_on.label("ph_expires"),
        pharmacy.c.dispenses.label("ph_dispenses"), pharmacy.c.name.label("ph_name"),
        site.c.name.label("site_name"), of_record.c.user_id.label("rec_user_id"),
        prescriber.c.user_id.label("pr_user_id"), held.c.number.label("held_number"),
        held.c.valid_until.label("held_until"), held.c.pharmacy_site_id.label("held_pharmacy"),
        (held.c.doses - held.c.doses_given).label("held_doses"),
        holder.c.name.label("holder_name"), holder.c.site_code.label("holder_code"),
        site.c.id.label("site_id"), site.c.status.label("site_status"),
        site.c.expires_on.label("site_expires"), site.c.infuses.label("site_infuses"),
        prescriber.c.id.label("pr_id"), prescriber.c.status.label("pr_status"),
        prescriber.c.expires_on.label("pr_expires"),
        patient.c.id.label("pt_id"), patient.c.rems_id.label("pt_rems_id"),
        patient.c.status.label("pt_status"), patient.c.prescriber_id.label("pt_prescriber_id"),
        *(c.label(f"co_{c.name}") for c in _course_columns(course)),
        *_fact_columns(patient, course, documents),
        *cache.stamp_columns(),
    ]  # fmt: skip
    return sa.select(*columns).select_from(joined)


def _newest_live(course):
    """The newest live authorization of the course (it holds doses), correlated on it."""
    auth = Authorization.__table__
    newest = sa.select(sa.func.max(auth.c.id)).where(
        auth.c.course_id == course.c.id, auth.c.status.in_(LIVE)
    )
    return newest.scalar_subquery()


def _course_columns(course) -> list:
    c = course.c
    return [c.id, c.number, c.status, c.doses_total, c.doses_given, c.doses_held,
            c.first_dose_on, c.first_dose_by, c.last_dose_on]  # fmt: skip


def _fact_columns(patient, course, documents: int) -> list:
    """Correlated subqueries: acknowledgments of each required document (its current version,
    and any version), authorizations to settle, overdue monitoring (the stored state's
    `overdue_after` before today), the earlier decision for this key."""
    ack = Acknowledgment.__table__
    columns = []
    for index in range(documents):
        seen = sa.select(ack.c.id).where(ack.c.patient_id == patient.c.id)
        current = seen.where(ack.c.document_version_id == sa.bindparam(f"ack_id_{index}"))
        columns.append(sa.exists(current).label(f"ack_{index}"))
        ids = sa.bindparam(f"any_ids_{index}", expanding=True)
        columns.append(
            sa.exists(seen.where(ack.c.document_version_id.in_(ids))).label(f"any_{index}")
        )
    auth = Authorization.__table__
    lapsed = sa.select(auth.c.id).where(
        auth.c.course_id == course.c.id,
        auth.c.status.in_(LIVE),
        auth.c.valid_until < sa.bindparam("today"),
    )
    columns.append(sa.exists(lapsed).label("to_settle"))
    live = sa.select(sa.func.count()).where(
        auth.c.course_id == course.c.id, auth.c.status.in_(LIVE)
    )
    columns.append(live.scalar_subquery().label("live_count"))
    status = MonitoringStatus.__table__
    overdue = sa.select(status.c.patient_id).where(
        status.c.patient_id == patient.c.id, status.c.overdue_after < sa.bindparam("today")
    )
    columns.append(sa.exists(overdue).label("monitoring_overdue"))
    decision = AuthorizationDecision.__table__
    earlier = sa.select(decision.c.id).where(
        decision.c.requested_by_id == sa.bindparam("requester_id"),
        decision.c.idempotency_key == sa.bindparam("key"),
    )
    columns.append(earlier.scalar_subquery().label("earlier_id"))
    return columns


def _current(versions: cache.CachedVersions, today: date):
    """For each required document, its version in effect today (None: none yet)."""
    program = current_app.extensions["rems_program"]
    required = [d.code for d in program.required_documents()]
    return current_versions(versions.versions, required, today)


def _identifier(value, prefix: str) -> str | None:
    """A well-formed identifier, normalised; None (matches nothing) otherwise."""
    return normalize_identifier(value) if is_valid_identifier(value or "", prefix) else None


def _facts_from_row(row, requester, request, today: date, versions) -> Gathered:
    """The decision's facts from the one row."""
    program = current_app.extensions["rems_program"]
    found = row.pt_id is not None
    course = _open_course(row, requester)
    facts = DispenseFacts(
        today=today,
        pharmacy=_party(row.ph_status, row.ph_expires, row.ph_dispenses, today),
        site=_party(row.site_status, row.site_expires, row.site_infuses, today),
        prescriber=_party(row.pr_status, row.pr_expires, True, today),
        patient_found=found,
        patient_enrolled=found and row.pt_status == PatientStatus.ENROLLED,
        prescriber_of_record=found and row.pr_id is not None and row.pt_prescriber_id == row.pr_id,
        documents_missing=tuple(_missing(row, today, versions, program)) if found else (),
        course=course,
        doses_requested=request.get("doses"),
        expiry_warning_days=program.authorization.expiry_warning_days,
        validity_days=program.authorization.validity_days,
    )
    refs = Refs(
        pharmacy_id=None if row.ph_status is None else requester.site_id,
        site_id=row.site_id, prescriber_id=row.pr_id, patient_id=row.pt_id,
        patient_rems_id=row.pt_rems_id, course_id=row.co_id, course_number=row.co_number,
        concerned_prescriber_id=row.pt_prescriber_id if found else row.pr_id,
        prescriber_user_id=row.rec_user_id if found else row.pr_user_id,
        pharmacy_name=row.ph_name, site_name=row.site_name,
        asked_patient_id=_identifier(request.get("patient_id"), "P"),
    )  # fmt: skip
    return Gathered(facts, refs, row.earlier_id, _needs_settling(row, today))


def _party(status, expires_on, capable, today: date) -> Party | None:
    """A party's certification today and whether it can do what is asked (None: not found)."""
    if status is None:
        return None
    now = effective_status(CertStatus(status), expires_on, today)
    certified = now == CertStatus.CERTIFIED
    return Party(
        certified=certified, capable=bool(capable), expires_on=expires_on, status=now.value
    )


def _open_course(row, requester) -> OpenCourse | None:
    """The course as the decision sees it, with the newest live authorization holding doses."""
    if row.co_id is None:
        return None
    holder = None
    if row.held_number is not None:
        holder = Holder(
            number=row.held_number, pharmacy=row.holder_name, pharmacy_site_id=row.holder_code,
            valid_until=row.held_until, doses_held=row.held_doses,
            yours=row.held_pharmacy == requester.site_id, others=max(row.live_count - 1, 0),
        )  # fmt: skip
    return OpenCourse(
        number=row.co_number,
        started=row.co_first_dose_on is not None,
        doses_total=row.co_doses_total,
        doses_given=row.co_doses_given,
        doses_held=row.co_doses_held,
        first_dose_by=row.co_first_dose_by,
        last_dose_on=row.co_last_dose_on,
        held_by=holder,
    )


def _missing(row, today: date, versions, program) -> list[str]:
    """The required documents whose current version the patient has not acknowledged."""
    current = _current(versions, today)
    values = row._mapping
    acknowledged = [v.id for i, v in enumerate(current.values()) if v and values[f"ack_{i}"]]
    codes = [code for i, code in enumerate(current) if values[f"any_{i}"]]
    return missing_acknowledgments(
        current, acknowledged, acknowledged_codes=codes,
        reacknowledge_on_new_version=program.reacknowledge_on_new_version,
    )  # fmt: skip


def _needs_settling(row, today: date) -> bool:
    """Time has ended something the decision must not see: a lapsed course, expired grants."""
    if row.co_id is None:
        return False
    lapses = (
        row.co_status == CourseStatus.AUTHORIZED
        and row.co_first_dose_on is None
        and row.co_first_dose_by is not None
        and today > row.co_first_dose_by
    )
    return bool(row.to_settle or lapses)
