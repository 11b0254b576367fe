"""Self-registration of prescribers and site representatives (the first step of enrollment)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("registration", __name__)
