"""Signing in and out in a real browser, with the CSP in force (no inline script or style)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from rems.auth.models import Role
from tests.browser.helpers import sign_in_as, sign_out


def test_sign_in_show_dashboard_sign_out(browser_page, factory):
    user = factory.user(Role.ADMIN, username="browser.admin")
    errors: list[str] = []
    browser_page.on(
        "console", lambda message: message.type == "error" and errors.append(message.text)
    )
    sign_in_as(browser_page, user.username)
    expect(browser_page.get_by_role("heading", name="Welcome, Test Browser.Admin")).to_be_visible()
    expect(browser_page.get_by_role("navigation", name="Main")).to_contain_text("Users")
    sign_out(browser_page)
    browser_page.goto("/admin/users")
    expect(browser_page).to_have_url(re.compile(r"/sign-in\?next="))
    assert errors == []  # the CSP refused nothing the page needed


def test_wrong_password_shows_the_message(browser_page, factory):
    user = factory.user(Role.AUDITOR)
    browser_page.goto("/sign-in")
    browser_page.get_by_label("Username").fill(user.username)
    browser_page.get_by_label("Password").fill("wrong password")
    browser_page.get_by_role("button", name="Sign in").click()
    expect(browser_page.get_by_role("alert")).to_contain_text("not correct")
