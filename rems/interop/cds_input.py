"""A CDS Hooks 2.0 request, read strictly: `hook`, `hookInstance`, `context` (with `patientId`;
`draftOrders` for the order hooks) and `prefetch` (the keys our discovery asks for: `patient`,
`practitioner`, and `medicationRequests` for patient-view). This service never queries the
EHR's FHIR server, so a missing `patient` prefetch is a 412 (CDS Hooks: the data needed could
not be obtained); a malformed body, or a prefetch that contradicts the context, is a 400."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from rems.interop.etasu_input import NPI, _birth_date, _codings, _is_ours, _rems_id
from rems.program.model import MedicationCodes


class CdsRequestError(Exception):
    """A request refused before anything is looked up: its HTTP status and message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class HookQuery:
    """What the call asks about: whether a drug of ours is concerned, and the patient as the
    EHR knows them (our REMS ID if it carries one, else name and birth date)."""

    ours: bool
    rems_id: str | None = None
    born: date | None = None
    family: str | None = None
    given: str | None = None
    prescriber_npi: str | None = None


def parse_hook(body: Any, hook: str, codes: MedicationCodes) -> HookQuery:
    """Read the call for `hook`, or raise CdsRequestError."""
    if not isinstance(body, dict):
        raise CdsRequestError(400, "The body must be a JSON object (a CDS Hooks request).")
    if body.get("hook") != hook:
        raise CdsRequestError(400, f"'hook' must be '{hook}' for this service.")
    if not isinstance(body.get("hookInstance"), str) or not body["hookInstance"]:
        raise CdsRequestError(400, "'hookInstance' is required.")
    context = body.get("context")
    if not isinstance(context, dict):
        raise CdsRequestError(400, "'context' must be an object.")
    patient_id = context.get("patientId")
    if not isinstance(patient_id, str) or not patient_id:
        raise CdsRequestError(400, "'context.patientId' is required.")
    prefetch = body.get("prefetch") or {}
    if not isinstance(prefetch, dict):
        raise CdsRequestError(400, "'prefetch' must be an object.")
    patient = _prefetched(prefetch, "patient", "Patient")
    if patient is None:
        raise CdsRequestError(412, "The 'patient' prefetch is required: this service does not "
                                   "query the EHR's FHIR server.")  # fmt: skip
    _agrees(patient.get("id"), patient_id, "Patient", "prefetch.patient.id", "context.patientId")
    practitioner = _prefetched(prefetch, "practitioner", "Practitioner")
    if practitioner is not None and context.get("userId"):
        _agrees(practitioner.get("id"), context["userId"], "Practitioner",
                "prefetch.practitioner.id", "context.userId")  # fmt: skip
    requests, medications = _medications(hook, context, prefetch, patient_id)
    codings = [c for r in requests for c in _codings(r)]
    codings += [c for m in medications for c in _codings(m)]
    if not _is_ours(codings, codes):
        return HookQuery(ours=False)
    name = (patient.get("name") or [{}])[0]
    return HookQuery(
        ours=True,
        rems_id=_rems_id(patient),
        born=_birth_date(patient),
        family=name.get("family"),
        given=(name.get("given") or [None])[0],
        prescriber_npi=_npi(practitioner, requests),
    )


def _prefetched(prefetch: dict[str, Any], key: str, kind: str) -> dict[str, Any] | None:
    resource = prefetch.get(key)
    if resource is None:
        return None
    if not isinstance(resource, dict) or resource.get("resourceType") != kind:
        raise CdsRequestError(400, f"'prefetch.{key}' must be a {kind} resource.")
    return resource


def _agrees(resource_id: Any, reference: str, kind: str, where: str, against: str) -> None:
    """A prefetched resource is the one the context names (ids compared without the type)."""
    if resource_id and str(resource_id) != reference.removeprefix(f"{kind}/"):
        raise CdsRequestError(400, f"'{where}' ({resource_id}) contradicts '{against}' "
                                   f"({reference}).")  # fmt: skip


def _medications(hook: str, context, prefetch, patient_id: str):
    """The MedicationRequests the call is about (the draft orders; for patient-view, the
    prefetched ones) and any Medication resources that came with them."""
    if hook == "patient-view":
        bundle = prefetch.get("medicationRequests") or {}
        where = "prefetch.medicationRequests"
    else:
        bundle = context.get("draftOrders")
        where = "context.draftOrders"
        if not isinstance(bundle, dict):
            raise CdsRequestError(400, f"'{where}' (a Bundle) is required for {hook}.")
    if not isinstance(bundle, dict) or bundle.get("resourceType", "Bundle") != "Bundle":
        raise CdsRequestError(400, f"'{where}' must be a Bundle.")
    entries = [e.get("resource") for e in bundle.get("entry") or [] if isinstance(e, dict)]
    resources = [r for r in entries if isinstance(r, dict)]
    requests = [r for r in resources if r.get("resourceType") == "MedicationRequest"]
    for request in requests:
        subject = (request.get("subject") or {}).get("reference")
        if subject and subject.removeprefix("Patient/") != patient_id.removeprefix("Patient/"):
            raise CdsRequestError(400, f"A MedicationRequest in '{where}' is for {subject}, "
                                       f"not the context's patient.")  # fmt: skip
    contained = [c for r in requests for c in r.get("contained") or [] if isinstance(c, dict)]
    medications = [r for r in [*resources, *contained] if r.get("resourceType") == "Medication"]
    return requests, medications


def _npi(practitioner, requests) -> str | None:
    """The ordering prescriber's NPI: the prefetched practitioner's, else a requester's."""
    identifiers = list((practitioner or {}).get("identifier") or [])
    identifiers += [(r.get("requester") or {}).get("identifier") or {} for r in requests]
    return next((i.get("value") for i in identifiers if i.get("system") == NPI), None)
