"""The gate's part of the OpenAPI document: dispensing authorizations, reversal and infusions
(api.md), exactly as rems/authorizations/api.py, its parsers and presenters implement them."""

from __future__ import annotations

from typing import Any

#: Denial reason codes and who must act on each (api.md; rems/authorizations/rules.py).
REASON_CODES = (
    "PHARMACY_NOT_CERTIFIED",
    "SITE_NOT_CERTIFIED",
    "PRESCRIBER_NOT_CERTIFIED",
    "PRESCRIBER_NOT_OF_RECORD",
    "PATIENT_NOT_FOUND",
    "PATIENT_NOT_ENROLLED",
    "GUIDE_NOT_ACKNOWLEDGED",
    "COURSE_NOT_AUTHORIZED",
    "DOSES_EXCEEDED",
)
WARNING_CODES = ("MONITORING_OVERDUE", "CERTIFICATION_EXPIRING", "DOSE_DELAYED")
ACTION_BY = ("prescriber", "site", "patient", "program")
AUTHORIZATION_STATUSES = ("issued", "partially_used", "used", "reversed", "expired")
COURSE_STATUSES = ("authorized", "in_progress", "completed", "lapsed", "closed")
REACTIONS = ("none", "mild", "moderate", "serious")

DATE = {"type": "string", "format": "date"}
DATE_TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict[str, Any]:
    """A response in the API's error shape."""
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(description: str, schema: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A JSON response with a named schema (and response headers, if any)."""
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref(schema)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _text(limit: int, description: str) -> dict[str, Any]:
    """A required text field as rems.api.parsing.text parses it."""
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": limit,
        "description": f"{description} Not blank; surrounding spaces are dropped.",
    }


def _body(schema: str) -> dict[str, Any]:
    """A required JSON request body."""
    return {"required": True, "content": {"application/json": {"schema": _ref(schema)}}}


BAD_BODY = "Malformed JSON, or a body not sent as 'Content-Type: application/json'."
UNAUTHORIZED = "Missing, invalid or revoked token, or a token in the query string."
SITE_STAFF_ONLY = "The token's user is not site staff."
NOT_YOURS = (
    "No authorization with this number (or its check character is wrong), or the caller is "
    "not party to it: the same answer for both."
)
DATABASE_DOWN = "The database is unreachable; nothing was stored."
REPLAYED = {
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the "
        "same Idempotency-Key and body; absent otherwise.",
        "schema": {"const": "true"},
    }
}
NUMBER_PARAMETER = {
    "name": "number",
    "in": "path",
    "required": True,
    "description": "The authorization number; case, spaces and dashes are ignored.",
    "schema": {"type": "string"},
}


GATE_SCHEMAS: dict[str, Any] = {
    "AuthorizationRequest": {
        "type": "object",
        "description": "A pharmacy's request to dispense. The requester's own site is the "
        "pharmacy. Unknown fields are refused (422).",
        "required": ["patient_id", "date_of_birth", "prescriber_npi", "infusion_site_id"],
        "additionalProperties": False,
        "properties": {
            "patient_id": _text(20, "The REMS patient ID."),
            "date_of_birth": {
                **DATE,
                "description": "Must match the patient's; a mismatch reads as PATIENT_NOT_FOUND.",
            },
            "prescriber_npi": _text(10, "The prescriber's NPI."),
            "infusion_site_id": _text(20, "The site ID of the certified infusion site."),
            "doses": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": 99,
                "description": "Doses to dispense. Omitted or null: every dose of the open "
                "course not yet authorized or given.",
            },
        },
    },
    "CourseDoses": {
        "type": "object",
        "description": "The course the authorization belongs to, as it stood when answered.",
        "required": ["number", "doses_total", "doses_given", "doses_authorized"],
        "additionalProperties": False,
        "properties": {
            "number": {"type": "integer", "minimum": 1},
            "doses_total": {"type": "integer", "minimum": 1},
            "doses_given": {"type": "integer", "minimum": 0},
            "doses_authorized": {
                "type": "integer",
                "minimum": 0,
                "description": "Doses given plus doses held by live authorizations.",
            },
        },
    },
    "GateWarning": {
        "type": "object",
        "description": "Something to know that does not block the grant or the infusion.",
        "required": ["code", "message"],
        "additionalProperties": False,
        "properties": {"code": {"enum": list(WARNING_CODES)}, "message": {"type": "string"}},
    },
    "DenialReason": {
        "type": "object",
        "required": ["code", "message", "action_by"],
        "additionalProperties": False,
        "properties": {
            "code": {"enum": list(REASON_CODES)},
            "message": {"type": "string", "description": "What is missing."},
            "action_by": {"enum": list(ACTION_BY), "description": "Who must act."},
        },
    },
    "AuthorizationGrant": {
        "type": "object",
        "description": "The request is granted and the doses are held for it.",
        "required": [
            "decision",
            "authorization_number",
            "patient_id",
            "course",
            "doses",
            "valid_from",
            "valid_until",
            "warnings",
        ],
        "additionalProperties": False,
        "properties": {
            "decision": {"const": "authorized"},
            "authorization_number": {"type": "string"},
            "patient_id": {"type": "string"},
            "course": _ref("CourseDoses"),
            "doses": {"type": "integer", "minimum": 1},
            "valid_from": {**DATE, "description": "The day of issue."},
            "valid_until": {
                **DATE,
                "description": "The last day infusions may be recorded under it.",
            },
            "first_dose_by": {
                **DATE,
                "description": "Present only while the course has not started: the last day "
                "the first dose may be given.",
            },
            "warnings": {"type": "array", "items": _ref("GateWarning")},
        },
    },
    "AuthorizationDenial": {
        "type": "object",
        "description": "The request is denied with every failing reason; the decision is "
        "recorded too.",
        "required": ["decision", "decision_id", "reasons", "warnings"],
        "additionalProperties": False,
        "properties": {
            "decision": {"const": "denied"},
            "decision_id": {"type": "string"},
            "reasons": {"type": "array", "minItems": 1, "items": _ref("DenialReason")},
            "warnings": {"type": "array", "items": _ref("GateWarning")},
        },
    },
    "Authorization": {
        "type": "object",
        "description": "A dispensing authorization as its parties see it.",
        "required": [
            "authorization_number",
            "status",
            "patient_id",
            "course",
            "doses",
            "doses_given",
            "valid_from",
            "valid_until",
            "first_dose_by",
            "pharmacy_site_id",
            "infusion_site_id",
            "issued_at",
        ],
        "additionalProperties": False,
        "properties": {
            "authorization_number": {"type": "string"},
            "status": {
                "enum": list(AUTHORIZATION_STATUSES),
                "description": "A live authorization read after its last day reads as expired "
                "(and its unused doses return to the course).",
            },
            "patient_id": {"type": "string"},
            "course": _ref("CourseDoses"),
            "doses": {"type": "integer", "minimum": 1},
            "doses_given": {"type": "integer", "minimum": 0},
            "valid_from": DATE,
            "valid_until": DATE,
            "first_dose_by": {
                "type": ["string", "null"],
                "format": "date",
                "description": "Null when the course had started when it was issued.",
            },
            "pharmacy_site_id": {"type": "string", "description": "The holding pharmacy."},
            "infusion_site_id": {"type": "string", "description": "The receiving site."},
            "issued_at": DATE_TIME,
        },
    },
    "Reversal": {
        "type": "object",
        "required": ["reason"],
        "additionalProperties": False,
        "properties": {"reason": _text(2000, "Why the authorization is reversed.")},
    },
    "InfusionRecord": {
        "type": "object",
        "description": "One dose given under the authorization. The checks that fail are "
        "reported together, each under its field (422).",
        "required": [
            "administered_on",
            "identity_verified",
            "no_active_infection",
            "corticosteroid_premedication",
            "antiviral_prophylaxis",
            "infusion_started_at",
            "infusion_ended_at",
            "observation_ended_at",
            "reaction",
        ],
        "additionalProperties": False,
        "properties": {
            "administered_on": {
                **DATE,
                "description": "Within the validity window and after the course's previous "
                "dose; for dose 1 no later than first_dose_by and at least 12 months after the "
                "prior course's last dose.",
            },
            "identity_verified": {"type": "boolean", "description": "Must be true."},
            "no_active_infection": {"type": "boolean", "description": "Must be true."},
            "corticosteroid_premedication": {
                "type": "boolean",
                "description": "Must be true on doses 1–3 of a course.",
            },
            "antiviral_prophylaxis": {
                "type": "boolean",
                "description": "Must be true on dose 1 of a course.",
            },
            "infusion_started_at": {
                **DATE_TIME,
                "description": "With a time zone; on administered_on in UTC.",
            },
            "infusion_ended_at": {**DATE_TIME, "description": "After the start."},
            "observation_ended_at": {
                **DATE_TIME,
                "description": "At least 120 minutes after the infusion ends.",
            },
            "reaction": {
                "enum": list(REACTIONS),
                "description": "`serious` also records an adverse event.",
            },
            "notes": {"type": ["string", "null"], "maxLength": 4000},
        },
    },
    "InfusionRecorded": {
        "type": "object",
        "required": [
            "course",
            "dose_number",
            "authorization_status",
            "course_status",
            "warnings",
        ],
        "additionalProperties": False,
        "properties": {
            "course": {"type": "integer", "minimum": 1, "description": "The course number."},
            "dose_number": {"type": "integer", "minimum": 1},
            "authorization_status": {"enum": list(AUTHORIZATION_STATUSES)},
            "course_status": {
                "enum": list(COURSE_STATUSES),
                "description": "`completed` after the course's last dose.",
            },
            "warnings": {
                "type": "array",
                "description": "DOSE_DELAYED when the dose follows a gap of more than a day.",
                "items": _ref("GateWarning"),
            },
        },
    },
}


GATE_PATHS: dict[str, Any] = {
    "/authorizations": {
        "post": {
            "operationId": "requestAuthorization",
            "summary": "Ask whether a pharmacy may dispense (the gate)",
            "description": "For site staff of a certified pharmacy. Granted: 201 with the "
            "authorization. Denied: 200 with every failing reason (the decision is recorded "
            "too). Reason codes and who acts on them: PHARMACY_NOT_CERTIFIED (program), "
            "SITE_NOT_CERTIFIED (site), PRESCRIBER_NOT_CERTIFIED and PRESCRIBER_NOT_OF_RECORD "
            "(prescriber), PATIENT_NOT_FOUND (site: no patient with that ID and date of "
            "birth), PATIENT_NOT_ENROLLED, GUIDE_NOT_ACKNOWLEDGED and COURSE_NOT_AUTHORIZED "
            "(prescriber), DOSES_EXCEEDED (site).",
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": False,
                    "description": "A retry with the same key and body returns the first "
                    "answer and creates nothing; the same key with another body is refused "
                    "(422). Keys are per user.",
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                }
            ],
            "requestBody": _body("AuthorizationRequest"),
            "responses": {
                "201": _json("Granted.", "AuthorizationGrant", REPLAYED),
                "200": _json("Denied, with every failing reason.", "AuthorizationDenial", REPLAYED),
                "400": _error(BAD_BODY),
                "401": _error(UNAUTHORIZED),
                "403": _error(SITE_STAFF_ONLY),
                "422": _error(
                    "A field is not valid, an unknown field was sent, the Idempotency-Key is "
                    "longer than 200 characters, or it was used before with another body; "
                    "`details` maps each field to its messages. Nothing was recorded."
                ),
                "503": _error(DATABASE_DOWN),
            },
        }
    },
    "/authorizations/{number}": {
        "get": {
            "operationId": "readAuthorization",
            "summary": "One dispensing authorization",
            "description": "For the holding pharmacy, the receiving site, the prescriber of "
            "record, auditors and administrators; anyone else gets 404.",
            "parameters": [NUMBER_PARAMETER],
            "responses": {
                "200": _json("The authorization.", "Authorization"),
                "401": _error(UNAUTHORIZED),
                "404": _error(NOT_YOURS),
                "503": _error(DATABASE_DOWN),
            },
        }
    },
    "/authorizations/{number}/reversal": {
        "post": {
            "operationId": "reverseAuthorization",
            "summary": "The holding pharmacy takes an authorization back",
            "description": "Only before any dose is given; the doses return to the course.",
            "parameters": [NUMBER_PARAMETER],
            "requestBody": _body("Reversal"),
            "responses": {
                "200": _json("Reversed.", "Authorization"),
                "400": _error(BAD_BODY),
                "401": _error(UNAUTHORIZED),
                "403": _error(SITE_STAFF_ONLY),
                "404": _error(NOT_YOURS + " Only the holding pharmacy may reverse."),
                "409": _error("A dose was already given, or the authorization is not live."),
                "422": _error("The reason is missing or not valid, or an unknown field was sent."),
                "503": _error(DATABASE_DOWN),
            },
        }
    },
    "/authorizations/{number}/infusions": {
        "post": {
            "operationId": "recordInfusion",
            "summary": "The receiving infusion site records one dose",
            "parameters": [NUMBER_PARAMETER],
            "requestBody": _body("InfusionRecord"),
            "responses": {
                "201": _json("The dose is recorded.", "InfusionRecorded"),
                "400": _error(BAD_BODY),
                "401": _error(UNAUTHORIZED),
                "403": _error(SITE_STAFF_ONLY),
                "404": _error(NOT_YOURS + " Only the receiving site may record infusions."),
                "409": _error("The authorization has no dose left or is not live."),
                "422": _error(
                    "A required check is missing or a field is not valid (premedication on "
                    "doses 1–3, observation under 120 minutes, a date outside the validity "
                    "window or not after the previous dose, dose 1 after first_dose_by or "
                    "under 12 months after the prior course); `details` maps each field to "
                    "its messages."
                ),
                "503": _error(DATABASE_DOWN),
            },
        }
    },
}
