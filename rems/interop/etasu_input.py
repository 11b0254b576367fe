"""The `$rems-etasu` input (US Medication REMS IG): a `Parameters` resource with `patient` (a
Patient carrying our REMS patient ID as an identifier, and `birthDate`) and `medication` (a
Medication or MedicationRequest), or a `caseNumber` / `case_number` / `authNumber` string.
Optional: `practitioner` (a Practitioner with an NPI; else the MedicationRequest's requester
NPI, else the patient's prescriber of record) and `infusionSite` (our site ID).

The body is checked by the fhirclient R4 models first (a structural error is a 400); what is
read from it becomes the gate's own request body (`AuthorizationRequest`'s fields)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fhirclient.models.fhirabstractbase import FHIRValidationError
from fhirclient.models.parameters import Parameters

from rems.common.identifiers import is_valid_identifier, normalize_identifier
from rems.interop.outcomes import FhirError
from rems.program.model import MedicationCodes

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
NDC = "http://hl7.org/fhir/sid/ndc"
NPI = "http://hl7.org/fhir/sid/us-npi"
CASE_NAMES = ("caseNumber", "case_number", "authNumber")
PATIENT_PATH = "Parameters.parameter.where(name='patient').resource"
MEDICATION_PATH = "Parameters.parameter.where(name='medication').resource"


@dataclass(frozen=True, slots=True)
class EtasuQuery:
    """What the caller asks about. `ours` is False for a drug that is not ours; `patient_id`
    None when no identifier of ours was sent (both answered `failure`)."""

    ours: bool = True
    patient_id: str | None = None
    born: date | None = None
    prescriber_npi: str | None = None
    site_code: str | None = None
    case_number: str | None = None
    #: The patient's name, read only when no REMS ID was sent: then name and birth date are
    #: looked up among the named prescriber's patients of record alone.
    family: str | None = None
    given: str | None = None


def parse_etasu(body: dict[str, Any], codes: MedicationCodes) -> EtasuQuery:
    """Read the query from the body, or raise FhirError (400) naming the element at fault."""
    if body.get("resourceType") != "Parameters":
        raise FhirError(400, ("The body must be a Parameters resource.", "resourceType"))
    try:
        Parameters(body, strict=True)
    except FHIRValidationError as error:
        raise FhirError(400, (f"Not a valid Parameters resource: {error}", "Parameters")) from None
    named = {p.get("name"): p for p in body.get("parameter") or []}
    for name in CASE_NAMES:
        if name in named:
            return _case(named[name], name)
    patient = _resource(named, "patient", ("Patient",), PATIENT_PATH)
    medication = _resource(named, "medication", ("Medication", "MedicationRequest"),
                           MEDICATION_PATH)  # fmt: skip
    if not _is_ours(_codings(medication), codes):
        return EtasuQuery(ours=False)
    rems_id = _rems_id(patient)
    name = (patient.get("name") or [{}])[0] if rems_id is None else {}
    return EtasuQuery(
        patient_id=rems_id,
        born=_birth_date(patient),
        prescriber_npi=_npi(named.get("practitioner"), medication),
        site_code=_site(named.get("infusionSite")),
        family=(name.get("family") or "").strip() or None,
        given=((name.get("given") or [""])[0] or "").strip() or None,
    )


def _case(parameter: dict[str, Any], name: str) -> EtasuQuery:
    value = parameter.get("valueString") or ""
    if not value.strip():
        raise FhirError(400, (f"{name} needs a valueString.", f"Parameters.parameter[{name}]"))
    return EtasuQuery(case_number=value.strip().upper())


def _resource(named, name: str, kinds: tuple[str, ...], path: str) -> dict[str, Any]:
    """The named parameter's resource, of one of the expected kinds (400 otherwise)."""
    resource = (named.get(name) or {}).get("resource")
    if resource is None:
        raise FhirError(400, (f"The '{name}' parameter (a {' or '.join(kinds)}) is missing.",
                              path))  # fmt: skip
    if resource.get("resourceType") not in kinds:
        raise FhirError(400, (f"'{name}' must be a {' or '.join(kinds)}.", path))
    return resource


def _codings(medication: dict[str, Any]) -> list[dict[str, Any]]:
    concept = medication.get("code") or medication.get("medicationCodeableConcept") or {}
    return concept.get("coding") or []


def _is_ours(codings: list[dict[str, Any]], codes: MedicationCodes) -> bool:
    """Any coding of ours: an RxNorm or NDC code listed in the program file."""
    listed = {RXNORM: set(codes.rxnorm), NDC: set(codes.ndc)}
    return any(c.get("code") in listed.get(c.get("system"), ()) for c in codings)


def _rems_id(patient: dict[str, Any]) -> str | None:
    """Our REMS patient ID among the identifiers (any system), normalised."""
    for identifier in patient.get("identifier") or []:
        value = identifier.get("value") or ""
        if is_valid_identifier(value, "P"):
            return normalize_identifier(value)
    return None


def _birth_date(patient: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(patient.get("birthDate") or "")
    except ValueError:
        return None  # a partial date (year only) matches nobody


def _npi(practitioner, medication: dict[str, Any]) -> str | None:
    """The prescriber's NPI: the practitioner parameter's, else the MedicationRequest's."""
    identifiers = ((practitioner or {}).get("resource") or {}).get("identifier") or []
    requester = medication.get("requester") or {}
    identifiers = [*identifiers, requester.get("identifier") or {}]
    return next((i.get("value") for i in identifiers if i.get("system") == NPI), None)


def _site(parameter) -> str | None:
    if parameter is None:
        return None
    identifier = parameter.get("valueIdentifier") or {}
    return parameter.get("valueString") or identifier.get("value")
