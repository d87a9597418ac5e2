"""Alembic environment: runs on the engine api/db.py hands over, else on the configured cache URL."""

from alembic import context
from sqlmodel import SQLModel

import api.cache.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
import api.hooks.tables  # noqa: F401  (the webhooks' tables)
import api.relay_store  # noqa: F401  (the vote relay's tables)
import api.reminders.tables  # noqa: F401  (the email reminders' tables)
from api.db import make_engine

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine") or make_engine()
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
