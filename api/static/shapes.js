// The read API's JSON (api/models.py: *Public, ProposalDetail, DecisionEntryPublic, ParticipationPublic)
// turned into the few shapes the views use. Kept in one place so a change in the API's field names is a
// change here only. Proposal ids and wei stay strings (JS numbers round them); counts and times are numbers.

const num = (value) => (value === undefined || value === null ? null : Number(value));
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** The rows of a page (`{data, count, next_…}`), and where the next page starts. */
export function page(body, cursor) {
  return { rows: body.data, count: body.count, next: body[cursor] ?? null };
}

/** CommonsPublic: the overview, index progress and decision-log head. */
export function normCommons(c) {
  return {
    name: c.name, chain_id: c.chain_id, governor: c.addresses.governor, membership: c.addresses.membership,
    timelock: c.addresses.timelock, deploymentBlock: c.deployment_block, settings: c.settings || {},
    memberCount: c.member_count, formerMemberCount: c.former_member_count, stewardCount: c.steward_count,
    proposalCount: c.proposal_count, voteCount: c.vote_count, treasuryWei: c.treasury_wei,
    indexedBlock: c.indexed_block.number, indexedHash: c.indexed_block.hash, indexedTime: c.indexed_block.timestamp,
    headBlock: c.head_block, blocksBehind: c.blocks_behind, logCount: c.decision_log_count, logHeadHash: c.decision_log_head_hash,
    timelockRoles: c.timelock_roles || {}, powerOutsideTheVote: c.power_outside_the_vote || [],
  };
}

/** ProposalPublic (list) or ProposalDetail (one, with text, actions, timeline and votes). */
export function normProposal(p) {
  const progress = p.quorum_progress;
  return {
    id: p.proposal_id, number: p.number, title: p.title || "Untitled", description: p.description ?? "",
    proposer: p.proposer, state: p.state, snapshot: p.snapshot, deadline: p.deadline, eta: p.eta,
    created: p.created_time, createdBlock: p.created_block,
    for: p.votes_for, against: p.votes_against, abstain: p.votes_abstain, voters: p.voter_count,
    quorum: num(p.quorum), electorate: num(p.electorate),
    counted: progress ? progress.counted : p.votes_for + p.votes_abstain,
    actions: (p.actions || []).map((a) => ({ words: a.in_words, target: a.target, valueWei: a.value_wei,
      known: a.known !== false, power: a.power_change ?? null })),
    timelockId: p.timelock_id ?? null,
    timeline: (p.timeline || []).map(normStep),
    votes: p.votes ? p.votes.map(normVote) : undefined,
    votesNextAfter: p.votes_next_after ?? null, // more votes than the answer carries: page on from here
  };
}

/** TimelineStep: a lifecycle event of a proposal (or of its timelock operation). */
function normStep(t) {
  const d = t.detail || {};
  return { kind: t.step, when: t.timestamp, block: t.block_number, tx: t.tx_hash,
    extendedTo: num(d.extendedDeadline), eta: num(d.etaSeconds), delay: num(d.delay), index: num(d.index) };
}

/** VotePublic. */
export function normVote(v) {
  return { voter: v.voter, handle: v.handle || "", support: v.support, weight: v.weight, reason: v.reason || "",
    tx: v.tx_hash, block: v.block_number, when: v.timestamp, proposalId: v.proposal_id };
}

/** MemberPublic / MemberDetail. */
export function normMember(m) {
  return { address: m.address, handle: m.handle, number: m.member_number, isMember: m.is_member, steward: m.steward,
    delegate: m.delegate && m.delegate !== ZERO_ADDRESS ? m.delegate : null, admitted: m.admitted_time,
    leftHow: m.left_how, left: m.left_time, votes: (m.votes || []).map(normVote), contributions: m.contributions || [] };
}

/** DecisionEntryPublic: the entry as hashed; `data` holds the event's arguments (integers as strings). */
export function normDecision(e) {
  return { seq: e.seq, kind: e.kind, subject: e.subject, data: e.data, when: e.timestamp, block: e.block_number,
    tx: e.tx_hash, contract: e.contract, hash: e.hash, prevHash: e.prev_hash };
}

/** ParticipationPublic: turnout per proposal (oldest first), per member, per month. */
export function normParticipation(s) {
  return {
    perProposal: s.per_proposal.map((p) => ({ id: p.proposal_id, number: p.number, title: p.title, voters: p.voters,
      electorate: num(p.electorate), turnout: num(p.turnout) })),
    perMember: s.per_member.map((m) => ({ address: m.address, handle: m.handle, votes: m.votes_cast,
      openToThem: m.proposals_open_to_them, rate: num(m.rate) })),
    overTime: s.over_time.map((t) => ({ period: t.period, proposals: t.proposals, votes: t.votes,
      turnout: num(t.average_turnout) })),
  };
}
