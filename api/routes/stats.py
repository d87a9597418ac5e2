"""Participation: turnout per proposal, per member and per month (who shows up)."""

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.engine import Connection

from api.cache import initiative_queries, queries
from api.deps import connection, indexed_cursor
from api.schemas import ParticipationPublic

router = APIRouter(prefix="/api/stats", tags=["participation"])


@router.get("/participation", response_model=ParticipationPublic)
def participation(conn: Annotated[Connection, Depends(connection)]):
    """Turnout (voters ÷ members at the snapshot) per proposal whose voting has opened, per member, and per month."""
    answer = queries.participation(conn, indexed_cursor(conn)["block_timestamp"])
    return answer | {"initiatives": initiative_queries.participation(conn)}
