"""The OpenAPI 3.1 document served at /api/v1/openapi.json (tested against the app)."""

from __future__ import annotations

from typing import Any

from rems.api.openapi_gate import GATE_PATHS, GATE_SCHEMAS

ERROR_RESPONSES = {
    "400": "Malformed JSON or wrong content type.",
    "401": "Missing, invalid or revoked token, or a token in the query string.",
    "403": "The token's role may not do this.",
    "404": "Not found, or not yours.",
    "422": "A field is not valid; `details` maps each field to its messages.",
}


def _error_response(description: str) -> dict[str, Any]:
    """A response in the error shape."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json_response(description: str, schema_ref: str) -> dict[str, Any]:
    """A JSON response with a named schema."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}},
    }


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "additionalProperties": False,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "details": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "Ping": {
        "type": "object",
        "required": ["status"],
        "additionalProperties": False,
        "properties": {"status": {"const": "ok"}},
    },
    "Health": {
        "type": "object",
        "required": ["status", "database"],
        "additionalProperties": False,
        "properties": {"status": {"const": "ok"}, "database": {"const": "ok"}},
    },
    "PrescriberLookup": {
        "type": "object",
        "required": ["npi", "name", "status", "certified_on", "expires_on"],
        "additionalProperties": False,
        "properties": {
            "npi": {"type": "string", "pattern": "^[0-9]{10}$"},
            "name": {"type": "string"},
            "status": {"$ref": "#/components/schemas/CertStatus"},
            "certified_on": {"type": ["string", "null"], "format": "date"},
            "expires_on": {"type": ["string", "null"], "format": "date"},
        },
    },
    "SiteLookup": {
        "type": "object",
        "required": ["site_id", "name", "capabilities", "status", "certified_on", "expires_on"],
        "additionalProperties": False,
        "properties": {
            "site_id": {"type": "string"},
            "name": {"type": "string"},
            "capabilities": {
                "type": "array",
                "items": {"enum": ["dispenses", "infuses"]},
                "minItems": 1,
            },
            "status": {"$ref": "#/components/schemas/CertStatus"},
            "certified_on": {"type": ["string", "null"], "format": "date"},
            "expires_on": {"type": ["string", "null"], "format": "date"},
        },
    },
    "CertStatus": {
        "enum": ["draft", "submitted", "certified", "suspended", "revoked", "expired"],
        "description": "As of today: a certification past its last day reads as expired.",
    },
    "Me": {
        "type": "object",
        "required": ["username", "full_name", "role", "is_authorized_representative", "site_id"],
        "additionalProperties": False,
        "properties": {
            "username": {"type": "string"},
            "full_name": {"type": "string"},
            "role": {"enum": ["admin", "prescriber", "delegate", "site_staff", "auditor"]},
            "is_authorized_representative": {"type": "boolean"},
            "site_id": {"type": ["string", "null"]},
        },
    },
    "PatientLookup": {
        "type": "object",
        "description": "A patient as their prescriber of record, the prescriber's delegates, "
        "administrators and auditors see them. The monitoring summary of the API contract is "
        "not part of this answer yet: monitoring is not built.",
        "required": [
            "patient_id",
            "status",
            "prescriber",
            "acknowledgments",
            "documents_missing",
            "courses",
        ],
        "additionalProperties": False,
        "properties": {
            "patient_id": {"type": "string", "description": "The REMS patient ID."},
            "status": {"enum": ["pending", "enrolled", "discontinued", "closed"]},
            "prescriber": {
                "type": "object",
                "description": "The prescriber of record.",
                "required": ["npi", "name"],
                "additionalProperties": False,
                "properties": {
                    "npi": {"type": ["string", "null"], "pattern": "^[0-9]{10}$"},
                    "name": {"type": "string"},
                },
            },
            "acknowledgments": {
                "type": "array",
                "description": "Document versions the patient acknowledged, newest first.",
                "items": {
                    "type": "object",
                    "required": ["document", "version", "acknowledged_at", "method"],
                    "additionalProperties": False,
                    "properties": {
                        "document": {"type": "string", "description": "e.g. medication_guide"},
                        "version": {"type": "string", "description": "The version's label."},
                        "acknowledged_at": {"type": "string", "format": "date-time"},
                        "method": {"enum": ["in_person", "paper_form"]},
                    },
                },
            },
            "documents_missing": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Codes of the required documents whose current version the "
                "patient has not acknowledged (dispensing is denied until they do).",
            },
            "courses": {
                "type": "array",
                "description": "Treatment courses, first course first.",
                "items": {
                    "type": "object",
                    "required": ["number", "status", "doses_total", "doses_given"],
                    "additionalProperties": False,
                    "properties": {
                        "number": {"type": "integer", "minimum": 1},
                        "status": {
                            "enum": ["authorized", "in_progress", "completed", "lapsed", "closed"]
                        },
                        "doses_total": {"type": "integer", "minimum": 1},
                        "doses_given": {"type": "integer", "minimum": 0},
                    },
                },
            },
        },
    },
    **GATE_SCHEMAS,
}


def _lookup(operation_id: str, summary: str, name: str, schema: str) -> dict[str, Any]:
    """A GET lookup by one path parameter, for any authenticated caller."""
    return {
        "get": {
            "operationId": operation_id,
            "summary": summary,
            "parameters": [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {
                "200": _json_response("Found.", schema),
                "401": _error_response(ERROR_RESPONSES["401"]),
                "404": _error_response("Nothing is enrolled under this identifier."),
                "422": _error_response(
                    "The identifier is malformed (wrong length or check digit)."
                ),
            },
        }
    }


PATHS: dict[str, Any] = {
    "/ping": {
        "get": {
            "operationId": "ping",
            "summary": "Liveness without the database",
            "security": [],
            "responses": {"200": _json_response("The app answers.", "Ping")},
        }
    },
    "/health": {
        "get": {
            "operationId": "health",
            "summary": "Readiness, including the database",
            "security": [],
            "responses": {
                "200": _json_response("The app and its database answer.", "Health"),
                "503": _error_response("The database is unreachable."),
            },
        }
    },
    "/openapi.json": {
        "get": {
            "operationId": "openapi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document.",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    },
    "/prescribers/{npi}": _lookup(
        "lookupPrescriber", "A prescriber's certification, by NPI", "npi", "PrescriberLookup"
    ),
    "/sites/{site_id}": _lookup(
        "lookupSite", "A healthcare setting's certification, by site ID", "site_id", "SiteLookup"
    ),
    "/patients/{patient_id}": {
        "get": {
            "operationId": "lookupPatient",
            "summary": "A patient's enrollment, acknowledgments and courses, by REMS patient ID",
            "description": "For the prescriber of record, their delegates, administrators and "
            "auditors. Anyone else, site staff included, gets the same 404 as for an unknown "
            "or mistyped ID, so the answer never tells whether a patient exists. The "
            "monitoring summary (compliant, due and overdue items) is not included yet: "
            "monitoring is not built.",
            "parameters": [
                {
                    "name": "patient_id",
                    "in": "path",
                    "required": True,
                    "description": "The REMS patient ID; case, spaces and dashes are ignored.",
                    "schema": {"type": "string"},
                }
            ],
            "responses": {
                "200": _json_response("The patient.", "PatientLookup"),
                "401": _error_response(ERROR_RESPONSES["401"]),
                "404": _error_response(
                    "No such patient, not one of yours, or the ID's check character is wrong."
                ),
            },
        }
    },
    "/me": {
        "get": {
            "operationId": "whoAmI",
            "summary": "The user the token acts as",
            "responses": {
                "200": _json_response("The token's user.", "Me"),
                "401": _error_response(ERROR_RESPONSES["401"]),
            },
        }
    },
    **GATE_PATHS,
}


RATE_LIMITED = {
    "description": "Too many requests from this token (or too many PATIENT_NOT_FOUND answers "
    "for this token or patient ID): wait the seconds Retry-After gives.",
    "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}


def _with_rate_limit(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation may answer 429 (the API's rate limits)."""
    return {
        path: {
            method: operation | {"responses": operation["responses"] | {"429": RATE_LIMITED}}
            for method, operation in item.items()
        }
        for path, item in paths.items()
    }


def openapi_document(server_url: str) -> dict[str, Any]:
    """The whole document, with the server this request reached."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "LEMTRADA REMS API",
            "version": "1.0.0",
            "description": "Certification lookups, dispensing authorization, infusions and "
            "monitoring results for pharmacy, infusion-site and EHR systems. Errors always "
            "use the Error schema.",
        },
        "servers": [{"url": f"{server_url}/api/v1"}],
        "security": [{"bearerToken": []}],
        "paths": _with_rate_limit(PATHS),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token created in the web app or by "
                    "`flask rems create-token`. Never in the query string.",
                }
            },
        },
    }
