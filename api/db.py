"""Engines for the cache (SQLite by default, PostgreSQL by URL) and schema upgrades through Alembic."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from governance.config import PROJECT_ROOT, get_settings
from governance.errors import ConfigurationError

ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def normalize_url(url: str) -> str:
    """`url` with the psycopg 3 driver for PostgreSQL (plain postgresql:// would ask for psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str | None = None) -> Engine:
    """An engine for `url` (default: COMMONS_DATABASE_URL, else .state/commons.db).

    SQLite runs in WAL mode so readers (the API) never block the single writer (the indexer), and a
    killed process loses at most the transaction it was in. Raises ConfigurationError for a bad URL.
    """
    url = normalize_url(url or get_settings().cache_database_url)
    try:
        if url.startswith("sqlite"):
            path = sa.engine.make_url(url).database
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
    except (sa.exc.ArgumentError, ImportError, ValueError) as exc:
        raise ConfigurationError(f"The database URL {url.split('@')[-1]!r} cannot be used: {exc}") from exc


def _sqlite_pragmas(connection, _record) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration for this project; with `engine`, migrations run on its connection."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the cache's schema up to the newest migration (creating it if the database is empty)."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except sa.exc.OperationalError as exc:
        raise ConfigurationError(f"Cannot reach the cache database: {exc.orig}") from exc
