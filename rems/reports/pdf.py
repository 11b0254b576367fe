"""HTML to PDF with WeasyPrint. It may fetch only the app's own static files (read from disk)
and data: URIs: never the network, so a page cannot make the server fetch anything."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import unquote_to_bytes, urlsplit

from flask import current_app

BASE_URL = "https://rems.invalid/"
MEDIA_TYPES = {".css": "text/css", ".svg": "image/svg+xml"}


def _static_file(url: str) -> tuple[bytes, str]:
    """A file of the app's static folder named by a URL under BASE_URL."""
    parts = urlsplit(url)
    static = Path(current_app.static_folder).resolve()
    if parts.netloc == urlsplit(BASE_URL).netloc and parts.path.startswith("/static/"):
        target = (static / parts.path.removeprefix("/static/")).resolve()
        if target.is_file() and static in target.parents:
            return target.read_bytes(), MEDIA_TYPES.get(target.suffix, "application/octet-stream")
    raise ValueError(f"refused to fetch {url!r} while making a PDF")


def _data_uri(url: str) -> tuple[bytes, str]:
    """The bytes and media type of a data: URI."""
    header, _, payload = url.removeprefix("data:").partition(",")
    media_type = header.split(";")[0] or "text/plain"
    if header.endswith(";base64"):
        return base64.b64decode(payload), media_type
    return unquote_to_bytes(payload), media_type


def _fetcher():
    """A WeasyPrint URL fetcher limited to static files and data: URIs."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LocalOnly(URLFetcher):
        """Never opens a network connection."""

        def fetch(self, url, headers=None):
            body, media_type = _data_uri(url) if url.startswith("data:") else _static_file(url)
            return URLFetcherResponse(url, body, {"Content-Type": media_type})

    return LocalOnly()


def render_pdf(html: str, *, title: str | None = None) -> bytes:
    """The PDF of a page rendered by this app: tagged (PDF/UA-1, so a screen reader follows its
    headings, tables and figures), with a bookmark per heading the print styles mark."""
    from weasyprint import HTML

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).render()
    if title:
        document.metadata.title = title
    return document.write_pdf(pdf_variant="pdf/ua-1", pdf_tags=True)
