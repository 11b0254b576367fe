"""Test factories: users, tokens and signed-in clients, each built in its own transaction."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient

from rems.auth import tokens, users
from rems.auth.models import Role
from rems.common.transactions import writing
from rems.extensions import db

PASSWORD = "correct horse battery staple"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
_numbers = itertools.count(1)


@dataclass(frozen=True)
class UserRef:
    """What a test needs to know about a user it made."""

    id: int
    username: str
    role: Role
    password: str = PASSWORD


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on `path`, as a browser would read it."""
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1)


class Factory:
    """Builds domain objects through the real services."""

    def __init__(self, app: Flask):
        self.app = app

    def user(
        self,
        role: Role | str = Role.ADMIN,
        *,
        username: str | None = None,
        password: str = PASSWORD,
        representative: bool = False,
        site_id: int | None = None,
    ) -> UserRef:
        """A new active account."""
        role = Role(role)
        username = username or f"{role.value.replace('_', '-')}{next(_numbers)}"
        with self.app.app_context(), writing():
            user = users.create_user(
                db.session, actor=None, actor_label="test", username=username,
                email=f"{username}@example.org", full_name=f"Test {username.title()}",
                role=role, password=password, is_authorized_representative=representative,
                site_id=site_id,
            )  # fmt: skip
            db.session.commit()
            return UserRef(user.id, user.username, role, password)

    def token(self, user: UserRef, name: str = "Test system") -> str:
        """A live API token for `user`, in plain text."""
        with self.app.app_context(), writing():
            owner = users.find_user(db.session, user.username)
            _, plaintext = tokens.issue_token(db.session, owner=owner, name=name, actor=owner)
            db.session.commit()
            return plaintext

    def signed_in(self, user: UserRef, client: FlaskClient | None = None) -> FlaskClient:
        """A client whose session belongs to `user`."""
        client = client or self.app.test_client()
        response = sign_in(client, user.username, user.password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client


def sign_in(client: FlaskClient, username: str, password: str, next_path: str | None = None):
    """Post the sign-in form as a browser would."""
    token = csrf_token(client, "/sign-in")
    path = f"/sign-in?next={next_path}" if next_path else "/sign-in"
    return client.post(path, data={"username": username, "password": password, "csrf_token": token})
