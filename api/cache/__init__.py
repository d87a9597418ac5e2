"""The cache: the chain's governance history as SQL tables, written by the indexer's sink and read by the routes.

- tables.py      the SQLModel tables (SQLite or PostgreSQL through Alembic migrations)
- projection.py  events → named rows: what each governance event changes
- store.py       those rows in and out of SQL, and the quorums that follow from the log
- sink.py        the indexer's sink: each batch in one transaction, cursor included
- rollback.py    a reorg's rollback to the common ancestor, step by step
- queries.py     every read the API makes, shaped for its response schemas (api/schemas.py)
"""
