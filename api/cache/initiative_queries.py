"""Initiatives as the cache knows them: derived from their decision-log entries (subject `initiative:<id>`), the
members table (who is a member now) and the indexed block's time, so a reorg's rollback of the log undoes them too.

A signature counts when it is its supporter's latest for the initiative, for the current revision, not withdrawn
since, unexpired at the indexed block, and its supporter is a member now; the author counts while a member, and an
initiative whose author has left cannot be put to a vote at all: what `Initiatives.submit` checks.
"""

import json
from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from api.cache.action_words import read_actions
from api.cache.tables import LOG, MEMBERS, NOT_A_VOTE, PROPOSALS
from governance import actions as act
from governance.initiatives import initiative_proposed_by, member_in_words
from governance.reverts import moment
from governance.vocabulary import INITIATIVE_SETTING_EVENTS

MIN_COSIGNERS = 2  # Initiatives.MIN_COSIGNERS
STATUSES = ("open", "revised", "withdrawn", "expired", "proposed")


def _settings(conn: Connection) -> tuple[int, int]:
    """(support share in basis points, lifetime in seconds) as the latest setting entries say."""
    rows = conn.execute(
        sa.select(LOG.c.kind, LOG.c.data).where(LOG.c.kind.in_(INITIATIVE_SETTING_EVENTS)).order_by(LOG.c.seq)
    ).all()
    share, lifetime = 0, 0
    for kind, data in rows:
        d = json.loads(data)
        if kind == "SupportShareSet":
            share = int(d["newShareBps"])
        else:
            lifetime = int(d["newLifetime"])
    return share, lifetime


def needed(conn: Connection, share_bps: int) -> int:
    """Members whose support (the author's included) an initiative needs now: Initiatives.supportNeeded."""
    members = conn.execute(sa.select(sa.func.count()).select_from(MEMBERS).where(MEMBERS.c.is_member)).scalar_one()
    return max(-(-members * share_bps // 10000), MIN_COSIGNERS + 1)


def _build(conn: Connection, at: RowMapping) -> list[dict]:
    """Every initiative, oldest first, in the shape of InitiativePublic (without actions in words)."""
    rows = conn.execute(
        sa.select(LOG.c.kind, LOG.c.data, LOG.c.timestamp, LOG.c.tx_hash)
        .where(LOG.c.subject.like("initiative:%"))
        .order_by(LOG.c.seq)
    ).all()
    share, lifetime = _settings(conn)
    need = needed(conn, share)
    now = at["block_timestamp"]
    handles, members = {}, set()  # everyone ever admitted by handle; who is a member now
    for address, handle, is_member in conn.execute(sa.select(MEMBERS.c.address, MEMBERS.c.handle, MEMBERS.c.is_member)):
        handles[address] = handle
        if is_member:
            members.add(address)
    found: dict[int, dict] = {}
    posted: dict[int, dict[str, dict]] = defaultdict(dict)
    nonces: dict[int, dict[str, int]] = defaultdict(dict)
    for kind, data, timestamp, tx_hash in rows:
        d = json.loads(data)
        ident = int(d["id"])
        if kind == "InitiativeDrafted":
            found[ident] = {
                "id": ident,
                "author": d["author"],
                "revision": 0,
                "drafted_at": timestamp,
                "draft_tx": tx_hash,
                "withdrawn": False,
                "proposal_id": None,
            }
        item = found.get(ident)
        if item is None:
            continue
        if kind in ("InitiativeDrafted", "InitiativeRevised"):
            item.update(
                revision=int(d.get("revision", 0)),
                revised_at=timestamp,
                description=d["description"],
                targets=d["targets"],
                values=d["values"],
                calldatas=d["calldatas"],
            )
        elif kind == "InitiativeWithdrawn":
            item["withdrawn"] = True
        elif kind == "SupportPosted":
            posted[ident][d["supporter"]] = d
        elif kind == "SupportWithdrawn":
            nonces[ident][d["supporter"]] = int(d["nonce"])
        elif kind == "InitiativeSubmitted":
            item.update(proposal_id=d["proposalId"], cosigners=d["supporters"])
    numbers = dict(conn.execute(sa.select(PROPOSALS.c.proposal_id, PROPOSALS.c.number)).all())
    result = []
    for ident, item in found.items():
        expires_at = item["revised_at"] + lifetime
        if item["proposal_id"] is not None:
            supporters, status = item["cosigners"], "proposed"
        else:
            supporters = sorted(
                (
                    s
                    for s, d in posted[ident].items()
                    if int(d["revision"]) == item["revision"]
                    and int(d["nonce"]) == nonces[ident].get(s, 0)
                    and int(d["expiry"]) >= now
                    and s in members
                ),
                key=lambda s: int(s, 16),
            )
            status = "withdrawn" if item["withdrawn"] else "expired" if now > expires_at else "open"
            if status == "open" and item["revision"] > 0:
                status = "revised"
        # Once proposed, the support it had when submitted; before, only members count, the author included.
        author_is_member = item["author"] in members
        count = len(supporters) + (1 if status == "proposed" or author_is_member else 0)
        progress = f"{count} of {need} supporters"
        if status in ("open", "revised") and not author_is_member:
            progress += "; its author is no longer a member, so it cannot be put to a vote"
        number = numbers.get(item["proposal_id"]) if item["proposal_id"] else None
        result.append(
            {
                "id": ident,
                "title": act.proposal_title(item["description"]),
                "description": item["description"],
                "author": item["author"],
                "author_handle": handles.get(item["author"]),
                "author_is_member": author_is_member,
                "revision": item["revision"],
                "status": status,
                "status_words": _status_words(status, number, expires_at),
                "supporters": [{"address": s, "handle": handles.get(s)} for s in supporters],
                # What `submit` takes, for whoever puts it to a vote (the page, the relay): the counting signatures.
                "signatures": []
                if status == "proposed"
                else [
                    {"supporter": s, "expiry": str(posted[ident][s]["expiry"]), "signature": posted[ident][s]["signature"]}
                    for s in supporters
                ],
                "support_count": count,
                "needed": need,
                "progress": progress,
                "threshold_met": count >= need and (status == "proposed" or author_is_member),
                "drafted_at": item["drafted_at"],
                "revised_at": item["revised_at"],
                "expires_at": expires_at,
                "proposal_id": item["proposal_id"],
                "proposal_number": number,
                "targets": item["targets"],
                "values": [str(v) for v in item["values"]],
                "calldatas": item["calldatas"],
            }
        )
    return result


def initiatives_page(conn: Connection, at: RowMapping, status: str | None, author: str | None, page: int, limit: int) -> dict:
    """InitiativesPublic: newest first, filtered by status and author, `limit` per page from page 1."""
    chosen = [
        i
        for i in reversed(_build(conn, at))
        if (status is None or i["status"] == status) and (author is None or i["author"] == author)
    ]
    start = (page - 1) * limit
    return {"data": chosen[start : start + limit], "count": len(chosen), "page": page, "limit": limit}


def initiative_detail(conn: Connection, at: RowMapping, ident: int) -> dict | None:
    """InitiativePublic of initiative `ident` with its actions in words; None if the cache has no such initiative."""
    for item in _build(conn, at):
        if item["id"] == ident:
            readings = read_actions(conn, at, item["targets"], item["values"], item["calldatas"])
            item["actions"] = [
                {"target": t, "value_wei": v, "calldata": c, "in_words": reading.words}
                for t, v, c, reading in zip(item["targets"], item["values"], item["calldatas"], readings)
            ]
            return item
    return None


def proposal_origin(conn: Connection, proposal) -> dict:
    """`proposed_by` (in words) and `initiative` (InitiativeOrigin, or None) of the proposal row `proposal`.

    An initiative's proposal is proposed on-chain by the Initiatives contract; its author and supporters are named
    only by the InitiativeSubmitted entry about its initiative (the row's initiative_id, set by the projection)."""
    if proposal.initiative_id is None:
        handle = conn.execute(sa.select(MEMBERS.c.handle).where(MEMBERS.c.address == proposal.proposer)).scalar()
        return {"proposed_by": member_in_words(proposal.proposer, handle), "initiative": None}
    # NOT_A_VOTE in the partial index's own words, so SQLite finds the entry through it (as a proposal's timeline).
    data = conn.execute(
        sa.select(LOG.c.data).where(
            sa.text(NOT_A_VOTE), LOG.c.subject == f"initiative:{proposal.initiative_id}", LOG.c.kind == "InitiativeSubmitted"
        )
    ).scalar_one()
    submitted = json.loads(data)
    named = [submitted["author"], *submitted["supporters"]]
    handles = dict(conn.execute(sa.select(MEMBERS.c.address, MEMBERS.c.handle).where(MEMBERS.c.address.in_(named))).all())
    origin = {
        "id": proposal.initiative_id,
        "revision": int(submitted["revision"]),
        "author": submitted["author"],
        "author_handle": handles.get(submitted["author"]),
        "supporters": [{"address": s, "handle": handles.get(s)} for s in submitted["supporters"]],
    }
    return {"proposed_by": initiative_proposed_by(origin, proposal.proposer), "initiative": origin}


def participation(conn: Connection) -> dict:
    """Who drafts and who supports: distinct drafters and supporters, ever."""
    kinds = {"InitiativeDrafted": "author", "SupportPosted": "supporter"}
    seen: dict[str, set[str]] = {"drafters": set(), "supporters": set()}
    for kind, data in conn.execute(sa.select(LOG.c.kind, LOG.c.data).where(LOG.c.kind.in_(kinds))):
        seen["drafters" if kind == "InitiativeDrafted" else "supporters"].add(json.loads(data)[kinds[kind]])
    return {"drafters": len(seen["drafters"]), "supporters": len(seen["supporters"])}


def _status_words(status: str, number: int | None, expires_at: int) -> str:
    """'proposed as #4', 'expired on Monday 21 December 2026 at 03:00 UTC', or the status itself."""
    if status == "proposed" and number:
        return f"proposed as #{number}"
    if status == "expired":
        return f"expired on {moment(expires_at)}"
    return status
