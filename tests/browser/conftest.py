"""Browser fixtures: the app served on a local port, driven by Debian's headless Chromium."""

from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from tests.browser import axe

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """Every test here is a browser test; they skip where Chromium or Playwright is missing."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        reason = "Playwright is not installed"
    else:
        reason = None if CHROMIUM else "Chromium is not installed (apt-get install chromium)"
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def live_server(app):
    """The test's app on 127.0.0.1 and a free port, served from a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(chromium, live_server):
    """A fresh browser context (no cookies) whose every page axe checks as it loads; the test
    fails on a serious or critical violation on any of them (or on the page it ends on)."""
    return _checked_context(chromium, live_server, {"width": 1200, "height": 900})


@pytest.fixture
def browser_page(browser_context):
    """A page of a fresh, axe-checked context; `page.base` is the server's address."""
    context, _ = browser_context
    yield context.new_page()


@pytest.fixture
def viewport_page(chromium, live_server, request):
    """Like browser_page, at the width the test is parametrized with (`width`): 390 px is a
    phone, 1366 px a laptop."""
    width = request.node.callspec.params["width"]
    context, _ = _checked_context(chromium, live_server, {"width": width, "height": 900})
    yield context.new_page()


def _checked_context(chromium, live_server, viewport):
    context = chromium.new_context(base_url=live_server, viewport=viewport)
    context.set_default_timeout(10_000)
    log = axe.watch(context)
    _open_contexts.append((context, log))
    return context, log


_open_contexts: list = []


@pytest.fixture(autouse=True)
def _axe_verdict():
    """After each browser test: axe the page it ended on, close its contexts, and fail on any
    serious or critical violation found on any page it opened."""
    yield
    contexts, _open_contexts[:] = list(_open_contexts), []
    failures = []
    for context, log in contexts:
        for page in context.pages:
            if page.url.startswith("http"):
                found = axe.violations(page)
                failures += [(page.url, found)] if found else []
        failures += log.failures
        context.close()
    assert not failures, "axe found serious or critical violations:\n" + axe.describe(failures)
