"""Migrations build an empty database, tear it down, and match the models exactly."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from rems.extensions import db


def _tables(engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


def test_upgrade_builds_every_table_and_downgrade_empties_it(app):
    with app.app_context():
        assert _tables(db.engine) == set(db.metadata.tables)
        downgrade(revision="base")
        assert _tables(db.engine) == set()
        upgrade()
        assert _tables(db.engine) == set(db.metadata.tables)


def test_models_and_migrations_do_not_drift(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_one_migration_head(app):
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        assert len(ScriptDirectory.from_config(config).get_heads()) == 1
