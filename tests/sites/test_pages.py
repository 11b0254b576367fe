"""The authorized representative's pages, through the test client as a browser uses them: the
site's enrollment (register, edit, sign), its staff accounts and its API tokens."""

from __future__ import annotations

import sqlalchemy as sa

from rems.auth.models import ApiToken, Role, Signature, User
from rems.certification.models import CertificationSubmission, CertStatus
from rems.certification.services import decide_submission
from rems.common.clock import today
from rems.common.transactions import writing
from rems.extensions import db
from rems.sites.models import Site
from tests.factories import PASSWORD, csrf_token, sign_in
from tests.sites.helpers import (
    ATTEST_RE,
    TOKEN_RE,
    add_staff,
    hidden_value,
    register,
    representative,
    sign_data,
    site_form,
    submit,
    text,
)


def _site_of(app, user_id: int) -> Site | None:
    """The site the user represents, read fresh from the database."""
    with app.app_context():
        site = db.session.scalar(sa.select(Site).where(Site.representative_id == user_id))
        if site is not None:
            db.session.expunge(site)
        return site


def _count(app, model) -> int:
    """How many rows of `model` exist."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _user_id(app, username: str) -> int:
    """The id of the account with this username."""
    with app.app_context():
        return db.session.scalar(sa.select(User.id).where(User.username == username))


def _post_form(browser, path: str, data: dict, *, page: str | None = None):
    """Post `data` with the CSRF token of the form on `page` (by default `path` itself)."""
    return browser.post(path, data=data | {"csrf_token": csrf_token(browser, page or path)})


def _bearer(token: str) -> dict:
    """The header an API client sends."""
    return {"Authorization": f"Bearer {token}"}


def test_the_representative_registers_signs_and_submits_the_site(app, factory):
    """Register (after NPI, NCPDP and capability errors), sign (after a missing attestation and a
    wrong password, neither storing anything), submit: the form is then read-only."""
    rep, browser = representative(factory)
    page = text(browser.get("/site"))
    assert "You have not registered the healthcare setting" in page
    assert 'href="/site/register"' in page

    bad = _post_form(browser, "/site/register", site_form(npi="1234567890", ncpdp_id="1234567"))
    assert bad.status_code == 200
    assert "This is not a valid NPI" in text(bad)
    assert "This is not a valid NCPDP ID" in text(bad)
    neither = _post_form(browser, "/site/register", site_form(dispenses=False, infuses=False))
    assert "Choose what the site does: dispense, infuse, or both." in text(neither)
    assert _count(app, Site) == 0

    register(browser, name="Riverside Pharmacy and Infusion")
    site = _site_of(app, rep.id)
    page = text(browser.get("/site"))
    for shown in (site.name, site.site_code, "Pharmacy (dispenses)", "Infusion site (infuses)"):
        assert shown in page
    assert site.status == CertStatus.DRAFT

    missing = browser.post("/site/sign", data=sign_data(browser, skip=1))
    assert missing.status_code == 200
    assert "Affirm this statement to submit the form." in text(missing)
    wrong = browser.post("/site/sign", data=sign_data(browser, password="not my password at all"))
    assert "The password is not correct; the form was not signed." in text(wrong)
    assert _count(app, Signature) == _count(app, CertificationSubmission) == 0
    assert _site_of(app, rep.id).status == CertStatus.DRAFT

    done = browser.post("/site/sign", data=sign_data(browser), follow_redirects=True)
    assert "signed and submitted, awaiting the program's review" in text(done)
    assert "waiting for review since" in text(done)
    assert _site_of(app, rep.id).status == CertStatus.SUBMITTED
    edit = text(browser.get("/site/edit"))
    assert "waiting for the program's review and cannot change meanwhile" in edit
    assert 'name="name"' not in edit and site.name in edit


def test_a_pharmacy_and_an_infusion_site_sign_different_attestations(app, factory):
    """The sign page asks exactly the attestations of the site's capabilities."""
    program = app.extensions["rems_program"]
    signed = {}
    for dispenses in (True, False):
        _, browser = representative(factory)
        register(browser, dispenses=dispenses, infuses=not dispenses)
        signed[dispenses] = set(ATTEST_RE.findall(text(browser.get("/site/sign"))))
    for dispenses, boxes in signed.items():
        required = program.site_attestations(dispenses=dispenses, infuses=not dispenses)
        assert boxes == {f"attest_{a.id}" for a in required}
    assert "attest_dispense_only_to_certified_sites" in signed[True] - signed[False]
    assert "attest_observe_two_hours" in signed[False] - signed[True]


def test_a_stale_form_posted_twice_changes_nothing_the_second_time(app, factory, clock):
    """The same edit form posted twice: the second post is refused as stale."""
    rep, browser = representative(factory)
    register(browser, name="Riverside Pharmacy")
    page = text(browser.get("/site/edit"))
    assert 'value="Riverside Pharmacy"' in page
    site = _site_of(app, rep.id)
    form = site_form(name="Riverside Pharmacy East", npi=site.npi, ncpdp_id=site.ncpdp_id) | {
        "csrf_token": hidden_value(page, "csrf_token"), "version": hidden_value(page, "version"),
    }  # fmt: skip
    clock.advance(minutes=3)
    assert browser.post("/site/edit", data=form).status_code == 302
    assert _site_of(app, rep.id).name == "Riverside Pharmacy East"

    clock.advance(minutes=3)
    again = browser.post("/site/edit", data=form | {"name": "Riverside Pharmacy West"})
    assert again.status_code == 302
    assert "This form was changed by someone else" in text(browser.get(again.headers["Location"]))
    assert _site_of(app, rep.id).name == "Riverside Pharmacy East"


def test_the_representative_manages_the_site_staff(app, factory):
    """Add a staff member; deactivation needs a reason and ends their session; reactivation;
    the representative cannot deactivate themself."""
    rep, browser = representative(factory)
    register(browser)
    new_account = {"username": "sam.d", "full_name": "Sam", "email": "sam@example.org"}
    weak = _post_form(browser, "/site/staff", new_account | {"password": "short"})
    assert "Use at least 12 characters." in text(weak)
    add_staff(browser, "sam.d")
    assert "Sam Dispenser" in text(browser.get("/site/staff"))
    change = f"/site/staff/{_user_id(app, 'sam.d')}"
    member = app.test_client()
    assert sign_in(member, "sam.d", PASSWORD).status_code == 302

    no_reason = _post_form(browser, f"{change}/deactivate", {"reason": " "}, page="/site/staff")
    assert no_reason.status_code == 422
    assert "Give the reason for this change." in text(no_reason)
    assert member.get("/dashboard").status_code == 200

    reason = {"reason": "Left the pharmacy."}
    gone = _post_form(browser, f"{change}/deactivate", reason, page="/site/staff")
    assert gone.status_code == 302
    assert member.get("/dashboard").headers["Location"].startswith("/sign-in")
    assert sign_in(member, "sam.d", PASSWORD).status_code == 200  # refused: deactivated

    back = _post_form(browser, f"{change}/reactivate", {"reason": "Back"}, page="/site/staff")
    assert back.status_code == 302
    assert sign_in(member, "sam.d", PASSWORD).status_code == 302
    myself = _post_form(browser, f"/site/staff/{rep.id}/deactivate", reason, page="/site/staff")
    assert myself.status_code == 302
    assert "You cannot deactivate your own account." in text(browser.get("/site/staff"))


def test_someone_else_s_staff_is_not_found(app, factory):
    """Another site's staff, or staff of no site, is a 404 and stays untouched."""
    _, browser = representative(factory)
    register(browser)
    add_staff(browser, "sam.d")
    _, other = representative(factory)
    register(other)
    stranger = factory.user(Role.SITE_STAFF)
    for user_id in (_user_id(app, "sam.d"), stranger.id):
        path = f"/site/staff/{user_id}/deactivate"
        refused = _post_form(other, path, {"reason": "Not mine"}, page="/site/staff")
        assert refused.status_code == 404
    assert "Sam Dispenser" not in text(other.get("/site/staff"))
    with app.app_context():
        assert db.session.get(User, _user_id(app, "sam.d")).active


def _certify(app, admin_id: int, site_id: int) -> None:
    """The program administrator certifies the site's pending submission."""
    with app.app_context(), writing():
        submission = db.session.scalar(
            sa.select(CertificationSubmission).where(CertificationSubmission.site_id == site_id)
        )
        admin = db.session.get(User, admin_id)
        decide_submission(db.session, submission, certify=True, actor=admin, today=today())
        db.session.commit()


def _site_with_staff(app, browser) -> int:
    """Register and submit the representative's site with one staff member; their id."""
    register(browser)
    add_staff(browser, "sam.d")
    submit(browser)
    return _user_id(app, "sam.d")


def _create_token(browser, member_id: int) -> str:
    """Create a token for the staff member on the tokens page; its plain text, shown once."""
    data = {"staff": str(member_id), "name": "Dispensing robot"}
    created = _post_form(browser, "/site/tokens", data)
    assert created.status_code == 200
    return TOKEN_RE.search(created.get_data(as_text=True)).group(1)


def test_a_staff_token_is_shown_once_and_works_only_while_the_site_is_certified(
    app, client, factory
):
    """A new token is made only once the site is certified (issue 22, item 5), is shown once,
    and works until revoked."""
    admin = factory.user(Role.ADMIN)
    rep, browser = representative(factory)
    member_id = _site_with_staff(app, browser)
    early = _post_form(browser, "/site/tokens", {"staff": str(member_id), "name": "Robot"})
    assert "not certified" in early.get_data(as_text=True)  # submitted only
    _certify(app, admin.id, _site_of(app, rep.id).id)
    token = _create_token(browser, member_id)
    reloaded = text(browser.get("/site/tokens"))
    assert token not in reloaded
    assert token[:12] in reloaded and "Dispensing robot" in reloaded and "Sam Dispenser" in reloaded
    me = client.get("/api/v1/me", headers=_bearer(token))
    assert me.status_code == 200 and me.get_json()["username"] == "sam.d"

    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id).where(ApiToken.user_id == member_id))
    revoked = _post_form(browser, f"/site/tokens/{token_id}/revoke", {}, page="/site/tokens")
    assert revoked.status_code == 302
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 401


def test_another_representative_cannot_see_use_or_revoke_the_site_tokens(app, client, factory):
    """Another site's representative neither sees, nor issues, nor revokes this site's tokens."""
    admin = factory.user(Role.ADMIN)
    rep, browser = representative(factory)
    member_id = _site_with_staff(app, browser)
    _certify(app, admin.id, _site_of(app, rep.id).id)
    token = _create_token(browser, member_id)
    with app.app_context():
        token_id = db.session.scalar(sa.select(ApiToken.id))

    _, other = representative(factory)
    register(other)
    page = text(other.get("/site/tokens"))
    assert "Dispensing robot" not in page and "Sam Dispenser" not in page
    stolen = _post_form(other, "/site/tokens", {"staff": str(member_id), "name": "Mine now"})
    assert stolen.status_code == 200 and "Not a valid choice" in text(stolen)
    revoke = _post_form(other, f"/site/tokens/{token_id}/revoke", {}, page="/site/tokens")
    assert revoke.status_code == 404
    assert _count(app, ApiToken) == 1
    assert client.get("/api/v1/me", headers=_bearer(token)).status_code == 200
