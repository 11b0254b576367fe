"""Imports every model so that metadata (and Alembic) sees the whole schema."""

from rems.adverse_events.models import AdverseEventFollowUp
from rems.alerts.models import LabAlert
from rems.api.models import IdempotentRequest
from rems.audit.access import RecordAccess
from rems.audit.models import AuditEvent, StatusChange
from rems.auth.models import ApiToken, LoginAttempt, Role, Signature, User
from rems.authorizations.models import Authorization, AuthorizationDecision
from rems.certification.models import AssessmentAttempt, CertificationSubmission, CertStatus
from rems.compliance.models import NonComplianceCase
from rems.courses.models import BaselineTest, Course, CourseDraft
from rems.documents.models import Acknowledgment, Document, DocumentVersion
from rems.infusions.models import Infusion, InfusionDeviation, NotInfusedVisit
from rems.interop.cds_models import CdsClient, CdsTokenUse
from rems.monitoring.followup_models import (
    MonitoringExtension,
    PatientStatusDue,
    PatientStatusReport,
)
from rems.monitoring.models import (
    AdverseEvent,
    LabResult,
    MonitoringStatus,
    MonitoringWaiver,
    ResultAmendment,
    ResultValue,
)
from rems.notifications.models import Notification
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber, PrescriberDelegate
from rems.prior_treatment.models import PriorDose
from rems.reminders.models import MonitoringReminder
from rems.reports.narrative_models import AssessmentNarrative
from rems.reports.summary_models import (
    ComplianceSnapshot,
    CoverageSnapshot,
    GateDecisionDay,
    GateDenialDay,
    InfusionDay,
    ReportSummaryDay,
    ReportSummaryStale,
)
from rems.sites.models import Site

__all__ = [
    "Acknowledgment",
    "AdverseEvent",
    "AdverseEventFollowUp",
    "ApiToken",
    "AssessmentAttempt",
    "AssessmentNarrative",
    "AuditEvent",
    "Authorization",
    "AuthorizationDecision",
    "BaselineTest",
    "CdsClient",
    "CdsTokenUse",
    "CertStatus",
    "CertificationSubmission",
    "ComplianceSnapshot",
    "Course",
    "CourseDraft",
    "CoverageSnapshot",
    "Document",
    "DocumentVersion",
    "GateDecisionDay",
    "GateDenialDay",
    "IdempotentRequest",
    "Infusion",
    "InfusionDay",
    "InfusionDeviation",
    "LabAlert",
    "LabResult",
    "LoginAttempt",
    "MonitoringExtension",
    "MonitoringReminder",
    "MonitoringStatus",
    "MonitoringWaiver",
    "NonComplianceCase",
    "NotInfusedVisit",
    "Notification",
    "Patient",
    "PatientStatusDue",
    "PatientStatusReport",
    "Prescriber",
    "PrescriberDelegate",
    "PriorDose",
    "RecordAccess",
    "ReportSummaryDay",
    "ReportSummaryStale",
    "ResultAmendment",
    "ResultValue",
    "Role",
    "Signature",
    "Site",
    "StatusChange",
    "User",
]
