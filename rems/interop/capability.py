"""The CapabilityStatement (FHIR R4): this server instantiates the US Medication REMS IG's REMS
Administrator statement and lists exactly what it serves: `$rems-etasu` on GuidanceResponse, the
program's forms as Questionnaires (read, search, `$questionnaire-package`) and `$submit` of a
response."""

from __future__ import annotations

from typing import Any

from rems.common.clock import utcnow

DTR_PACKAGE = "http://hl7.org/fhir/us/davinci-dtr/OperationDefinition/questionnaire-package"
IG_ADMINISTRATOR = (
    "http://hl7.org/fhir/us/medication-rems/CapabilityStatement/rems-administrator-system"
)


def capability_statement(base: str) -> dict[str, Any]:
    """The statement for the server at `base` (its FHIR base URL)."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": utcnow().date().isoformat(),
        "kind": "instance",
        "instantiates": [IG_ADMINISTRATOR],
        "implementation": {"description": "LEMTRADA REMS administrator", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Send an API token of the LEMTRADA REMS as "
                    "'Authorization: Bearer <token>' ($rems-etasu: site staff of a pharmacy; "
                    "Questionnaires: any token; $submit: a prescriber or delegate)."
                },
                "resource": [
                    {
                        "type": "Questionnaire",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "searchParam": [
                            {"name": "url", "type": "uri"},
                            {"name": "_id", "type": "token"},
                        ],
                        "operation": [{"name": "questionnaire-package", "definition": DTR_PACKAGE}],
                    },
                    {
                        "type": "QuestionnaireResponse",
                        "operation": [
                            {
                                "name": "submit",
                                "definition": base
                                + "/OperationDefinition/QuestionnaireResponse-submit",
                            }
                        ],
                    },
                    {
                        "type": "GuidanceResponse",
                        "operation": [
                            {
                                "name": "rems-etasu",
                                "definition": base + "/OperationDefinition/rems-etasu",
                            }
                        ],
                    },
                ],
            }
        ],
    }
