"""The cache's schema comes from Alembic migrations, and they match the SQLModel tables."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import api.models  # noqa: F401
from api.db import make_engine, migrate
from tests.cache_support import fresh_sqlite


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)


def test_migrations_build_the_models_schema_on_sqlite(tmp_path):
    assert schema_differences(fresh_sqlite(tmp_path)) == []


def test_migrations_build_the_models_schema_on_postgresql(pg_database):
    assert schema_differences(pg_database) == []


def test_migrating_twice_changes_nothing(tmp_path):
    url = fresh_sqlite(tmp_path)
    migrate(make_engine(url))
    assert "alembic_version" in sa.inspect(make_engine(url)).get_table_names()
