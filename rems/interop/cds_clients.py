"""Registering CDS Hooks clients (administrators only): the issuer of their JWTs, their public
keys as a JWKS (pasted, or fetched once from an https URL and stored as JSON: a later change of
keys is a new registration) and the organisation they speak for. Every change is audited."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from rems.audit.trail import record_event
from rems.common.clock import utcnow
from rems.common.errors import StateConflict, ValidationFailed
from rems.interop.cds_models import CdsClient
from rems.sites.models import Site

JWKS_MAX_BYTES = 64 * 1024
#: Members that only a private key has (RFC 7518 §6.2.2, §6.3.2): never accepted.
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "k")


def register_client(
    session: Session,
    *,
    actor,
    name: str,
    issuer: str,
    jwks: str = "",
    jwks_url: str = "",
    site_code: str = "",
    organisation: str = "",
    fetch=None,
) -> CdsClient:
    """Check every field, then store the client (active) and its audit event."""
    errors: dict[str, list[str]] = {}
    name, issuer = (name or "").strip(), (issuer or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["Give the client's name (up to 200 characters)."]
    if not issuer or len(issuer) > 500:
        errors["issuer"] = ["Give the JWT issuer ('iss') the client signs with."]
    elif session.scalar(sa.select(CdsClient.id).where(CdsClient.issuer == issuer)):
        errors["issuer"] = ["A client with this issuer is already registered."]
    keys = _keys(jwks, jwks_url, errors, fetch or _fetch)
    site = _site(session, site_code, errors)
    organisation = (organisation or "").strip() or (site.name if site else "")
    if not organisation or len(organisation) > 200:
        errors["organisation"] = ["Name the organisation the client speaks for."]
    if errors:
        raise ValidationFailed(errors)
    client = CdsClient(
        name=name, issuer=issuer, jwks=keys, jwks_url=(jwks_url or "").strip() or None,
        site_id=site.id if site else None, organisation=organisation, active=True,
        created_at=utcnow(), created_by_id=actor.id,
    )  # fmt: skip
    session.add(client)
    session.flush()
    record_event(session, "cds_client.registered", actor=actor, entity=client,
                 new=_public(client))  # fmt: skip
    return client


def deactivate_client(session: Session, *, actor, client: CdsClient, reason: str) -> None:
    """Refuse the client's calls from now on (its record stays)."""
    if not client.active:
        raise StateConflict("This client is already deactivated.")
    if not (reason or "").strip():
        raise ValidationFailed.single("reason", "Give the reason for this change.")
    client.active = False
    record_event(session, "cds_client.deactivated", actor=actor, entity=client,
                 old={"active": True}, new={"active": False}, reason=reason.strip())  # fmt: skip


def _keys(text: str, url: str, errors, fetch) -> dict[str, Any]:
    """The JWKS, pasted or fetched; public RSA or EC keys only."""
    text, url = (text or "").strip(), (url or "").strip()
    if bool(text) == bool(url):
        errors["jwks"] = ["Paste the client's JWKS or give its https URL (one of the two)."]
        return {}
    field = "jwks"
    if url:
        field = "jwks_url"
        if not url.startswith("https://") or len(url) > 500:
            errors[field] = ["The JWKS URL must be an https URL."]
            return {}
        try:
            text = fetch(url)
        except (OSError, ValueError) as error:
            errors[field] = [f"The JWKS could not be fetched: {error}."]
            return {}
    try:
        keys = json.loads(text)
        listed = keys["keys"]
        if any(member in key for key in listed for member in PRIVATE_MEMBERS):
            errors[field] = ["The JWKS holds a private key: register the public keys only."]
            return {}
        usable = jwt.PyJWKSet.from_dict(keys).keys
    except (ValueError, TypeError, KeyError, AttributeError, jwt.PyJWTError):
        errors[field] = ["Not a JWKS: a JSON object with a 'keys' list of public keys."]
        return {}
    if any(key.key_type not in ("RSA", "EC") for key in usable):
        errors[field] = ["Only RSA and EC keys are accepted (RS384, ES384, RS512, ES512)."]
    return keys


def _fetch(url: str) -> str:
    """The JWKS document at an https URL (small, fetched once, with a short timeout)."""
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (https only)
        return response.read(JWKS_MAX_BYTES + 1)[:JWKS_MAX_BYTES].decode("utf-8")


def _site(session: Session, code: str, errors) -> Site | None:
    code = (code or "").strip().upper()
    if not code:
        return None
    site = session.scalar(sa.select(Site).where(Site.site_code == code))
    if site is None:
        errors["site_code"] = ["No site has this site ID."]
    return site


def _public(client: CdsClient) -> dict[str, Any]:
    kids = [key.get("kid") for key in client.jwks.get("keys", [])]
    return {"name": client.name, "issuer": client.issuer, "key_ids": kids,
            "jwks_url": client.jwks_url, "site_id": client.site_id,
            "organisation": client.organisation}  # fmt: skip
