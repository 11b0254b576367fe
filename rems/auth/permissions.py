"""Route policies: every route declares who may use it; a route without one is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g
from flask_login import current_user

from rems.auth.models import Role, User

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Policy:
    """Who may use a route: nobody signed in (public), any role, or the listed roles."""

    roles: frozenset[Role]
    public: bool = False
    representative_only: bool = False

    def allows(self, user: User | None) -> bool:
        """Whether `user` (None when nobody is signed in) may use the route."""
        if self.public:
            return True
        if user is None or user.role not in self.roles:
            return False
        return not self.representative_only or user.is_site_representative


def _declare(policy: Policy) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Attach `policy` to a view function."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        view.rems_policy = policy  # type: ignore[attr-defined]
        return view

    return decorate


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """Open to everyone, signed in or not (sign-in page, ping, health)."""
    return _declare(Policy(roles=ALL_ROLES, public=True))(view)


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Any signed-in user, whatever the role."""
    return _declare(Policy(roles=ALL_ROLES))(view)


def roles(*allowed: Role) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only users with one of these roles."""
    return _declare(Policy(roles=frozenset(allowed)))


def site_representative(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only a site's authorized representative."""
    return _declare(Policy(roles=frozenset({Role.SITE_STAFF}), representative_only=True))(view)


def policy_of(view: Callable[..., Any]) -> Policy | None:
    """The declared policy of a view function, or None."""
    return getattr(view, "rems_policy", None)


def current_actor() -> User | None:
    """The user acting in this request: the API token's owner (loaded on first use), or the
    signed-in web user."""
    api_user = g.get("api_user")
    if api_user is not None:
        return api_user
    identity = g.get("api_identity")
    if identity is not None:
        from rems.extensions import db

        g.api_user = db.session.get(User, identity.user_id)
        return g.api_user
    if current_user and current_user.is_authenticated:
        return current_user._get_current_object()  # the User row, not the proxy
    return None


def current_identity():
    """The API token's identity (TokenIdentity): the hot paths read it instead of the ORM user."""
    return g.get("api_identity")
