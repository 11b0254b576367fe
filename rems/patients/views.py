"""Patient pages: the enrollment form, signatures, the patient's page and lifecycle."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("patients", __name__, url_prefix="/patients")
