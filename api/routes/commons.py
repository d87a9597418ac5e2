"""The commons at the indexed block: addresses, chain, settings, counts, treasury, index progress, log head."""

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.engine import Connection

from api.deps import connection, indexed_cursor
from api.models import CommonsPublic, Member, Proposal, Setting, Steward, Vote

router = APIRouter(prefix="/api", tags=["commons"])


def count(conn: Connection, table, *conditions) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(*conditions)).scalar()


@router.get("/commons", response_model=CommonsPublic)
def get_commons(conn: Annotated[Connection, Depends(connection)]):
    """The commons as of the last indexed block, and how many blocks the index is behind the chain head it saw."""
    cursor = indexed_cursor(conn)
    members = Member.__table__
    settings = {r.name: r.value for r in conn.execute(sa.select(Setting.__table__))}
    return {
        "name": cursor["name"], "chain_id": cursor["chain_id"], "deployment_block": cursor["deployment_block"],
        "addresses": {"membership": cursor["membership"], "governor": cursor["governor"], "timelock": cursor["timelock"]},
        "settings": settings,
        "member_count": count(conn, members, members.c.is_member.is_(True)),
        "former_member_count": count(conn, members, members.c.is_member.is_(False)),
        "steward_count": count(conn, Steward.__table__, Steward.__table__.c.active.is_(True)),
        "proposal_count": count(conn, Proposal.__table__),
        "vote_count": count(conn, Vote.__table__),
        "treasury_wei": cursor["treasury_wei"],
        "indexed_block": {"number": cursor["block_number"], "hash": cursor["block_hash"], "timestamp": cursor["block_timestamp"]},
        "head_block": max(cursor["head_block"], cursor["block_number"]),
        "blocks_behind": max(0, cursor["head_block"] - cursor["block_number"]),
        "decision_log_count": cursor["log_seq"],
        "decision_log_head_hash": cursor["log_head_hash"],
    }
