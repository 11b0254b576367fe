"""The /fhir blueprint with all its routes: importing this module registers them."""

from rems.interop import fhir_api, questionnaire_api, questionnaire_submit  # noqa: F401
from rems.interop.fhir_blueprint import bp

__all__ = ["bp"]
