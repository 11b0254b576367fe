"""The /fhir blueprint (every error an OperationOutcome) and this server's FHIR base URL; the
routes are in `fhir_api` (metadata, `$rems-etasu`), `questionnaire_api` and
`questionnaire_submit`, all on it once `rems.interop.fhir_routes` is imported."""

from __future__ import annotations

from flask import Blueprint, url_for

from rems.interop.outcomes import install_errors

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
install_errors(bp)


def fhir_base() -> str:
    """This server's FHIR base URL, as the caller reached it."""
    return url_for("fhir.metadata", _external=True).removesuffix("/metadata")
