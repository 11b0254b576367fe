"""Page helpers shared by the patient page tests: posting forms, counting rows."""

from __future__ import annotations

import sqlalchemy as sa

from rems.extensions import db
from tests.factories import csrf_token
from tests.patients.helpers import attestation_ids


def post_form(browser, path: str, values: dict, form_page: str | None = None):
    """Post a form with the CSRF token of `form_page` (the page that shows it)."""
    token = csrf_token(browser, form_page or path)
    return browser.post(path, data={"csrf_token": token, **values})


def count_rows(app, model, *conditions) -> int:
    """How many rows of `model` match."""
    with app.app_context():
        statement = sa.select(sa.func.count()).select_from(model).where(*conditions)
        return db.session.scalar(statement)


def signature_values(app, name: str, leave_out: str | None = None, method="in_person"):
    """The patient signature form: every attestation ticked but `leave_out`."""
    boxes = {f"attest_{aid}": "y" for aid in attestation_ids(app) if aid != leave_out}
    return boxes | {"typed_name": name, "method": method}
