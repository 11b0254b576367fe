"""Paging through a select() for list pages.

`paginate` numbers pages (?page=N, LIMIT/OFFSET and an exact count): fine for short lists.
`seek_page` is for the long ones (patients, authorizations, audit events, users): the count is
capped (`COUNT_CAP`: "more than 1,000"), and Previous, Next and Last pages are found by their
sort key (keyset or seek pagination: ?after=, ?before=, ?last=1), so the last of 25,000 patients
costs what the first does. A numbered ?page=N still works (OFFSET), for links already shared.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from flask import current_app, request
from flask_sqlalchemy.pagination import Pagination

from rems.extensions import db

#: Lists count their rows up to this many, then say "more than".
COUNT_CAP = 1000
SEEK_ARGS = ("page", "after", "before", "last")


def paginate(statement, per_page: int | None = None) -> Pagination:
    """One page of `statement`, the page number taken from ?page= (bad values mean page 1)."""
    return db.paginate(
        statement,
        page=_page_number(),
        per_page=per_page or current_app.config["REMS_PAGE_SIZE"],
        error_out=False,
        max_per_page=200,
    )


@dataclass
class SeekPage:
    """One page of a long list, with a capped count and links by sort key."""

    items: list
    total: int  # exact up to COUNT_CAP
    capped: bool  # there are more than `total`
    per_page: int
    has_prev: bool
    has_next: bool
    page: int | None = None  # the page number, when known (numbered pages, first, last)
    first: int | None = None  # positions of the first and last items, when known
    last: int | None = None
    links: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        """How many pages the (capped) count makes."""
        return max(1, -(-self.total // self.per_page))


def seek_page(statement: sa.Select, keys: list, *, descending: bool = False, options=()):
    """One page of `statement` ordered by `keys` (unique together, all in one direction), the
    position taken from ?after=, ?before=, ?last=1 or ?page=N. `options` are loader options."""
    per = current_app.config["REMS_PAGE_SIZE"]
    total, capped = capped_count(statement)
    base = statement.order_by(None).options(*options)
    args = request.args
    after, before = _cursor(args.get("after"), keys), _cursor(args.get("before"), keys)
    if after is not None:
        rows = _fetch(base, keys, descending, after, forward=True, limit=per + 1)
        page = SeekPage(rows[:per], total, capped, per, True, len(rows) > per)
    elif before is not None:
        rows = _fetch(base, keys, descending, before, forward=False, limit=per + 1)
        page = SeekPage(list(reversed(rows[:per])), total, capped, per, len(rows) > per, True)
    elif args.get("last") == "1":  # aligned with the numbered pages when the count is exact
        size = per if capped else (total - 1) % per + 1 if total else per
        rows = _fetch(base, keys, descending, None, forward=False, limit=size)
        page = SeekPage(list(reversed(rows)), total, capped, per, total > len(rows), False)
        if not capped:
            page.page, page.first, page.last = page.pages, total - len(rows) + 1, total
    else:
        number = _page_number()
        ordered = base.order_by(*_ordering(keys, descending, forward=True))
        rows = db.session.scalars(ordered.limit(per + 1).offset((number - 1) * per)).all()
        page = SeekPage(rows[:per], total, capped, per, number > 1, len(rows) > per, number)
        page.first, page.last = (number - 1) * per + 1, (number - 1) * per + len(page.items)
    page.links = _links(page, keys)
    return page


def capped_count(statement: sa.Select) -> tuple[int, bool]:
    """How many rows `statement` has, counting no further than COUNT_CAP; and if it stopped."""
    ones = statement.with_only_columns(sa.literal_column("1"), maintain_column_froms=True)
    limited = ones.order_by(None).limit(COUNT_CAP + 1).subquery()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(limited))
    return min(total, COUNT_CAP), total > COUNT_CAP


def _fetch(statement, keys, descending: bool, cursor, *, forward: bool, limit: int) -> list:
    """Rows after (forward) or before the cursor, nearest first."""
    if cursor is not None:
        key = sa.tuple_(*keys) if len(keys) > 1 else keys[0]
        value = sa.tuple_(*cursor) if len(keys) > 1 else cursor[0]
        later = forward != descending
        statement = statement.where(key > value if later else key < value)
    ordered = statement.order_by(*_ordering(keys, descending, forward=forward))
    return db.session.scalars(ordered.limit(limit)).all()


def _ordering(keys, descending: bool, *, forward: bool) -> list:
    """The keys in the list's direction (forward) or the reverse."""
    down = descending == forward
    return [key.desc() if down else key.asc() for key in keys]


def _links(page: SeekPage, keys) -> dict[str, dict[str, Any]]:
    """Query arguments of the first, previous, next and last pages."""
    links: dict[str, dict[str, Any]] = {}
    if page.has_prev:
        links["first"] = {}
        links["prev"] = {"before": _encode(page.items[0], keys)}
    if page.has_next:
        links["next"] = {"after": _encode(page.items[-1], keys)}
        links["last"] = {"last": "1"}
    return links


def _encode(item, keys) -> str:
    """An item's sort key as an opaque URL-safe cursor."""
    values = [getattr(item, key.key) for key in keys]
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(text: str | None, keys) -> list | None:
    """A cursor read back (None when absent or malformed: the first page)."""
    if not text or len(text) > 400:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(values, list) or len(values) != len(keys):
        return None
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        return None
    return values


def _page_number() -> int:
    """?page=N (bad values mean page 1)."""
    page = request.args.get("page", "1")
    return int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1
