"""The authorized representative's pages: the site's enrollment, staff and API tokens."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("sites", __name__, url_prefix="/site")
