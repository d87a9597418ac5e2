"""Participation: turnout per proposal, per member and per month (who shows up)."""

from collections import defaultdict
from datetime import datetime, timezone
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends
from sqlalchemy.engine import Connection

from api.deps import connection, indexed_cursor
from api.models import Member, ParticipationPublic, Proposal, Vote

router = APIRouter(prefix="/api/stats", tags=["participation"])
P, V, M = Proposal.__table__, Vote.__table__, Member.__table__


def ratio(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


@router.get("/participation", response_model=ParticipationPublic)
def participation(conn: Annotated[Connection, Depends(connection)]):
    """Turnout (voters ÷ members at the snapshot) per proposal whose voting has opened, per member, and per month."""
    cursor = indexed_cursor(conn)
    opened = conn.execute(sa.select(P.c.proposal_id, P.c.number, P.c.title, P.c.voter_count, P.c.electorate,
                                    P.c.snapshot, P.c.created_time)
                          .where(P.c.snapshot < cursor["block_timestamp"]).order_by(P.c.number)).all()
    per_proposal = [{"proposal_id": p.proposal_id, "number": p.number, "title": p.title, "voters": p.voter_count,
                     "electorate": p.electorate, "turnout": ratio(p.voter_count, p.electorate)} for p in opened]

    votes_by = dict(conn.execute(sa.select(V.c.voter, sa.func.count()).group_by(V.c.voter)).all())
    snapshots = sorted(p.snapshot for p in opened)
    per_member = []
    for m in conn.execute(sa.select(M).order_by(M.c.member_number)):
        # Proposals whose snapshot fell within the member's current or past membership.
        end = m.left_time if m.left_time is not None else float("inf")
        eligible = sum(1 for s in snapshots if m.first_admitted_time <= s < end)
        cast = votes_by.get(m.address, 0)
        per_member.append({"address": m.address, "handle": m.handle, "votes_cast": cast,
                           "proposals_open_to_them": eligible, "rate": ratio(cast, eligible)})

    months: dict[str, list] = defaultdict(lambda: [0, 0, []])
    for p in opened:
        month = datetime.fromtimestamp(p.created_time, timezone.utc).strftime("%Y-%m")
        months[month][0] += 1
        months[month][1] += p.voter_count
        if p.electorate:
            months[month][2].append(p.voter_count / p.electorate)
    over_time = [{"period": k, "proposals": n, "votes": v, "average_turnout": round(sum(t) / len(t), 4) if t else None}
                 for k, (n, v, t) in sorted(months.items())]
    return {"per_proposal": per_proposal, "per_member": per_member, "over_time": over_time}
