"""Long lists: keyset pages (First, Previous, Next, Last by sort key), capped counts, prefix
search, the audit trail's CSV in chunks and its record types from a loose index scan."""

from __future__ import annotations

import csv
import html
import io
import re

from rems.audit.queries import entity_types
from rems.audit.trail import record_event
from rems.auth.models import Role
from rems.common import pagination
from rems.common.csvsafe import csv_chunks, csv_lines
from rems.extensions import db

LINK = re.compile(r'rel="(first|prev|next|last)" href="([^"]+)"')


def _links(page: str) -> dict[str, str]:
    return {rel: html.unescape(href) for rel, href in LINK.findall(page)}


def _delegates(browser, path: str) -> list[str]:
    page = browser.get(path).get_data(as_text=True)
    return sorted(set(re.findall(r"delegate-\d\d", page))), page


def test_a_long_list_pages_by_key_to_the_end_and_back(factory):
    admin = factory.user(Role.ADMIN)
    for number in range(30):
        factory.user(Role.DELEGATE, username=f"delegate-{number:02d}")
    browser = factory.signed_in(admin)
    first, page = _delegates(browser, "/admin/users?role=delegate")
    assert first == [f"delegate-{n:02d}" for n in range(25)] and "Showing 1–25 of 30" in page
    links = _links(page)
    assert set(links) == {"next", "last"} and "role=delegate" in links["next"]
    following, page = _delegates(browser, links["next"])
    assert following == [f"delegate-{n:02d}" for n in range(25, 30)]
    assert "Showing 5 of 30" in page and set(_links(page)) == {"first", "prev"}
    last, page = _delegates(browser, links["last"])
    assert last == following and "Showing 26–30 of 30" in page
    back, page = _delegates(browser, _links(page)["prev"])
    assert back == first
    assert _delegates(browser, "/admin/users?role=delegate&after=not-a-cursor")[0] == first


def test_counts_stop_at_the_cap(factory, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_CAP", 10)
    admin = factory.user(Role.ADMIN)
    for number in range(12):
        factory.user(Role.DELEGATE, username=f"delegate-{number:02d}")
    page = factory.signed_in(admin).get("/admin/users?role=delegate").get_data(as_text=True)
    assert "of more than 10" in page and "delegate-11" in page


def test_the_csv_comes_in_chunks_that_add_up_to_the_same_text():
    rows = [(n, f"=cell {n}", None) for n in range(7)]
    chunks = list(csv_chunks(("n", "text", "none"), rows, rows_per_chunk=3))
    assert len(chunks) == 3  # the header with three rows, three rows, the last row
    assert "".join(chunks) == "".join(csv_lines(("n", "text", "none"), rows))
    parsed = list(csv.reader(io.StringIO("".join(chunks))))
    assert parsed[1] == ["0", "'=cell 0", ""]


def test_record_types_are_each_listed_once_in_order(app):
    with app.app_context():
        for kind in ("site", "patient", "course", "patient", "site"):
            record_event(db.session, "test.noted", actor=None, entity_type=kind, entity_id=1)
        db.session.commit()
        assert entity_types(db.session) == ["course", "patient", "site"]


def test_stored_json_comes_out_canonical_whatever_its_spelling():
    from rems.audit.queries import _json_cell

    assert _json_cell('{"b": 1, "a": "x, y"}') == '{"a":"x, y","b":1}'
    assert _json_cell('{"a":"x, y","b":1}') == '{"a":"x, y","b":1}'
    assert _json_cell('{"a":1,"b":[1,2]}') == '{"a":1,"b":[1,2]}'
    assert _json_cell("null") == "" and _json_cell(None) == ""
