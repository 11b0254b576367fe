"""The `$rems-etasu` answer: `Parameters{rems-etasu: GuidanceResponse}` whose status is
`success` (the request would be authorized), `data-required` (it would be denied) or `failure`
(an unknown or invisible patient, a drug that is not ours), with one contained GuidanceResponse
per requirement, each with a human note and, per failing reason, our reason code and who must
act (extension `rems-reason`). Monitoring is information only: never a reason to deny."""

from __future__ import annotations

from typing import Any

from rems.authorizations.rules import DispenseDecision

MODULE = "http://hl7.org/fhir/us/medication-rems"
CONTAINED_ID = "etasuOutputParameters"
#: (parameter name, met note, reason codes it covers), in the order they are listed.
REQUIREMENTS = (
    ("Patient Enrollment", "The patient is enrolled.",
     ("PATIENT_NOT_FOUND", "PATIENT_NOT_ENROLLED")),
    ("Prescriber Certification", "The prescriber is certified and the patient's prescriber "
     "of record.", ("PRESCRIBER_NOT_CERTIFIED", "PRESCRIBER_NOT_OF_RECORD")),
    ("Medication Guide", "The patient has acknowledged the current Medication Guide and "
     "Patient Guide.", ("GUIDE_NOT_ACKNOWLEDGED",)),
    ("Course Authorization", "An authorized course has doses left.",
     ("COURSE_NOT_AUTHORIZED", "DOSES_EXCEEDED")),
    ("Pharmacy Certification", "The pharmacy is certified to dispense.",
     ("PHARMACY_NOT_CERTIFIED",)),
)  # fmt: skip
SITE_REQUIREMENT = ("Infusion Site Certification", "The infusion site is certified.",
                    ("SITE_NOT_CERTIFIED",))  # fmt: skip


def considered_reasons(decision: DispenseDecision, site_given: bool) -> list:
    """The decision's reasons this answer reports (the site's only when a site was named)."""
    return [r for r in decision.reasons if site_given or r.code != "SITE_NOT_CERTIFIED"]


def etasu_answer(decision: DispenseDecision, *, rems_id: str, site_given: bool,
                 extension_base: str) -> dict[str, Any]:  # fmt: skip
    """The answer for a patient found: success or data-required, requirement by requirement."""
    reasons = considered_reasons(decision, site_given)
    subject = {"identifier": {"system": extension_base + "/NamingSystem/rems-patient-id",
                              "value": rems_id}}  # fmt: skip
    requirements = [*REQUIREMENTS, *((SITE_REQUIREMENT,) if site_given else ())]
    parameters = [
        _requirement(name, met, codes, reasons, subject, extension_base)
        for name, met, codes in requirements
    ]
    parameters.append(_monitoring(decision, subject))
    response = _guidance("data-required" if reasons else "success", subject)
    response["contained"] = [
        {"resourceType": "Parameters", "id": CONTAINED_ID, "parameter": parameters}
    ]
    response["outputParameters"] = {"reference": "#" + CONTAINED_ID}
    return _wrap(response)


def etasu_failure(message: str) -> dict[str, Any]:
    """The answer for a drug that is not ours or a patient we cannot show."""
    response = _guidance("failure", None)
    response["note"] = [{"text": message}]
    return _wrap(response)


def _wrap(response: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [{"name": "rems-etasu",
                                                         "resource": response}]}  # fmt: skip


def _guidance(status: str, subject) -> dict[str, Any]:
    resource = {"resourceType": "GuidanceResponse", "moduleUri": MODULE, "status": status}
    if subject is not None:
        resource["subject"] = subject
    return resource


def _requirement(name, met, codes, reasons, subject, base) -> dict[str, Any]:
    failing = [r for r in reasons if r.code in codes]
    resource = _guidance("data-required" if failing else "success", subject)
    notes = [r.message for r in failing] or [met]
    resource["note"] = [{"text": text} for text in notes]
    if failing:
        resource["extension"] = [_reason_extension(r, base) for r in failing]
    return {"name": name, "resource": resource}


def _reason_extension(reason, base: str) -> dict[str, Any]:
    """Our reason code, who must act, and the message, as one complex extension."""
    return {
        "url": base + "/StructureDefinition/rems-reason",
        "extension": [
            {"url": "code", "valueCode": reason.code},
            {"url": "actionBy", "valueCode": reason.action_by},
        ],
    }


def _monitoring(decision: DispenseDecision, subject) -> dict[str, Any]:
    """Overdue monitoring and the other warnings: information only, never data-required."""
    resource = _guidance("success", subject)
    notes = [w.message for w in decision.warnings] or ["No monitoring is overdue."]
    resource["note"] = [{"text": text} for text in notes]
    return {"name": "Monitoring (information only)", "resource": resource}
