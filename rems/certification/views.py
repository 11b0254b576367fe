"""The administrators' certification pages: review queue, decisions, party status changes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certification", __name__, url_prefix="/admin/certification")
