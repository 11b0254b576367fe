"""Paging through a select() for list pages."""

from __future__ import annotations

from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from rems.extensions import db


def paginate(statement, per_page: int | None = None) -> Pagination:
    """One page of `statement`, the page number taken from ?page= (bad values mean page 1)."""
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and int(page) > 0 else 1
    return db.paginate(
        statement,
        page=number,
        per_page=per_page or current_app.config["REMS_PAGE_SIZE"],
        error_out=False,
        max_per_page=200,
    )
