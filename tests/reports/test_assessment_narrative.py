"""The auditor's narrative of an assessment: saved as a draft, signed with the password (then
locked), a new version started from a signed one; every step audited; only auditors write,
administrators read, everyone else is refused."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from rems.audit.models import AuditEvent
from rems.auth.models import Role, Signature
from rems.auth.signatures import content_digest
from rems.extensions import db
from rems.notifications.models import Notification
from rems.reports.narrative_models import AssessmentNarrative
from tests.factories import csrf_token
from tests.reports.test_assessment import text_of

PERIOD = {"from": "2026-10-01", "to": "2026-10-31"}
PAGE = "/reports/assessment?from=2026-10-01&to=2026-10-31"
POST = "/reports/assessment/narrative?from=2026-10-01&to=2026-10-31"
TEXT = "Certification held steady; <b>no</b> dose was given without an authorization."


@pytest.fixture
def auditor(factory):
    user = factory.user(Role.AUDITOR)
    return user, factory.signed_in(user)


def _post(client, action, **fields):
    token = csrf_token(client, PAGE)
    return client.post(POST, data={"csrf_token": token, "action": action, **fields})


def _versions(app):
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AssessmentNarrative).order_by(AssessmentNarrative.version)
        ).all()
        return [(r.version, r.state, r.text, r.signature_id) for r in rows]


def _actions(app):
    with app.app_context():
        return db.session.scalars(
            sa.select(AuditEvent.action)
            .where(AuditEvent.action.like("assessment.%") | (AuditEvent.action.like("signature.%")))
            .order_by(AuditEvent.id)
        ).all()  # fmt: skip


def test_the_auditor_saves_signs_and_the_signed_version_is_locked(app, auditor):
    user, client = auditor
    assert _post(client, "save", narrative="  ").status_code == 422
    assert _versions(app) == []
    saved = _post(client, "save", narrative=TEXT)
    assert saved.status_code == 303 and saved.location.endswith("#a-narrative")
    page = client.get(PAGE).get_data(as_text=True)
    assert "Version 1: draft, not signed" in text_of(page)
    assert "&lt;b&gt;no&lt;/b&gt;" in page  # escaped, never markup

    wrong = _post(client, "sign", narrative=TEXT, password="not-my-password")
    assert wrong.status_code == 422 and "password is not correct" in wrong.get_data(as_text=True)
    assert _versions(app)[0][1] == "draft"

    assert _post(client, "sign", narrative=TEXT, password=user.password).status_code == 303
    [(version, state, text, signature_id)] = _versions(app)
    assert (version, state, text) == (1, "signed", TEXT)
    with app.app_context():
        signature = db.session.get(Signature, signature_id)
        content = {"from": "2026-10-01", "to": "2026-10-31", "version": 1, "text": TEXT}
        assert signature.content_sha256 == content_digest(content)[1]
        assert signature.signer_id == user.id
    page = text_of(client.get(PAGE).get_data(as_text=True))
    assert re.search(r"Version 1: signed by .+ on .+, as Author of the REMS assessment narrative; "
                     r"locked\.", page)  # fmt: skip
    assert "Save draft" not in page and "Start a new version" in page

    locked = _post(client, "save", narrative="Rewritten after signing.")
    assert locked.status_code == 409 and "signed and locked" in locked.get_data(as_text=True)
    assert _versions(app)[0][2] == TEXT
    assert _actions(app) == [
        "assessment.narrative_saved", "signature.failed", "signature.applied",
        "assessment.narrative_signed",
    ]  # fmt: skip


def test_administrators_hear_that_the_narrative_is_signed(app, factory, auditor):
    user, client = auditor
    admin = factory.user(Role.ADMIN)
    _post(client, "save", narrative=TEXT)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0
    _post(client, "sign", password=user.password)
    with app.app_context():
        [message] = db.session.scalars(sa.select(Notification)).all()
        assert message.recipient_id == admin.id and message.kind == "assessment.narrative_signed"
        assert message.subject == "REMS assessment narrative signed: 2026-10-01 to 2026-10-31 " \
            "(version 1)"  # fmt: skip


def test_a_new_version_starts_from_the_signed_one_which_stays(app, auditor):
    user, client = auditor
    _post(client, "save", narrative=TEXT)
    _post(client, "sign", password=user.password)
    assert _post(client, "new_version").status_code == 303
    assert _post(client, "save", narrative=TEXT + " Amended.").status_code == 303
    versions = _versions(app)
    assert [(v, s, t) for v, s, t, _ in versions] == [
        (1, "signed", TEXT), (2, "draft", TEXT + " Amended.")
    ]  # fmt: skip
    page = text_of(client.get(PAGE).get_data(as_text=True))
    assert "Version 2: draft, not signed" in page and "Earlier versions: version 1 (Signed" in page
    # another period has its own narrative
    other = text_of(client.get("/reports/assessment?from=2026-09-01&to=2026-09-30").get_data(
        as_text=True))  # fmt: skip
    assert "No narrative has been written for this period yet." in other
    with app.app_context():
        started = db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "assessment.narrative_version_started"))  # fmt: skip
        assert started.new_values["from_version"] == 1 and started.new_values["version"] == 2


def test_the_pdf_carries_the_signed_narrative(app, auditor):
    user, client = auditor
    _post(client, "save", narrative="Plain words for the FDA.")
    _post(client, "sign", password=user.password)
    pdf = client.get("/reports/assessment.pdf", query_string=PERIOD)
    reader = PdfReader(io.BytesIO(pdf.get_data()))
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))
    assert "Plain words for the FDA." in text and "Version 1: signed by" in text


def test_administrators_read_others_are_refused_and_a_forged_post_stores_nothing(
    app, factory, auditor
):
    _, client = auditor
    _post(client, "save", narrative=TEXT)
    admin = factory.signed_in(factory.user(Role.ADMIN))
    page = admin.get(PAGE)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Version 1: draft" in text_of(html) and 'name="action"' not in html
    token = csrf_token(admin, PAGE)
    refused = admin.post(POST, data={"csrf_token": token, "action": "save", "narrative": "x"})
    assert refused.status_code == 403
    for role in (Role.PRESCRIBER, Role.SITE_STAFF):
        other = factory.signed_in(factory.user(role))
        assert other.get(PAGE).status_code == 403
        assert other.post(POST, data={"action": "save", "narrative": "x"}).status_code in (400, 403)
    forged = client.post(POST, data={"action": "save", "narrative": "forged"})
    assert forged.status_code == 400
    assert [t for _, _, t, _ in _versions(app)] == [TEXT]
