"""CDS Hooks: discovery, and cards built from the gate's facts for an EHR's order or chart
view; a drug not ours gets no cards; a patient without our REMS ID is only a possible match."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from rems.audit.access import RecordAccess
from rems.authorizations.models import AuthorizationDecision
from rems.extensions import db
from rems.patients.models import Patient
from rems.program.model import add_months
from tests.authorizations.helpers import gate
from tests.interop.cds_helpers import BASE, KeyPair, call, conforms, hook_body, register
from tests.monitoring.helpers import days, give_course, move_to
from tests.patients.helpers import publish_guides


def _world(app, factory, **options):
    world = gate(app, factory)
    keys = KeyPair()
    register(app, world.admin, keys, **options)
    return world, keys


def _cards(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    conforms(body, "response")
    assert all(card["indicator"] in ("info", "warning") for card in body["cards"])
    return body["cards"]


def test_discovery_lists_the_three_hooks_with_the_prototype_prefetch_keys(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    body = response.get_json()
    conforms(body, "discovery")
    by_hook = {service["hook"]: service for service in body["services"]}
    assert set(by_hook) == {"order-sign", "order-select", "patient-view"}
    assert by_hook["order-sign"]["prefetch"] == {
        "patient": "Patient/{{context.patientId}}", "practitioner": "{{context.userId}}"
    }  # fmt: skip
    assert "medicationRequests" in by_hook["patient-view"]["prefetch"]


def test_a_ready_patient_gets_no_card_and_the_read_is_logged(app, client, factory, clock):
    world, keys = _world(app, factory)
    for hook in ("order-sign", "order-select", "patient-view"):
        service = f"lemtrada-rems-{hook}"
        token = keys.sign(clock, aud=f"{BASE}/{service}")
        assert _cards(call(client, token, hook_body(world, hook=hook), service)) == []
    with app.app_context():
        reads = db.session.scalars(sa.select(RecordAccess.actor_label)).all()
        assert reads.count("cds:Test EHR") == 3
        assert db.session.scalar(sa.select(sa.func.count(AuthorizationDecision.id))) == 0


def test_a_new_medication_guide_not_acknowledged_is_a_warning_linking_the_patient(
    app, client, factory, clock
):
    world, keys = _world(app, factory)
    publish_guides(app, world.admin, label="2026-11", effective_on=date(2026, 11, 24),
                   codes=("medication_guide",))  # fmt: skip
    (card,) = _cards(call(client, keys.sign(clock), hook_body(world)))
    assert card["indicator"] == "warning"
    assert "Medication Guide" in card["summary"] and "medication guide" in card["detail"]
    assert card["links"][0]["url"].endswith(f"/patients/{world.patient.rems_id}")


def test_an_unknown_prescriber_and_an_uncertified_client_site_are_named(
    app, client, factory, clock
):
    world = gate(app, factory)
    keys = KeyPair()
    with app.app_context():
        from rems.sites.models import Site

        db.session.execute(sa.update(Site).where(Site.site_code == world.site_code)
                           .values(status="suspended"))  # fmt: skip
        db.session.commit()
    register(app, world.admin, keys, site_code=world.site_code)
    body = hook_body(world)
    body["prefetch"]["practitioner"]["identifier"][0]["value"] = "1234567893"
    cards = _cards(call(client, keys.sign(clock), body))
    summaries = " | ".join(card["summary"] for card in cards)
    assert "Infusion site not certified" in summaries
    assert "Prescriber not certified" in summaries


def test_a_drug_that_is_not_ours_gets_no_cards(app, client, factory, clock):
    world, keys = _world(app, factory)
    body = hook_body(world, code="857001")
    assert _cards(call(client, keys.sign(clock), body)) == []


def test_without_our_id_name_and_birth_date_give_only_a_possible_match(app, client, factory, clock):
    world, keys = _world(app, factory)
    publish_guides(app, world.admin, label="2026-11", effective_on=date(2026, 11, 24),
                   codes=("medication_guide",))  # fmt: skip
    with app.app_context():
        patient = db.session.get(Patient, world.patient.id)
        name = (patient.first_name, patient.last_name.upper())
    (card,) = _cards(call(client, keys.sign(clock), hook_body(world, with_id=False, name=name)))
    assert card["indicator"] == "info" and "Possible" in card["summary"]
    assert "Guide" not in card["detail"] and world.patient.rems_id not in str(card)
    (other,) = _cards(call(client, keys.sign(clock),
                           hook_body(world, with_id=False, name=("Nobody", "Else"))))  # fmt: skip
    assert "requires REMS enrollment" in other["summary"]
    assert other["links"][0]["url"].endswith("/patients/new")


def test_overdue_monitoring_is_a_warning_card_naming_the_tests(app, client, factory, clock):
    world, keys = _world(app, factory)
    given = give_course(app, world, clock, doses=2)
    move_to(clock, add_months(given[0], 1) + days(8))  # the day after due date + grace
    cards = _cards(call(client, keys.sign(clock), hook_body(world)))
    (overdue,) = [card for card in cards if "monitoring overdue" in card["summary"]]
    assert overdue["indicator"] == "warning" and "CBC" in overdue["detail"].upper()
    assert overdue["links"][0]["url"].endswith(f"/patients/{world.patient.rems_id}")
