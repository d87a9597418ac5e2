// The read API's JSON turned into the few shapes the views use. Kept in one place so a change in
// the API's field names is a change here only. uint256 values stay strings (JS numbers round them).

const SUPPORT_NAMES = { 0: "against", 1: "for", 2: "abstain" };
const num = (value) => (value === undefined || value === null ? 0 : Number(value));
const list = (body) => (Array.isArray(body) ? body : body?.data ?? body?.items ?? []);

export function normProposal(p) {
  const tally = p.tallies || p.tally || {};
  return {
    id: String(p.id ?? p.proposal_id),
    title: p.title || (p.description || "").split("\n")[0].replace(/^#\s*/, "") || "Untitled",
    description: p.description ?? p.text ?? "",
    proposer: p.proposer || "",
    state: String(p.state || "").toLowerCase(),
    snapshot: num(p.snapshot ?? p.vote_start),
    deadline: num(p.deadline ?? p.vote_end),
    created: num(p.created_at ?? p.created_block ?? p.block_number ?? p.snapshot),
    for: num(p.votes_for ?? tally.for ?? tally.for_votes),
    against: num(p.votes_against ?? tally.against ?? tally.against_votes),
    abstain: num(p.votes_abstain ?? tally.abstain ?? tally.abstain_votes),
    quorum: num(p.quorum ?? tally.quorum),
    actions: (p.actions_in_words || (p.actions || []).map((a) => a.words || a.description || a.summary || `call ${a.target}`)),
    timeline: (p.timeline || []).map((t) => ({
      step: t.step || t.state || t.kind || t.event, when: t.timestamp ?? t.when ?? t.time, tx: t.tx_hash || t.transaction_hash,
    })),
    votes: p.votes ? list(p.votes).map(normVote) : undefined,
  };
}

export function normVote(v) {
  const support = typeof v.support === "number" ? SUPPORT_NAMES[v.support] : String(v.support).toLowerCase();
  return { voter: v.voter, handle: v.handle || v.voter_handle || "", support, weight: num(v.weight), reason: v.reason || "",
    tx: v.tx_hash || v.transaction_hash || "" };
}

export function normDecision(e) {
  return {
    kind: e.kind || e.event || e.type, summary: e.summary || e.words || e.description || "",
    when: e.timestamp ?? e.block_timestamp ?? e.when, block: e.block_number ?? e.block, hash: e.entry_hash || e.hash || "",
  };
}

export function normCommons(c) {
  const addresses = c.addresses || c;
  return {
    name: c.name, chain_id: num(c.chain_id), governor: addresses.governor, membership: addresses.membership,
    timelock: addresses.timelock, rpc_url: c.rpc_url || "",
    indexed_block: c.indexed_block ?? c.last_indexed_block ?? c.sync?.indexed_block ?? null,
    chain_head: c.chain_head ?? c.head_block ?? c.sync?.chain_head ?? null,
    head_hash: c.head_hash ?? c.decision_log_head ?? c.log_head_hash ?? "",
  };
}

export { list };
