"""The cache's schema comes from Alembic migrations, and they match the SQLModel tables."""

import uuid

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import api.cache.tables  # noqa: F401
import api.hooks.tables  # noqa: F401  (the webhooks' tables)
import api.relay_store  # noqa: F401  (the vote relay's tables, migrated with the rest)
import api.reminders.tables  # noqa: F401  (the email reminders' tables)
from api.db import alembic_config, make_engine, migrate
from tests.cache_support import PG_SERVER, fresh_sqlite


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


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database with no tables yet: a SQLite file, or a PostgreSQL database of this test's own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"commons_migration_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


LOG_ROW = {
    "seq": 1,
    "block_number": 7,
    "block_hash": "0x" + "ab" * 32,
    "tx_hash": "0x" + "cd" * 32,
    "log_index": 0,
    "timestamp": 1_700_000_000,
    "contract": "governor",
    "kind": "VoteCast",
    "subject": "1",
    "data": "{}",
    "prev_hash": "0x" + "00" * 32,
    "hash": "0x" + "ef" * 32,
}
VOTE_ROW = {
    "proposal_id": "1",
    "voter": "0x" + "11" * 20,
    "support": 1,
    "weight": 1,
    "reason": "",
    "params": "0x",
    "block_number": 7,
    "tx_hash": "0x" + "cd" * 32,
    "log_index": 0,
    "timestamp": 1_700_000_000,
}


def test_a_cache_from_the_first_schema_upgrades_with_its_rows_and_is_keyed_by_chain_position(empty_database):
    engine = make_engine(empty_database)
    command.upgrade(alembic_config(engine), "0001")
    log, votes = sa.table("decision_entry", *map(sa.column, LOG_ROW)), sa.table("vote", *map(sa.column, VOTE_ROW))
    with engine.begin() as conn:
        conn.execute(log.insert().values(LOG_ROW))
        conn.execute(votes.insert().values(VOTE_ROW))

    migrate(engine)

    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT hash FROM decision_entry")).scalars().all() == [LOG_ROW["hash"]]
        assert conn.execute(sa.text("SELECT voter FROM vote")).scalars().all() == [VOTE_ROW["voter"]]
        assert compare_metadata(MigrationContext.configure(conn), SQLModel.metadata) == []
    # Another log at the same place in the chain (another fork's block, say) is refused, even with other hashes.
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(log.insert().values({**LOG_ROW, "seq": 2, "block_hash": "0x" + "99" * 32, "tx_hash": "0x" + "98" * 32}))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(votes.insert().values({**VOTE_ROW, "tx_hash": "0x" + "98" * 32}))
    engine.dispose()
