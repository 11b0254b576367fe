"""Who may call /cds-services (CDS Hooks 2.0, "Trusting CDS Clients"): every call carries a JWT
signed by a client an administrator registered. Checked here: the algorithm (an allow-list of
asymmetric ones; never `none` or HMAC), the registered and active issuer (`iss`), the key (by
`kid` from the stored JWKS), `aud` equal to the exact URL of the service called, `exp`, `iat`
and `jti`. Time is the app's clock (`rems.common.clock`), not the library's, so the checks
follow the suite's frozen time. A `jti` is kept until its token expires; a second use is
refused (`note_jti`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rems.common.clock import utcnow
from rems.interop.cds_models import CdsClient, CdsTokenUse

#: CDS Hooks 2.0: services SHALL accept ES384 and RS384; the stronger SHA-512 ones too.
ALGORITHMS = ("RS384", "ES384", "RS512", "ES512")
#: CDS Hooks 2.0: `exp` SHALL be no more than 5 minutes after `iat`; clocks may drift a little.
MAX_LIFETIME = timedelta(minutes=5)
SKEW = timedelta(seconds=60)


class CdsAuthError(Exception):
    """A JWT refused (401): the message says why, without echoing the token."""


@dataclass(frozen=True, slots=True)
class VerifiedCall:
    """The client whose key signed the call, and the token's id and expiry (for the replay
    cache)."""

    client: CdsClient
    jti: str
    expires_at: datetime


def verify_call(session: Session, header: str, audience: str) -> VerifiedCall:
    """The caller's client, or CdsAuthError naming what is wrong. Nothing is written here."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise CdsAuthError("Send the client's JWT as 'Authorization: Bearer <jwt>'.")
    token = token.strip()
    try:
        head = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise CdsAuthError("The JWT is malformed.") from None
    algorithm = head.get("alg")
    if algorithm not in ALGORITHMS:
        raise CdsAuthError(f"The JWT algorithm must be one of {', '.join(ALGORITHMS)}.")
    client = _client(session, unverified.get("iss"))
    claims = _verified_claims(token, client, head, algorithm, audience)
    expires_at = _check_times(claims)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti.strip() or len(jti) > 200:
        raise CdsAuthError("The JWT needs a 'jti' (a unique id of up to 200 characters).")
    return VerifiedCall(client, jti, expires_at)


def _client(session: Session, issuer: Any) -> CdsClient:
    if not isinstance(issuer, str) or not issuer:
        raise CdsAuthError("The JWT has no 'iss'.")
    client = session.scalar(sa.select(CdsClient).where(CdsClient.issuer == issuer))
    if client is None or not client.active:
        raise CdsAuthError("The JWT's issuer is not a registered CDS client.")
    return client


def _verified_claims(token: str, client: CdsClient, head, algorithm: str, audience: str):
    """The claims, once the signature (with the client's key) and `aud` are checked."""
    key = _key(client.jwks, head.get("kid"), algorithm)
    try:
        return jwt.decode(
            token, key, algorithms=[algorithm], audience=audience, issuer=client.issuer,
            options={"require": ["exp", "iat", "jti", "aud", "iss"], "verify_exp": False,
                     "verify_iat": False, "verify_nbf": False},
        )  # fmt: skip
    except jwt.InvalidAudienceError:
        raise CdsAuthError(f"The JWT's 'aud' must be this service's URL: {audience}.") from None
    except jwt.MissingRequiredClaimError as error:
        raise CdsAuthError(f"The JWT has no '{error.claim}'.") from None
    except jwt.PyJWTError:
        raise CdsAuthError("The JWT's signature does not verify with the client's keys.") from None


def _key(jwks: dict[str, Any], kid: Any, algorithm: str):
    """The client's public key for this `kid` (or its only key when the JWT names none)."""
    try:
        keys = jwt.PyJWKSet.from_dict(jwks).keys
    except jwt.PyJWTError:
        raise CdsAuthError("The client's registered JWKS holds no usable key.") from None
    family = algorithm[:2]
    usable = [k for k in keys if (k.key_type == "RSA") == (family == "RS")]
    if kid is not None:
        usable = [k for k in usable if k.key_id == kid]
    if len(usable) != 1:
        raise CdsAuthError("No key of the client's JWKS matches the JWT's 'kid' and algorithm.")
    return usable[0].key


def _check_times(claims: dict[str, Any]) -> datetime:
    """`iat` not in the future, `exp` not past, and at most five minutes apart."""
    try:
        issued = datetime.fromtimestamp(int(claims["iat"]), UTC)
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise CdsAuthError("The JWT's 'iat' and 'exp' must be numeric dates.") from None
    now = utcnow()
    if issued > now + SKEW:
        raise CdsAuthError("The JWT was issued in the future ('iat').")
    if expires <= now - SKEW:
        raise CdsAuthError("The JWT has expired ('exp').")
    if expires - issued > MAX_LIFETIME:
        raise CdsAuthError("The JWT may live at most 5 minutes ('exp' - 'iat').")
    return expires


def note_jti(session: Session, call: VerifiedCall) -> None:
    """Record the token's id (forgetting ids whose tokens have expired); a `jti` seen before
    from the same issuer is a replay (the unique constraint decides between concurrent calls)."""
    issuer = call.client.issuer
    session.execute(sa.delete(CdsTokenUse).where(CdsTokenUse.expires_at < utcnow() - SKEW))
    try:
        with session.begin_nested():
            session.add(CdsTokenUse(issuer=issuer, jti=call.jti, expires_at=call.expires_at + SKEW))
    except IntegrityError:
        raise CdsAuthError("This JWT was used before ('jti'): sign a new one per call.") from None
