"""Builders for the FHIR tests: the IG's example input, and a gate request as `$rems-etasu`
Parameters (a Patient with our REMS ID, LEMTRADA's RxNorm code, the prescriber's NPI, the site)."""

from __future__ import annotations

import json
from pathlib import Path

from rems.interop.etasu_input import NPI, RXNORM

DATA = Path(__file__).parent / "data"
ETASU = "/fhir/GuidanceResponse/$rems-etasu"
FHIR_JSON = "application/fhir+json"


def ig_example_text(name: str = "ig-rems-etasu-input.json") -> str:
    """The IG's published example input, as stored (verbatim)."""
    return (DATA / name).read_text()


def etasu_parameters(body: dict, *, with_site: bool = True, with_npi: bool = True) -> dict:
    """A gate request body (api.md) as `$rems-etasu` input."""
    patient = {
        "resourceType": "Patient",
        "identifier": [{"value": body["patient_id"]}],
        "birthDate": body["date_of_birth"],
    }
    medication = {
        "resourceType": "Medication",
        "code": {"coding": [{"system": RXNORM, "code": "1594660"}]},
    }
    parameters = [{"name": "patient", "resource": patient},
                  {"name": "medication", "resource": medication}]  # fmt: skip
    if with_npi:
        npi = {"system": NPI, "value": body["prescriber_npi"]}
        practitioner = {"resourceType": "Practitioner", "identifier": [npi]}
        parameters.append({"name": "practitioner", "resource": practitioner})
    if with_site:
        parameters.append({"name": "infusionSite", "valueString": body["infusion_site_id"]})
    return {"resourceType": "Parameters", "parameter": parameters}


def post_etasu(client, token: str, body, content_type: str = FHIR_JSON):
    """POST to `$rems-etasu` (a dict is sent as JSON; a str as it is)."""
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    return client.post(ETASU, data=data, headers=headers)


def guidance(response) -> dict:
    """The answer's rems-etasu GuidanceResponse."""
    body = response.get_json(force=True)
    assert body["resourceType"] == "Parameters", body
    (parameter,) = body["parameter"]
    assert parameter["name"] == "rems-etasu"
    return parameter["resource"]


def requirements(response) -> dict[str, dict]:
    """Each contained requirement's GuidanceResponse, by name."""
    (contained,) = guidance(response)["contained"]
    return {p["name"]: p["resource"] for p in contained["parameter"]}


def reason_codes(response) -> set[str]:
    """Every reason code the answer carries in its rems-reason extensions."""
    codes = set()
    for requirement in requirements(response).values():
        for extension in requirement.get("extension", []):
            codes |= {e["valueCode"] for e in extension["extension"] if e["url"] == "code"}
    return codes
