// The read API's JSON (api/models.py: *Public, ProposalDetail, DecisionEntryPublic, ParticipationPublic)
// turned into the few shapes the views use. Kept in one place so a change in the API's field names is a
// change here only. Proposal ids and wei stay strings (JS numbers round them); counts and times are numbers.

const num = (value) => (value === undefined || value === null ? null : Number(value));
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

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
    actions: (p.actions || []).map((a) => ({ words: a.in_words, target: a.target, valueWei: a.value_wei })),
    timelockId: p.timelock_id ?? null,
    timeline: (p.timeline || []).map(normStep),
    votes: p.votes ? p.votes.map(normVote) : undefined,
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
    leftHow: m.left_how, left: m.left_time, votes: (m.votes || []).map(normVote) };
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

const SUPPORT_WORDS = { 0: "voted against", 1: "voted for", 2: "abstained on" };
const SETTING_WORDS = {
  VotingDelaySet: ["voting delay", "newVotingDelay", "duration"],
  VotingPeriodSet: ["voting period", "newVotingPeriod", "duration"],
  ProposalThresholdSet: ["proposal threshold", "newProposalThreshold", "count"],
  QuorumNumeratorUpdated: ["quorum", "newQuorumNumerator", "percent"],
  LateQuorumVoteExtensionSet: ["late-quorum extension", "newVoteExtension", "duration"],
  MinDelayChange: ["timelock delay", "newDuration", "duration"],
};

/**
 * A decision-log entry in words, from its kind and data (the chain's event arguments).
 * `names.who(address)` gives "@handle" or a short address; `names.proposal(id)` gives "#3 Title" or a short id;
 * `names.duration(seconds)` gives "3 days".
 */
export function decisionWords(entry, names) {
  const d = entry.data || {};
  switch (entry.kind) {
    case "MemberAdmitted": return `${names.who(d.member, d.handle)} admitted as member ${d.tokenId}`;
    case "MemberRemoved": return `${names.who(d.member, d.handle)} removed from membership`;
    case "MemberResigned": return `${names.who(d.member, d.handle)} resigned`;
    case "DelegateChanged":
      if (d.toDelegate === d.delegator) return `${names.who(d.delegator)} votes for themselves`;
      if (d.toDelegate === ZERO_ADDRESS) return `${names.who(d.delegator)} no longer delegates`;
      return `${names.who(d.delegator)} delegates their vote to ${names.who(d.toDelegate)}`;
    case "StewardAppointed": return `${names.who(d.steward)} appointed steward`;
    case "StewardRecalled": return `${names.who(d.steward)} recalled as steward`;
    case "ProposalCreated": return `${names.who(d.proposer)} proposed ${names.proposal(d.proposalId)}`;
    case "VoteCast": case "VoteCastWithParams":
      return `${names.who(d.voter)} ${SUPPORT_WORDS[d.support] ?? `voted ${d.support} on`} ${names.proposal(d.proposalId)}` +
        (d.reason ? `: “${d.reason}”` : "");
    case "ProposalExtended": return `voting on ${names.proposal(d.proposalId)} extended (late quorum)`;
    case "ProposalQueued": return `${names.proposal(d.proposalId)} queued in the timelock`;
    case "ProposalExecuted": return `${names.proposal(d.proposalId)} executed`;
    case "ProposalCanceled": return `${names.proposal(d.proposalId)} canceled`;
    case "CallScheduled": return `timelock scheduled action ${Number(d.index) + 1} (waits ${names.duration(d.delay)})`;
    case "CallExecuted": return `timelock carried out action ${Number(d.index) + 1}`;
    case "Cancelled": return "timelock operation cancelled";
    case "TimelockChange": return `treasury timelock set to ${names.who(d.newTimelock)}`;
    default: {
      const setting = SETTING_WORDS[entry.kind];
      if (!setting) return "";
      const [what, field, unit] = setting;
      const value = unit === "duration" ? names.duration(d[field]) : unit === "percent" ? `${d[field]}% of members` : d[field];
      return `${what} set to ${value}`;
    }
  }
}

/** Decision-log kinds grouped for the filter (values are the API's `kind`s). */
export const DECISION_GROUPS = {
  membership: ["MemberAdmitted", "MemberRemoved", "MemberResigned", "DelegateChanged"],
  stewards: ["StewardAppointed", "StewardRecalled"],
  proposals: ["ProposalCreated", "ProposalExtended", "ProposalQueued", "ProposalExecuted", "ProposalCanceled",
    "CallScheduled", "CallExecuted", "Cancelled"],
  votes: ["VoteCast", "VoteCastWithParams"],
  settings: ["VotingDelaySet", "VotingPeriodSet", "ProposalThresholdSet", "QuorumNumeratorUpdated",
    "LateQuorumVoteExtensionSet", "MinDelayChange", "TimelockChange"],
};
