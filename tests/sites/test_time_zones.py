"""A healthcare setting and a prescriber practice may name their time zone on the enrollment
form (a select of IANA names, the program's zone by default); an unknown name is refused on its
field and nothing is stored."""

from __future__ import annotations

from tests.prescribers.helpers import FORM_PATH, half_form, post_page, prescriber_of, register
from tests.sites.helpers import representative, site_form, text
from tests.sites.test_pages import _count, _post_form, _site_of

UNKNOWN = "is not a time zone name: choose one from the list"


def test_a_site_names_its_time_zone_or_takes_the_program_s(app, factory):
    from rems.sites.models import Site

    rep, browser = representative(factory)
    form = text(browser.get("/site/register"))
    assert '<option value="">The program\'s time zone (America/New_York)</option>' in form
    assert '<option value="America/Chicago">America/Chicago</option>' in form

    bad = _post_form(browser, "/site/register", site_form(time_zone="America/Springfield"))
    assert "'America/Springfield' " + UNKNOWN in text(bad)
    assert _count(app, Site) == 0

    done = _post_form(browser, "/site/register", site_form(time_zone="America/Chicago"))
    assert done.status_code == 302
    assert _site_of(app, rep.id).time_zone == "America/Chicago"
    assert "America/Chicago" in text(browser.get("/site"))


def test_a_site_that_names_no_zone_shows_the_program_s(app, factory):
    rep, browser = representative(factory)
    assert _post_form(browser, "/site/register", site_form(time_zone="")).status_code == 302
    assert _site_of(app, rep.id).time_zone is None
    assert "The program's (America/New_York)" in text(browser.get("/site"))


def test_a_prescriber_practice_names_its_time_zone(app, client):
    assert register(client).status_code == 302
    names = {"first_name": "Ada", "last_name": "Neurologist"}
    refused = post_page(client, FORM_PATH, half_form(**names, time_zone="Eastern"))
    assert "'Eastern' " + UNKNOWN in refused.get_data(as_text=True).replace("&#39;", "'")
    assert prescriber_of(app, "dr.ada") is None or prescriber_of(app, "dr.ada").time_zone is None
    saved = post_page(client, FORM_PATH, half_form(**names, time_zone="America/Denver"))
    assert saved.status_code == 302
    assert prescriber_of(app, "dr.ada").time_zone == "America/Denver"
    assert '<option selected value="America/Denver">' in client.get(FORM_PATH).get_data(
        as_text=True
    )
