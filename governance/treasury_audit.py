"""The audit of the treasury: balances per asset and every inflow and outflow, re-derived from the chain alone
(governance/treasury_chain.py) at the block the source has indexed, compared with what the source (the cache or
any API) says."""

from governance.audit import AuditReport, Source, pages
from governance.events import Event
from governance.manifest import Manifest
from governance.treasury import ETH, Flow
from governance.treasury_chain import ChainTreasury, read_treasury

# What identifies a flow and what it says: any difference in these is a finding.
FLOW_FIELDS = (
    "block_number",
    "log_index",
    "tx_hash",
    "direction",
    "kind",
    "asset",
    "amount",
    "counterparty",
    "note",
    "operation_id",
)


def _key(flow: dict) -> tuple:
    return tuple(str(flow[f]) if flow[f] is not None else None for f in FLOW_FIELDS)


def _chain_key(flow: Flow) -> tuple:
    return _key({f: getattr(flow, f) for f in FLOW_FIELDS})


def audit_treasury(
    report: AuditReport, source: Source, rpc_url: str, manifest: Manifest, events: list[Event], block: int
) -> None:
    """Add to `report` every difference between the source's treasury and the chain's at `block` (the indexed one).

    A source without the treasury (an API from before it) is reported as one difference."""
    if not manifest.contributions:
        return
    try:
        cached = source.get("/api/treasury")
    except Exception as exc:  # an older API has no treasury: that is a difference, not a crash
        report.differ("treasury", f"the source has no treasury ({exc})")
        return
    chain = read_treasury(rpc_url, manifest, block, events)
    _balances(report, cached["balances"], chain)
    flows = pages(source, "/api/treasury/flows", "next_after", "after")
    _flows(report, flows, chain)


def _balances(report: AuditReport, cached: list[dict], chain: ChainTreasury) -> None:
    report.checked["treasury assets"] = len(cached)
    theirs = {b["address"]: (int(b["balance"]), b["tracked"]) for b in cached}
    for address, asset in chain.assets.items():
        held, tracked = chain.balances[address], address in chain.tracked
        if address not in theirs:
            report.differ("treasury", f"the chain's treasury holds {asset.amount_in_words(held)}, which the cache does not list")
        elif theirs[address] != (held, tracked):
            balance, shown_tracked = theirs[address]
            report.differ(
                "treasury",
                f"the treasury holds {asset.amount_in_words(held)} (tracked: {tracked}) at the indexed block, "
                f"the cache says {asset.amount_in_words(balance)} (tracked: {shown_tracked})",
            )
    for address in set(theirs) - set(chain.assets):
        report.differ("treasury", f"the cache lists an asset {address} that the commons never tracked")


def _flows(report: AuditReport, cached: list[dict], chain: ChainTreasury) -> None:
    logged = [f for f in cached if f["log_index"] != -1]
    report.checked["treasury flows"] = len(cached)
    mine = {_chain_key(f): f for f in chain.flows}
    theirs = {_key(f): f for f in logged}
    for key in mine.keys() - theirs.keys():
        f = mine[key]
        report.differ(
            "treasury",
            f"the chain has a flow the cache lacks: {f.direction} {f.amount} of {f.asset} ({f.kind}) in block {f.block_number}",
        )
    for key in theirs.keys() - mine.keys():
        row = theirs[key]
        report.differ(
            "treasury",
            f"the cache has a flow the chain lacks: {row['direction']} {row['amount_text']} ({row['kind']}) in block {row['block_number']}",
        )
    seen = sum(
        int(f["amount"]) * (1 if f["direction"] == "in" else -1) for f in cached if f["log_index"] == -1 and f["asset"] == ETH
    )
    if seen != chain.unattributed_ether:
        report.differ(
            "treasury",
            f"ETH that reached the treasury without a log: the chain's balance shows {chain.unattributed_ether} wei, "
            f"the cache counts {seen} wei",
        )
