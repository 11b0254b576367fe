"""Fixtures of the patient tests."""

from __future__ import annotations

import pytest

from rems.auth.models import Role


@pytest.fixture
def admin(factory):
    """A program administrator."""
    return factory.user(Role.ADMIN)
