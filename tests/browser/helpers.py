"""Steps browser tests share: signing in as a person would."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def sign_in_as(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill in and submit the sign-in form; land on the dashboard."""
    page.goto("/sign-in")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def sign_out(page: Page) -> None:
    """Use the Sign out button in the header."""
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
