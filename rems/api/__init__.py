"""The /api/v1 JSON blueprint: token authentication, error shape, OpenAPI document."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from rems.api import core  # noqa: E402,F401  (routes register on import)
from rems.authorizations import api as authorizations_api  # noqa: E402,F401
from rems.patients import api as patients_api  # noqa: E402,F401
from rems.prescribers import api as prescribers_api  # noqa: E402,F401
from rems.sites import api as sites_api  # noqa: E402,F401
