"""Builders for the CDS Hooks tests: a locally generated key pair, a registered client, signed
JWTs (times from the suite's frozen clock), hook requests, and the JSON Schema check."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path

import jsonschema
import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from rems.common.transactions import writing
from rems.extensions import db
from rems.interop.cds_clients import register_client
from rems.interop.etasu_input import NPI, RXNORM

SCHEMA = json.loads((Path(__file__).parent / "cds-hooks-2.0.schema.json").read_text())
ISSUER = "https://ehr.example.org"
BASE = "http://localhost/cds-services"
ORDER_SIGN = f"{BASE}/lemtrada-rems-order-sign"


def conforms(body: dict, kind: str) -> None:
    """The body is a CDS Hooks `discovery` or `response` by the schema written from the spec."""
    jsonschema.validate(body, dict(SCHEMA, oneOf=[{"$ref": f"#/$defs/{kind}"}]))


class KeyPair:
    """An EC P-384 key made for the test (ES384), with its public JWKS."""

    def __init__(self, kid: str = "test-key-1"):
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwks = {"keys": [public | {"kid": kid, "use": "sig", "alg": "ES384"}]}

    def sign(self, clock, *, aud: str = ORDER_SIGN, iss: str = ISSUER, life: int = 300,
             issued_ago: int = 0, jti: str | None = None, **claims) -> str:  # fmt: skip
        """A JWT as a CDS client signs it."""
        now = clock.now() - timedelta(seconds=issued_ago)
        payload = {
            "iss": iss,
            "sub": "client-1",
            "aud": aud,
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + life,
            "jti": jti or uuid.uuid4().hex,
        } | claims
        return jwt.encode(payload, self.private, algorithm="ES384", headers={"kid": self.kid})


def register(app, admin, keys: KeyPair, *, site_code: str = "", issuer: str = ISSUER) -> int:
    """Register the client through the service (the admin page is tested on its own)."""
    with app.app_context(), writing():
        from rems.auth.models import User

        client = register_client(
            db.session, actor=db.session.get(User, admin.id), name="Test EHR", issuer=issuer,
            jwks=json.dumps(keys.jwks), site_code=site_code,
            organisation="" if site_code else "Harbor Neurology Practice",
        )  # fmt: skip
        db.session.commit()
        return client.id


def hook_body(world, *, hook: str = "order-sign", code: str = "1594660", with_id: bool = True,
              name=("Test", "Patient"), patient_ref: str = "ehr-pt-1") -> dict:  # fmt: skip
    """A hook request as the prototype's EHR sends it, with the discovery's prefetch keys."""
    identifiers = [{"system": "urn:lemtrada-rems", "value": world.patient.rems_id}]
    patient = {"resourceType": "Patient", "id": patient_ref, "birthDate": world.date_of_birth,
               "identifier": identifiers if with_id else [],
               "name": [{"family": name[1], "given": [name[0]]}]}  # fmt: skip
    practitioner = {"resourceType": "Practitioner", "id": "ehr-pr-1",
                    "identifier": [{"system": NPI, "value": world.prescriber.npi}]}  # fmt: skip
    order = {"resourceType": "MedicationRequest", "id": "mr-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{patient_ref}"},
             "medicationCodeableConcept": {"coding": [{"system": RXNORM,
                                                       "code": code}]}}  # fmt: skip
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": order}]}
    context = {"userId": "Practitioner/ehr-pr-1", "patientId": patient_ref}
    prefetch = {"patient": patient, "practitioner": practitioner}
    if hook == "patient-view":
        prefetch["medicationRequests"] = bundle
    else:
        context["draftOrders"] = bundle
    if hook == "order-select":
        context["selections"] = ["MedicationRequest/mr-1"]
    return {"hook": hook, "hookInstance": str(uuid.uuid4()), "context": context,
            "prefetch": prefetch}  # fmt: skip


def call(client, token: str | None, body, service: str = "lemtrada-rems-order-sign"):
    """POST a hook call (a dict as JSON; a str as it is)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(f"/cds-services/{service}", data=data, headers=headers)
