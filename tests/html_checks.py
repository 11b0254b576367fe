"""Checks every HTML page the suite renders: element ids are unique, and each form's error
summary lists its fields in the order the page shows them (so the summary reads like the form)."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []
        self.summaries: list[list[str]] = []
        self._summary_depth: int | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self._depth += 1
        if attributes.get("id"):
            self.ids.append(attributes["id"])
        classes = (attributes.get("class") or "").split()
        if "form-errors" in classes and self._summary_depth is None:
            self._summary_depth = self._depth
            self.summaries.append([])
        elif self._summary_depth is not None and tag == "a":
            href = attributes.get("href") or ""
            if href.startswith("#"):
                self.summaries[-1].append(href[1:])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self._summary_depth is not None and self._depth == self._summary_depth:
            self._summary_depth = None
        self._depth -= 1


_VOID = re.compile(
    r"<(area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)(\s[^<>]*?)?\s*/?>", re.I
)


def problems(html: str) -> list[str]:
    """What is wrong with this page's ids and error summaries (empty when nothing is)."""
    page = _Page()
    # Void elements never get an end tag; write them self-closed so the depth count holds.
    page.feed(_VOID.sub(lambda m: f"<{m.group(1)}{m.group(2) or ''}/>", html))
    found = []
    duplicates = sorted(name for name, count in Counter(page.ids).items() if count > 1)
    if duplicates:
        found.append(f"duplicate element ids: {', '.join(duplicates)}")
    position: dict[str, int] = {}
    for index, name in enumerate(page.ids):
        position.setdefault(name, index)
    for links in page.summaries:
        missing = [name for name in links if name not in position]
        if missing:
            found.append(f"error summary links to missing ids: {', '.join(missing)}")
            continue
        if links != sorted(links, key=position.__getitem__):
            found.append(f"error summary out of page order: {links}")
    return found
