"""The README's demo tour, followed step by step on a fresh demo database: every account it
names signs in, and each finds what the README says it will see on the first load."""

from __future__ import annotations

import re
from pathlib import Path

from rems.demo.accounts import DEMO_PASSWORD
from tests.factories import sign_in

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _tour_accounts() -> list[str]:
    """The usernames the tour's table ("Sign in as | To see") names, in either column."""
    table = README.split("| Sign in as | To see |", 1)[1].split("\n\n", 1)[0]
    return sorted(set(re.findall(r"`([a-z]+(?:\.[a-z]+)?)`", table)))


def _as(app, username: str):
    client = app.test_client()
    response = sign_in(client, username, DEMO_PASSWORD)
    assert response.status_code == 302, f"{username} could not sign in"
    assert response.headers["Location"].endswith("/dashboard")
    return client


def _text(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_the_readme_says_how_to_choose_another_port():
    assert "flask --app wsgi run --port 8000" in README


def test_the_demo_summary_never_contradicts_itself(runner):
    output = runner.invoke(args=["rems", "demo"]).output
    lines = [line for line in output.splitlines() if "Emma Wilson" in line]
    assert len(lines) == 2 and all(": enrolled" in line for line in lines)
    assert not any("transferred" in line for line in lines)
    assert "(Elena Ramirez, MD): enrolled" in lines[0]  # the transfer's new prescriber
    assert "care moved to dr.ramirez" in lines[1]


def test_the_tour_on_a_fresh_demo_database(app, runner):
    output = runner.invoke(args=["rems", "demo"]).output
    assert "Daily jobs run once" in output
    clients = {username: _as(app, username) for username in _tour_accounts()}
    assert {"admin", "auditor", "dr.ramirez", "nurse.lee", "pharmacy.tech"} <= set(clients)

    queue = _text(clients["admin"], "/admin/certification/queue")
    assert "Lakeside Infusion Clinic" in queue and "Okafor" in queue
    assert "Audit trail" in _text(clients["auditor"], "/dashboard")
    assert "renew" in _text(clients["dr.nguyen"], "/dashboard").lower()

    worklist = _text(clients["nurse.lee"], "/worklist")
    assert "Liam Ortiz" in worklist and "Noah Price" in worklist
    patients = _text(clients["dr.ramirez"], "/patients")
    for name in ("Olivia Reed", "Sofia Marsh", "Ethan Cole", "Ava Brooks", "Henry Walsh"):
        assert name in patients
    assert "Immune thrombocytopenia" in _text(clients["admin"], "/dashboard")
    assert "GUIDE_NOT_ACKNOWLEDGED" in _text(clients["pharmacy.tech"], "/authorizations/decisions")


def test_the_outbox_holds_the_digest_on_the_first_load(app, runner):
    runner.invoke(args=["rems", "demo"])
    admin = _as(app, "admin")
    outbox = _text(admin, "/admin/outbox")
    digest = next(row for row in outbox.split("<tr>") if "Monitoring:" in row)
    assert "(dr.ramirez)" in digest
    opened = _text(admin, re.search(r'href="(/admin/outbox/\d+)"', digest).group(1))
    assert "dr.ramirez@" in opened and "Delivery attempts" in opened
    assert "(dr.nguyen)" in next(row for row in outbox.split("<tr>") if "Certification of" in row)
    assert "Monitoring:" in _text(_as(app, "dr.ramirez"), "/dashboard")
