"""The prescriber's pages: enrollment form, knowledge assessment, signing, delegates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("prescribers", __name__, url_prefix="/prescriber")
