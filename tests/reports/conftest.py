"""Fixtures of the report tests: the hand-made world of `world.py`, and an auditor signed in.
A module that needs another world defines its own `world`, which takes precedence."""

from __future__ import annotations

import pytest

from rems.auth.models import Role
from tests.reports.world import build


@pytest.fixture
def world(app, factory, client, clock):
    return build(app, factory, client, clock)


@pytest.fixture
def auditor(factory):
    return factory.signed_in(factory.user(Role.AUDITOR))
