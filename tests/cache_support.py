"""Fixtures and helpers for the indexer, cache, API and audit tests: a throwaway PostgreSQL database per
session (on the server at 127.0.0.1:5432), a fresh SQLite file per test, a small governance history,
and a way to compare two caches row by row."""

import json
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from web3 import Web3

from api.db import make_engine, migrate
from api.indexing import build_indexer
from governance import actions as act
from governance.client import Commons
from governance.decision_log import canonical_json, entry_hash
from governance.indexer import Indexer
from governance.manifest import Manifest
from tests.helpers import pass_proposal, propose, test_key_signer, to_voting, vote

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Rows that legitimately differ between two correct caches: batch boundaries and the head seen.
VOLATILE = {"sync_cursor": {"head_block", "treasury_wei"}, "vote": {"id"}}
COMPARED_TABLES = ["decision_entry", "member", "steward", "setting", "proposal", "vote", "sync_cursor", "treasury_asset"]
# Emptied with them between tests (flows differ in ids and in where unattributed ether is counted, by batch; named
# tokens in the block they were read at).
TREASURY_TABLES = ["treasury_flow", "named_token"]


@pytest.fixture(scope="session")
def pg_database():
    """A PostgreSQL database of our own for this test session, dropped afterwards."""
    name = f"commons_test_{uuid.uuid4().hex[:12]}"
    server = sa.create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"
    migrate(make_engine(url))
    yield url
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def _empty_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text("TRUNCATE " + ", ".join(COMPARED_TABLES + TREASURY_TABLES + ["indexed_block"]) + " RESTART IDENTITY")
        )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def cache_url(request, tmp_path):
    """An empty, migrated cache: a SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cache.db'}"
        migrate(make_engine(url))
        return url
    url = request.getfixturevalue("pg_database")
    _empty_postgres(url)
    return url


def fresh_sqlite(tmp_path, name: str = "clean.db") -> str:
    url = f"sqlite:///{tmp_path / name}"
    migrate(make_engine(url))
    return url


def indexer_for(manifest: Manifest, rpc_url: str, database_url: str, confirmations: int = 0) -> Indexer:
    return build_indexer(manifest, rpc_url, make_engine(database_url), confirmations, upgrade=False)


def cache_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every compared table's rows (volatile columns left out), sorted: equal dicts mean equal caches."""
    tables = {}
    metadata = sa.MetaData()
    metadata.reflect(engine)
    with engine.connect() as conn:
        for name in COMPARED_TABLES:
            table = metadata.tables[name]
            columns = [c for c in table.columns if c.name not in VOLATILE.get(name, set())]
            rows = conn.execute(sa.select(*columns)).all()
            tables[name] = sorted(tuple(str(v) for v in row) for row in rows)
    return tables


def clean_index(manifest: Manifest, rpc_url: str, tmp_path, name: str = "clean.db") -> dict:
    """The rows of a cache built from scratch in one sync: what any correct cache must equal."""
    url = fresh_sqlite(tmp_path, name)
    indexer_for(manifest, rpc_url, url).sync()
    return cache_rows(make_engine(url))


def make_history(commons: Commons, stewards: list, members: list) -> dict:
    """A small but complete history: an admission passed and executed, a payment defeated, one still open,
    a steward appointed, a member resigning, a delegation. Returns the proposal ids by name."""
    newcomer = test_key_signer("newcomer")
    w3: Web3 = commons.w3
    w3.provider.make_request("anvil_setBalance", [newcomer.address, hex(10**20)])
    ids = {
        "admit": pass_proposal(
            commons, stewards[0], members[:4], [act.admit(commons.addresses, newcomer.address, "newcomer")], "Admit the newcomer"
        )
    }
    ids["appoint"] = pass_proposal(
        commons, stewards[1], members[:4], [act.appoint_steward(commons.addresses, members[2].address)], "Appoint a third steward"
    )
    ids["pay"] = propose(commons, stewards[0], [act.pay(newcomer.address, 10**18)], "Pay the newcomer", "Für die Gießkannen.")
    to_voting(commons, ids["pay"])
    vote(commons, members[0], ids["pay"], "against", "too early")
    vote(commons, members[1], ids["pay"], "abstain", "")
    commons.submit(commons.plan_delegate(members[4].address), members[3])
    commons.submit(commons.plan_resign(), members[5])
    return ids


def forge_entry(database_url: str, kind: str, change: dict, newest: bool = True) -> None:
    """Change the data of the newest (else the oldest) `kind` entry of the cache at `database_url` and recompute its
    hash, as a forger who knows how entries are hashed would: only the chain can tell."""
    order = "DESC" if newest else "ASC"
    with make_engine(database_url).begin() as conn:
        query = f"SELECT * FROM decision_entry WHERE kind = :kind ORDER BY seq {order} LIMIT 1"
        row = conn.execute(sa.text(query), {"kind": kind}).mappings().one()
        data = json.loads(row["data"]) | change
        body = {k: v for k, v in row.items() if k != "hash"} | {"data": data}
        conn.execute(
            sa.text("UPDATE decision_entry SET data = :data, hash = :hash WHERE seq = :seq"),
            {"data": canonical_json(data), "hash": entry_hash(body), "seq": row["seq"]},
        )
