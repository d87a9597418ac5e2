"""The API's background indexer never stops following the chain for good: a database connection killed, a database
locked past its busy timeout (errors that are not the node's) are survived by backing off and retrying from the
cursor, /api/health tells the truth about it (and answers 503 once it has failed for too long), and stop() still
ends it at once while it waits to retry."""

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from api.db import make_engine
from tests.cache_support import _empty_postgres, cache_rows, clean_index, fresh_sqlite

BUSY_TIMEOUT_MS = 200  # the app's SQLite engine waits 30 s for a lock; the tests need not wait that long


def indexing_app(database_url: str, manifest, rpc_url: str):
    """The API with its indexer following the chain into `database_url` (no other background workers)."""
    return create_app(
        database_url, manifest, rpc_url, run_indexer=True, upgrade_schema=False, run_hooks=False, run_reminders=False
    )


def short_busy_timeout(app) -> None:
    """The app's SQLite connections give up waiting for a lock after BUSY_TIMEOUT_MS."""

    def on_connect(connection, _record) -> None:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    sa.event.listen(app.state.engine, "connect", on_connect)


def indexed_block(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT block_number FROM sync_cursor WHERE id = 1")).scalar() or -1


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0):
    """Poll `condition` until it answers something true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not (answer := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.05)
    return answer


def wait_indexed(engine: sa.Engine, block: int, timeout: float = 30.0) -> None:
    wait_for(lambda: indexed_block(engine) >= block, f"the cache to index block {block}", timeout)


def health_when(client: TestClient, condition: Callable[[dict], bool], what: str, timeout: float = 30.0) -> dict:
    """/api/health's answer once `condition` holds for its `indexer` part (a key missing: not yet)."""
    seen: list[dict] = [{}]

    def answer() -> dict | None:
        seen[0] = body = client.get("/api/health").json()
        try:
            return body if condition(body["indexer"]) else None
        except KeyError:
            return None

    try:
        return wait_for(answer, what, timeout)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; /api/health said {seen[0]}") from None


@contextmanager
def served_from_sqlite(tmp_path, commons, deployed, anvil_url) -> Iterator[tuple]:
    """(app, client, engine): the API indexing into a fresh SQLite file with a short busy timeout, caught up."""
    url = fresh_sqlite(tmp_path, "served.db")
    engine = make_engine(url)
    app = indexing_app(url, deployed, anvil_url)
    short_busy_timeout(app)
    with TestClient(app) as client:
        wait_indexed(engine, commons.w3.eth.block_number)
        yield app, client, engine


def locked_database(tmp_path) -> sqlite3.Connection:
    """Another process writing to the served file, for longer than the indexer will wait."""
    holder = sqlite3.connect(tmp_path / "served.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def release(holder: sqlite3.Connection) -> None:
    holder.rollback()
    holder.close()


def delegate(commons, founders, to: int) -> int:
    """A new governance event (founder 3 delegates to founder `to`); the block it is in."""
    return commons.submit(commons.plan_delegate(founders[to].address), founders[3])["blockNumber"]


def test_indexer_follows_again_after_postgres_kills_its_connections(
    pg_database, commons, deployed, anvil_url, founders, tmp_path
):
    _empty_postgres(pg_database)
    engine = make_engine(pg_database)
    app = indexing_app(pg_database, deployed, anvil_url)
    with TestClient(app) as client, engine.connect() as holder, engine.connect() as watcher:
        watcher = watcher.execution_options(isolation_level="AUTOCOMMIT")  # sees pg_stat_activity anew each time
        wait_indexed(engine, commons.w3.eth.block_number)
        # Writes to the remembered blocks wait (reads do not), so the indexer's next batch stops there, its decision-log
        # entries and rows already written in its transaction; then its connections are killed (as a PostgreSQL
        # restart or an administrator would) and the batch fails half way through.
        holder.execute(sa.text("LOCK TABLE indexed_block IN EXCLUSIVE MODE"))
        ours = [
            holder.execute(sa.text("SELECT pg_backend_pid()")).scalar(),
            watcher.execute(sa.text("SELECT pg_backend_pid()")).scalar(),
        ]
        first = delegate(commons, founders, 4)
        others = "FROM pg_stat_activity WHERE datname = current_database() AND NOT pid = ANY(:ours)"
        waiting = sa.text(f"SELECT query {others} AND wait_event_type = 'Lock'")
        query = wait_for(lambda: watcher.execute(waiting, {"ours": ours}).scalar(), "the indexer to wait for the lock")
        assert "indexed_block" in query and indexed_block(engine) < first
        kill = sa.text(f"SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) {others}")
        killed = watcher.execute(kill, {"ours": ours}).scalar()
        holder.rollback()
        assert killed >= 1
        second = delegate(commons, founders, 5)
        wait_indexed(engine, max(first, second))
        indexer = health_when(client, lambda i: i["state"] == "following", "health to say following")["indexer"]
    assert indexer["running"] and indexer["healthy"] and indexer["failures"] == 0
    assert "terminat" in indexer["last_error"], indexer  # PostgreSQL's "terminating connection due to administrator command"
    assert indexer["indexed_block"] >= second and indexer["blocks_behind"] is not None
    # Nothing of the killed batch was left half written: the cache equals one built from scratch.
    assert cache_rows(engine) == clean_index(deployed, anvil_url, tmp_path)
    engine.dispose()


def test_locked_sqlite_database_is_survived_and_reported_in_health(tmp_path, commons, deployed, anvil_url, founders):
    with served_from_sqlite(tmp_path, commons, deployed, anvil_url) as (app, client, engine):
        holder = locked_database(tmp_path)
        first = delegate(commons, founders, 4)
        answer = health_when(client, lambda i: i["state"] == "retrying" and i["failures"] >= 2, "health to say retrying")
        indexer = answer["indexer"]
        assert "database is locked" in indexer["last_error"] and indexer["since"] and indexer["running"]
        assert indexer["healthy"] and answer["ok"]  # not failing long enough to be called unhealthy (default 300 s)
        assert indexed_block(engine) < first and indexer["blocks_behind"] >= 1
        release(holder)
        second = delegate(commons, founders, 5)
        wait_indexed(engine, max(first, second))
        indexer = health_when(client, lambda i: i["state"] == "following", "health to say following")["indexer"]
    assert indexer["failures"] == 0 and indexer["healthy"] and "database is locked" in indexer["last_error"]
    assert cache_rows(engine) == clean_index(deployed, anvil_url, tmp_path)


def test_health_answers_503_once_the_indexer_fails_longer_than_the_threshold(
    tmp_path, commons, deployed, anvil_url, founders, settings_env
):
    settings_env(indexer_unhealthy_after_seconds=1)
    with served_from_sqlite(tmp_path, commons, deployed, anvil_url) as (app, client, engine):
        holder = locked_database(tmp_path)
        block = delegate(commons, founders, 4)
        health_when(client, lambda i: not i["healthy"], "health to call the indexer unhealthy")
        response = client.get("/api/health")
        assert response.status_code == 503 and response.json()["ok"] is False
        assert response.json()["indexer"]["failing_for_seconds"] >= 1
        release(holder)
        wait_indexed(engine, block)
        health_when(client, lambda i: i["healthy"], "health to call the indexer healthy again")
        assert client.get("/api/health").status_code == 200


def test_stop_ends_the_indexer_promptly_during_a_back_off(tmp_path, commons, deployed, anvil_url, founders):
    with served_from_sqlite(tmp_path, commons, deployed, anvil_url) as (app, client, engine):
        holder = locked_database(tmp_path)
        delegate(commons, founders, 4)
        # The second failure waits 2 s before trying again: stop while more than a second of it is left.
        health_when(
            client,
            lambda i: i["state"] == "retrying" and i["failures"] >= 2 and i["next_try_in_seconds"] > 1,
            "a back-off of more than a second",
        )
        background = app.state.indexer
        started = time.monotonic()
        background.stop()
        took = time.monotonic() - started
        release(holder)
    assert not background.thread.is_alive() and took < 0.5, f"stop() took {took:.2f} s"
