"""The app with the patient lookup's monitoring summary replaced by a constant: the monitoring
benchmark serves it to measure what the summary costs the patient read (never used otherwise)."""

from __future__ import annotations

import rems.patients.api as patients_api
from wsgi import app

EMPTY = {
    "compliant": True,
    "monitoring_ends_on": None,
    "items_due": 0,
    "items_overdue": 0,
    "overdue_items": [],
}
patients_api.monitoring_summary = lambda _session, _patient_id, _today: EMPTY

__all__ = ["app"]
