"""Deny by default: every route declares a policy, and every role gets exactly what it allows."""

from __future__ import annotations

import pytest
from flask import url_for

from rems.auth.models import Role
from rems.auth.permissions import policy_of
from tests.certification.helpers import certify, make_prescriber, make_site
from tests.factories import csrf_token

PUBLIC = "public"
ALL = frozenset(Role)
ADMIN = frozenset({Role.ADMIN})
READERS = frozenset({Role.ADMIN, Role.AUDITOR})
PRESCRIBER = frozenset({Role.PRESCRIBER})
REP = "site representative"

#: Every route and who may use it. A new route must be added here, or this suite fails.
EXPECTED: dict[str, object] = {
    "web.index": PUBLIC,
    "auth.sign_in": PUBLIC,
    "api.ping": PUBLIC,
    "api.health": PUBLIC,
    "api.openapi": PUBLIC,
    "fhir.metadata": PUBLIC,
    "metrics.metrics": PUBLIC,
    "web.dashboard": ALL,
    "auth.sign_out": ALL,
    "auth.account": ALL,
    "auth.change_password": ALL,
    "auth.api_tokens": ALL,
    "auth.revoke_api_token": ALL,
    "api.me": ALL,
    "admin.user_list": READERS,
    "admin.user_new": ADMIN,
    "admin.user_detail": READERS,
    "admin.user_set_active": ADMIN,
    "admin.reset_password": ADMIN,
    "admin.unlock": ADMIN,
    "audit.event_list": READERS,
    "audit.event_detail": READERS,
    "audit.event_export": READERS,
    "audit.chain_status": READERS,
    "audit.access_list": READERS,
    "audit.access_export": READERS,
    "certification.queue": READERS,
    "certification.submission": READERS,
    "certification.decide": ADMIN,
    "certification.prescriber_list": READERS,
    "certification.site_list": READERS,
    "certification.prescriber_detail": READERS,
    "certification.site_detail": READERS,
    "certification.change_status": ADMIN,
    "sites.overview": REP,
    "sites.register": REP,
    "sites.edit": REP,
    "sites.sign": REP,
    "sites.staff": REP,
    "sites.staff_set_active": REP,
    "sites.tokens": REP,
    "sites.revoke_token": REP,
    "registration.register": PUBLIC,
    "prescribers.enrollment": PRESCRIBER,
    "prescribers.enrollment_form": PRESCRIBER,
    "prescribers.assessment": PRESCRIBER,
    "prescribers.grade_assessment": PRESCRIBER,
    "prescribers.assessment_result": PRESCRIBER,
    "prescribers.sign": PRESCRIBER,
    "prescribers.delegates": PRESCRIBER,
    "prescribers.add_delegate": PRESCRIBER,
    "prescribers.end_delegate": PRESCRIBER,
    "documents.document_list": ALL,
    "documents.publish": ADMIN,
    "documents.version_detail": ALL,
    "documents.version_file": ALL,
    "patients.patient_list": frozenset({Role.ADMIN, Role.AUDITOR, Role.PRESCRIBER, Role.DELEGATE}),
    "patients.enroll": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "patients.duplicates": READERS,
    "patients.patient_detail": ALL,
    "patients.patient_signature": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "patients.sign": PRESCRIBER,
    "patients.acknowledge": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "patients.discontinue": frozenset({Role.PRESCRIBER, Role.ADMIN}),
    "patients.close": frozenset({Role.PRESCRIBER, Role.ADMIN}),
    "patients.transfer": frozenset({Role.PRESCRIBER, Role.ADMIN}),
    "api.patients.patient_lookup": ALL,
    "api.authorizations.authorization_request": frozenset({Role.SITE_STAFF}),
    "api.authorizations.authorization_read": ALL,
    "api.authorizations.authorization_reversal": frozenset({Role.SITE_STAFF}),
    "api.authorizations.infusion_record": frozenset({Role.SITE_STAFF}),
    "api.authorizations.not_infused_record": frozenset({Role.SITE_STAFF}),
    "fhir.rems_etasu": frozenset({Role.SITE_STAFF}),
    "fhir.questionnaire_search": ALL,
    "fhir.questionnaire_read": ALL,
    "fhir.questionnaire_package_of": ALL,
    "fhir.questionnaire_package": ALL,
    "fhir.questionnaire_submit": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "cds.discovery": PUBLIC,
    "cds.service": PUBLIC,
    "cds_admin.client_list": READERS,
    "cds_admin.client_new": ADMIN,
    "cds_admin.client_deactivate": ADMIN,
    "api.monitoring.results_batch": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.record_result": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.upload": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.confirm_upload": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.upload_template": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.amend": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.worklist_page": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "monitoring.waive": ADMIN,
    "followup.extend": PRESCRIBER,
    "followup.status": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "alerts.alert_list": frozenset({Role.PRESCRIBER, Role.DELEGATE, Role.ADMIN, Role.AUDITOR}),
    "alerts.alert_detail": frozenset({Role.PRESCRIBER, Role.DELEGATE, Role.ADMIN, Role.AUDITOR}),
    "alerts.acknowledge": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "courses.authorize": PRESCRIBER,
    "courses.close": PRESCRIBER,
    "course_drafts.prepare": frozenset({Role.DELEGATE}),
    "course_drafts.discard": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "authorizations.live_list": frozenset({Role.SITE_STAFF}),
    "authorizations.history": frozenset({Role.SITE_STAFF}),
    "authorizations.request_form": frozenset({Role.SITE_STAFF}),
    "authorizations.decision": frozenset({Role.SITE_STAFF, Role.ADMIN, Role.AUDITOR}),
    "authorizations.detail": ALL,
    "authorizations.reverse": frozenset({Role.SITE_STAFF}),
    "infusions.site_list": frozenset({Role.SITE_STAFF}),
    "infusions.record": frozenset({Role.SITE_STAFF}),
    "infusions.not_infused": frozenset({Role.SITE_STAFF}),
    "compliance.case_list": frozenset({Role.ADMIN, Role.AUDITOR, Role.SITE_STAFF, Role.PRESCRIBER}),
    "compliance.case_detail": frozenset(
        {Role.ADMIN, Role.AUDITOR, Role.SITE_STAFF, Role.PRESCRIBER}
    ),
    "compliance.submit_action": frozenset({Role.SITE_STAFF, Role.PRESCRIBER}),
    "compliance.review": ADMIN,
    "api.prescribers.prescriber_lookup": ALL,
    "api.sites.site_lookup": ALL,
    "notifications.own_list": ALL,
    "notifications.outbox": READERS,
    "notifications.outbox_message": READERS,
    "adverse_events.report": frozenset({Role.PRESCRIBER, Role.DELEGATE}),
    "adverse_events.report_reaction": frozenset({Role.SITE_STAFF}),
    "adverse_events.event_list": frozenset(
        {Role.ADMIN, Role.AUDITOR, Role.PRESCRIBER, Role.DELEGATE}
    ),
    "adverse_events.event_detail": frozenset(
        {Role.ADMIN, Role.AUDITOR, Role.PRESCRIBER, Role.DELEGATE}
    ),
    "adverse_events.review": ADMIN,
    "adverse_events.follow_up": frozenset({Role.ADMIN, Role.PRESCRIBER, Role.DELEGATE}),
    "adverse_events.submitted": ADMIN,
    "adverse_events.e2b_export": READERS,
    "prior_treatment.record": PRESCRIBER,
    "prior_treatment.import_upload": ADMIN,
    "prior_treatment.import_confirm": ADMIN,
    "prior_treatment.import_template": ADMIN,
    "reports.catalogue": READERS,
    "reports.view_report": READERS,
    "reports.export": READERS,
    "reports.export_metadata": READERS,
    "reports.assessment": READERS,
    "reports.assessment_print": READERS,
    "reports.assessment_pdf": READERS,
    "reports.assessment_narrative": frozenset({Role.AUDITOR}),
}
#: Values for URL parameters: ids that do not exist, so allowed roles see 404, not 403.
URL_VALUES = {
    "user_id": 999999,
    "token_id": 999999,
    "seq": 999999,
    "change": "deactivate",
    "submission_id": 999999,
    "prescriber_id": 999999,
    "site_id": 999999,
    "party": "prescribers",
    "party_id": 999999,
    "action": "suspend",
    "link_id": 999999,
    "npi": "1234567893",
    "code": "no_such_document",
    "version_id": 999999,
    "patient_id": "P00000000000",
    "number": "A00000000000",
    "decision_id": "D00000000000",
    "infusion_id": 999999,
    "event_id": 999999,
    "alert_id": 999999,
    "case_id": 999999,
    "result_id": 999999,
    "message_id": 999999,
    "name": "no-such-report",
    "form_id": "no-such-form",
    "service_id": "no-such-service",
    "client_id": 999999,
}
#: Where one endpoint's parameter of the same name has another type.
URL_OVERRIDES = {"api.sites.site_lookup": {"site_id": "S00000000000"}}
#: (role, is the site's authorized representative)
PERSONAS = [(role, False) for role in Role] + [(Role.SITE_STAFF, True)]
#: Endpoints that authenticate with bearer tokens (the JSON API and the FHIR endpoints).
TOKEN_ENDPOINTS = ("api.", "fhir.")


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_a_policy_and_is_in_this_matrix(app):
    for rule, _ in _routes(app):
        policy = policy_of(app.view_functions[rule.endpoint])
        assert policy is not None, f"{rule.endpoint} ({rule.rule}) declares no policy"
        assert rule.endpoint in EXPECTED, f"add {rule.endpoint} to the permission matrix"
        assert set(rule.arguments) <= set(URL_VALUES), f"add values for {rule.rule}"


def test_declared_policies_match_the_matrix(app):
    for rule, _ in _routes(app):
        policy = policy_of(app.view_functions[rule.endpoint])
        expected = EXPECTED[rule.endpoint]
        if expected == PUBLIC:
            assert policy.public, rule.endpoint
        elif expected == REP:
            assert policy.representative_only and policy.roles == {Role.SITE_STAFF}, rule.endpoint
        else:
            assert not policy.public and policy.roles == expected, rule.endpoint


def test_a_route_without_policy_is_refused(app, client):
    @app.get("/undeclared")
    def undeclared():
        return "should never be served"

    assert client.get("/undeclared").status_code == 403


def _url(app, rule) -> str:
    with app.test_request_context():
        values = {name: URL_VALUES[name] for name in rule.arguments}
        return url_for(rule.endpoint, **(values | URL_OVERRIDES.get(rule.endpoint, {})))


@pytest.mark.parametrize(("role", "representative"), PERSONAS)
def test_role_route_matrix(app, factory, role, representative):
    user = _persona(app, factory, role, representative)
    token = factory.token(user)
    checked = 0
    for rule, method in _routes(app):
        allowed = _allowed(EXPECTED[rule.endpoint], role, representative)
        status = _request_as(app, factory, user, token, rule, method)
        if allowed:
            assert status != 403, f"{role} should reach {method} {rule.rule}"
        else:
            assert status == 403, f"{role} must be refused {method} {rule.rule}, got {status}"
        checked += 1
    assert checked >= len(EXPECTED)


def _persona(app, factory, role: Role, representative: bool):
    """A user of the role whose party is certified, so that only the role decides access."""
    admin = factory.user(Role.ADMIN)
    if role == Role.PRESCRIBER:
        party = make_prescriber(app, factory)
        certify(app, party, admin)
        return party.user
    if role == Role.SITE_STAFF:
        party = make_site(app, factory)
        certify(app, party, admin)
        return party.user if representative else factory.user(role, site_id=party.id)
    return factory.user(role, representative=representative)


def _allowed(expected, role: Role, representative: bool) -> bool:
    """What the matrix says for this persona."""
    if expected == PUBLIC:
        return True
    if expected == REP:
        return role == Role.SITE_STAFF and representative
    return role in expected


def _request_as(app, factory, user, token, rule, method) -> int:
    url = _url(app, rule)
    if rule.endpoint.startswith(TOKEN_ENDPOINTS):
        client = app.test_client()
        call = getattr(client, method.lower())
        return call(url, headers={"Authorization": f"Bearer {token}"}, json={}).status_code
    client = factory.signed_in(user)
    if method == "GET":
        return client.get(url).status_code
    form = {"csrf_token": csrf_token(client, "/account"), "reason": "matrix check"}
    return client.post(url, data=form).status_code


def test_anonymous_visitors_are_sent_to_sign_in_or_get_401(app):
    client = app.test_client()
    for rule, method in _routes(app):
        if EXPECTED[rule.endpoint] == PUBLIC or method != "GET":
            continue
        response = client.get(_url(app, rule))
        if rule.endpoint.startswith(TOKEN_ENDPOINTS):
            assert response.status_code == 401, rule.rule
        else:
            assert response.status_code == 302, rule.rule
            assert response.headers["Location"].startswith("/sign-in?next="), rule.rule
