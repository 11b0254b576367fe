"""Helpers of the site pages' tests: valid identifiers, the enrollment form as a browser posts it,
and the representative's steps (register, sign) through the test client."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator

from flask.testing import FlaskClient

from rems.auth.models import Role
from rems.common.identifiers import ncpdp_is_valid, npi_is_valid
from tests.factories import PASSWORD, Factory, UserRef, csrf_token

ATTEST_RE = re.compile(r'name="(attest_[a-z0-9_]+)"')
TOKEN_RE = re.compile(r'class="token-secret"><code>(rems_[A-Za-z0-9_-]+)</code>')


def _valid(length: int, is_valid, start: int) -> Iterator[str]:
    """Valid identifiers of `length` digits, counting up from `start`."""
    candidates = (str(number).zfill(length) for number in itertools.count(start))
    return (candidate for candidate in candidates if is_valid(candidate))


#: A fresh valid NPI / NCPDP ID on each next(): sites may not share them.
NPIS = _valid(10, npi_is_valid, 1234567893)
NCPDP_IDS = _valid(7, ncpdp_is_valid, 1234563)


def text(response) -> str:
    """A response's body as text, HTML entities decoded (as a person reads it)."""
    return html.unescape(response.get_data(as_text=True))


def hidden_value(page: str, name: str) -> str:
    """The value of the hidden input `name` on a page."""
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"no hidden {name} on the page"
    return html.unescape(match.group(1))


def site_form(*, dispenses: bool = True, infuses: bool = True, **overrides: str) -> dict:
    """The enrollment form of a valid site, as a browser posts it (unticked boxes are absent)."""
    values = {
        "name": "Riverside Infusion Center", "npi": next(NPIS),
        "ncpdp_id": next(NCPDP_IDS) if dispenses else "", "address_line1": "12 River Road",
        "address_line2": "", "city": "Boston", "state": "MA", "postal_code": "02115",
        "phone": "(617) 555-0142",
    }  # fmt: skip
    values |= {"dispenses": "y"} if dispenses else {}
    values |= {"infuses": "y"} if infuses else {}
    return values | overrides


def representative(factory: Factory) -> tuple[UserRef, FlaskClient]:
    """A signed-in authorized representative who has no site yet."""
    user = factory.user(Role.SITE_STAFF, representative=True)
    return user, factory.signed_in(user)


def register(browser: FlaskClient, **form) -> None:
    """Register the representative's site through the form."""
    data = site_form(**form) | {"csrf_token": csrf_token(browser, "/site/register")}
    response = browser.post("/site/register", data=data)
    assert response.status_code == 302, text(response)


def sign_data(browser: FlaskClient, *, password: str = PASSWORD, skip: int = 0) -> dict:
    """The signature form with every attestation ticked but the first `skip` ones."""
    page = text(browser.get("/site/sign"))
    boxes = ATTEST_RE.findall(page)
    assert boxes, "no attestation on the sign page"
    return {
        "csrf_token": hidden_value(page, "csrf_token"), "version": hidden_value(page, "version"),
        "password": password, **{box: "y" for box in boxes[skip:]},
    }  # fmt: skip


def submit(browser: FlaskClient) -> None:
    """Sign every attestation and submit the form."""
    response = browser.post("/site/sign", data=sign_data(browser))
    assert response.status_code == 302, text(response)


def add_staff(browser: FlaskClient, username: str, full_name: str = "Sam Dispenser") -> None:
    """Add an account to the representative's site through the staff page."""
    data = {
        "csrf_token": csrf_token(browser, "/site/staff"), "username": username,
        "full_name": full_name, "email": f"{username}@example.org", "password": PASSWORD,
    }  # fmt: skip
    response = browser.post("/site/staff", data=data)
    assert response.status_code == 302, text(response)
