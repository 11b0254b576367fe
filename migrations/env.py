"""Alembic environment for Flask-Migrate: the app's engine and metadata (Flask-SQLAlchemy 3)."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config
if config.config_file_name and not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db


def get_engine():
    """The app's engine."""
    return target_db.engine


config.set_main_option(
    "sqlalchemy.url", get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
)


def get_metadata():
    """Every table of the app."""
    return target_db.metadata


def run_migrations_offline():
    """Emit SQL without a database connection (`flask db upgrade --sql`)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=get_metadata(),
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations on the app's database."""

    def process_revision_directives(context, revision, directives):
        # An autogenerate that finds no change writes no empty migration.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)

    with get_engine().connect() as connection:
        # SQLite cannot ALTER most things in place: migrations use batch mode there.
        conf_args.setdefault("render_as_batch", connection.dialect.name == "sqlite")
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # A migration may rewrite a large table: the app's statement timeout is not for it.
                connection.exec_driver_sql("SET statement_timeout = 0")
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
