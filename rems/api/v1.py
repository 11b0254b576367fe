"""The whole /api/v1 blueprint: the API's own endpoints with each domain's API nested in it."""

from __future__ import annotations

from rems.api.core import bp
from rems.authorizations.api import bp as authorizations
from rems.monitoring.api import bp as monitoring
from rems.patients.api import bp as patients
from rems.prescribers.api import bp as prescribers
from rems.sites.api import bp as sites

for _domain in (authorizations, monitoring, patients, prescribers, sites):
    bp.register_blueprint(_domain)

__all__ = ["bp"]
