"""The audit's contract reads go many to a request (governance/batch_reads.py); a node that caps batches, refuses them
or rate-limits their items is still read completely, and the audit still finds a planted difference through it."""

import io
import json

import pytest
import sqlalchemy as sa

from api.audit_source import CacheSource
from api.db import make_engine
from benchmarks.provider_emulator import Faults, ProviderEmulator
from governance.audit import audit, chain_events, content_hash
from governance.batch_reads import BatchReader, Contract
from governance.chain import connect
from governance.compiler import load_artifacts
from governance.decision_log import chain, entry_hash
from governance.errors import RpcError
from governance.rpc import Rpc
from tests.cache_support import fresh_sqlite, indexer_for, make_history

TOO_LARGE = {"code": -32600, "message": "batch too large"}  # geth's words past its BatchRequestLimit
NOT_SUPPORTED = {"code": -32600, "message": "batch requests are not supported"}
ITEM_LIMITED = {"code": 429, "message": "Your app has exceeded its compute units per second capacity."}


class BatchLimits(ProviderEmulator):
    """The provider emulator, with a node's limits on JSON-RPC batches:

    - `cap`: a batch of more calls is answered as geth answers it, one error in a list;
    - `refuse`: every batch is answered with one error object (a provider without batches);
    - `limit_every`: every n-th call inside a batch is answered with a rate-limit error (a provider counting each
      item against its compute units), the others answered.
    """

    def __init__(self, upstream: str, cap: int | None = None, refuse: bool = False, limit_every: int = 0, **faults):
        super().__init__(upstream, Faults(**faults))
        self.cap, self.refuse, self.limit_every = cap, refuse, limit_every
        self.batches = self.refused = self.limited = self.largest = 0
        self._items = 0
        emulator, base = self, self._server.RequestHandlerClass

        class Handler(base):  # type: ignore[valid-type,misc]
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                refusal = emulator.refusal(json.loads(body))
                if refusal is not None:
                    self._send(200, json.dumps(refusal).encode())
                    return
                connection, self.rfile = self.rfile, io.BytesIO(body)  # the emulator reads the body again
                try:
                    super().do_POST()
                finally:
                    self.rfile = connection  # kept alive for the next request, as the emulator keeps it

        self._server.RequestHandlerClass = Handler

    def refusal(self, request: object) -> object | None:
        if not isinstance(request, list):
            return None
        self.batches += 1
        self.largest = max(self.largest, len(request))
        if self.refuse:
            self.refused += 1
            return {"jsonrpc": "2.0", "id": None, "error": NOT_SUPPORTED}
        if self.cap is not None and len(request) > self.cap:
            self.refused += 1
            return [{"jsonrpc": "2.0", "id": request[0].get("id"), "error": TOO_LARGE}]
        return None

    def answer(self, request: dict) -> dict:
        if self.limit_every:
            self._items += 1
            if self._items % self.limit_every == 0:
                self.limited += 1
                return {"jsonrpc": "2.0", "id": request.get("id"), "error": ITEM_LIMITED}
        return super().answer(request)


@pytest.fixture
def audited(commons, stewards, founders, anvil_url, tmp_path):
    make_history(commons, stewards, founders)
    url = fresh_sqlite(tmp_path)
    indexer_for(commons.manifest, anvil_url, url).sync()
    return url


def member_reads(commons):
    registry = Contract(commons.manifest.membership, load_artifacts()["Membership"].abi)
    who = [f["address"] for f in commons.manifest.founders]
    return [fn(a) for a in who for fn in (registry.isMember, registry.memberNumberOf, registry.delegates)]


@pytest.mark.parametrize(
    "limits",
    [
        {"cap": 3},
        {"refuse": True},
        {"limit_every": 4},
        {"throttle_every": 3},  # HTTP 429 for a whole batch, with and without Retry-After
    ],
    ids=["capped", "refused", "items-rate-limited", "http-429"],
)
def test_batched_reads_equal_single_reads_whatever_the_node_allows(commons, anvil_url, audited, limits):
    block = commons.w3.eth.block_number
    reads = member_reads(commons) * 3
    one_by_one = [BatchReader(Rpc(anvil_url), block, size=1).call(r) for r in reads]
    with BatchLimits(anvil_url, **limits) as node:
        reader = BatchReader(Rpc(node.url, retries=3), block, size=16)
        assert reader.read(reads) == one_by_one
    assert node.batches > 0
    if "cap" in limits:
        assert node.refused > 0 and reader.size <= 3
    if "refuse" in limits:
        assert reader.size == 1  # falls back to one call a request
    if "limit_every" in limits:
        assert node.limited > 0


def test_a_call_that_reverts_inside_a_batch_fails_as_it_does_alone(commons, anvil_url, audited):
    registry = Contract(commons.manifest.membership, load_artifacts()["Membership"].abi)
    stranger = commons.manifest.timelock  # never a member: handleOf reverts
    reader = BatchReader(Rpc(anvil_url), commons.w3.eth.block_number, size=8)
    with pytest.raises(RpcError, match="reverted"):
        reader.read([*member_reads(commons), registry.handleOf(stranger)])


def test_the_audit_reads_in_batches_and_finds_a_planted_difference_through_a_capped_node(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE member SET delegate = :d WHERE handle = 'newcomer'"), {"d": commons.manifest.timelock})
        conn.execute(sa.text("UPDATE proposal SET votes_against = votes_against + 1 WHERE number = 2"))
    with BatchLimits(anvil_url, cap=5) as node:
        report = audit(connect(node.url), node.url, commons.manifest, CacheSource(audited))
    assert node.batches > 0 and node.refused > 0 and node.largest > 5
    found = [f.what for f in report.findings]
    assert any("delegate" in what and f"{commons.manifest.timelock!r}" in what for what in found), found
    assert any("proposal 2: votes_against" in what for what in found), found


def test_the_audit_through_a_node_without_batches_passes_a_clean_cache(commons, anvil_url, audited):
    with BatchLimits(anvil_url, refuse=True) as node:
        report = audit(connect(node.url), node.url, commons.manifest, CacheSource(audited))
    assert report.ok, report.findings
    assert node.refused >= 1 and report.checked["members"] > 0


# ---- the decision log compared by hash -----------------------------------------------------------------------


def test_content_hash_is_the_entry_hash_of_any_entry_shape(commons, anvil_url, audited):
    entries = [e.as_json() for e in chain(chain_events(anvil_url, commons.manifest, commons.w3.eth.block_number))]
    assert {e["kind"] for e in entries} >= {"ProposalCreated", "VoteCast", "MemberAdmitted"}
    vote = next(e for e in entries if e["kind"] == "VoteCast")
    odd = [
        vote | {"data": vote["data"] | {"weight": 1}},  # an integer where the log has a string
        vote | {"data": vote["data"] | {"reason": 'ünïcødé "quoted" \\ \n'}},
        vote | {"data": {}},
        vote | {"log_index": True},  # a boolean where an integer belongs
        vote | {"timestamp": 1.0},
        vote | {"subject": None},
        vote | {"subject": 7},
        vote | {"extra": "field"},
        {k: v for k, v in vote.items() if k != "tx_hash"},
        vote | {"data": "not an object"},
    ]
    for item in entries + odd:
        assert content_hash(item) == entry_hash({k: v for k, v in item.items() if k != "hash"}), item


def test_an_entry_changed_without_its_hash_is_found_in_both_the_hash_chain_and_the_log(commons, anvil_url, audited):
    with make_engine(audited).begin() as conn:
        conn.execute(sa.text("UPDATE decision_entry SET timestamp = timestamp + 1 WHERE seq = 3"))
    report = audit(commons.w3, anvil_url, commons.manifest, CacheSource(audited))
    found = {(f.area, f.what.split(":")[0].split(" (")[0]) for f in report.findings}
    assert ("hash chain", "entry 3") in found and ("decision log", "entry 3") in found, report.findings
