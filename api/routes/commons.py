"""The commons at the indexed block: addresses, chain, settings, counts, treasury, index progress, log head."""

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.engine import Connection

from api.cache import queries
from api.deps import connection, indexed_cursor
from api.schemas import CommonsPublic

router = APIRouter(prefix="/api", tags=["commons"])


@router.get("/commons", response_model=CommonsPublic)
def get_commons(conn: Annotated[Connection, Depends(connection)]):
    """The commons as of the last indexed block, and how many blocks the index is behind the chain head it saw."""
    return queries.commons_overview(conn, indexed_cursor(conn))
