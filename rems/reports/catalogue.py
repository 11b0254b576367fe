"""The report catalogue: every report by name, in the order the catalogue page lists them."""

from __future__ import annotations

from rems.adverse_events.listing import LINE_LISTING
from rems.reports.alerts import ALERTS
from rems.reports.amendments import RESULT_AMENDMENTS
from rems.reports.certifications import CERTIFICATION_HISTORY, CERTIFICATIONS
from rems.reports.clinical import ADVERSE_EVENTS, INFUSIONS
from rems.reports.deviations import CASES, DEVIATIONS, NOT_INFUSED
from rems.reports.enrollments import ACKNOWLEDGMENTS, ENROLLMENTS
from rems.reports.exports import exports_report
from rems.reports.framework import Report
from rems.reports.gate import AUTHORIZATIONS, DECISION_LIST, DECISIONS, DENIALS
from rems.reports.monitoring import COMPLIANCE, MONITORING, OVERDUE
from rems.reports.statuses import PATIENT_STATUSES

#: (section heading, reports in it)
_SECTIONS: tuple[tuple[str, tuple[Report, ...]], ...] = (
    ("Certification", (CERTIFICATIONS, CERTIFICATION_HISTORY)),
    ("Enrollment", (ENROLLMENTS, ACKNOWLEDGMENTS)),
    ("The gate", (DECISIONS, DECISION_LIST, DENIALS, AUTHORIZATIONS)),
    ("Infusions and safety", (INFUSIONS, DEVIATIONS, NOT_INFUSED, ADVERSE_EVENTS, LINE_LISTING)),
    ("Non-compliance", (CASES,)),
    ("Monitoring", (MONITORING, OVERDUE, COMPLIANCE, RESULT_AMENDMENTS, PATIENT_STATUSES, ALERTS)),
)
_NAMES = tuple(r.name for _, reports in _SECTIONS for r in reports)
EXPORTS = exports_report(_NAMES)
SECTIONS = (*_SECTIONS, ("Exports", (EXPORTS,)))
REPORTS: dict[str, Report] = {r.name: r for _, reports in SECTIONS for r in reports}


def report_named(name: str) -> Report | None:
    """The report with this name, or None."""
    return REPORTS.get(name)
