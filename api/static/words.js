// What the page says for each name the Python side defines: proposal states, vote support, settings, decision-log
// kinds (all listed by /api/vocabulary; tests/test_web.py checks that every one has words here), and chains.

import { ZERO_ADDRESS } from "./shapes.js";

/** Proposal states (governance/vocabulary.py PROPOSAL_STATES): the filter's label, and what it means once voting is over. */
export const STATE_WORDS = {
  pending: { label: "Not open yet" },
  active: { label: "Open for voting" },
  canceled: { label: "Canceled", after: "it was canceled, so no decision was made" },
  defeated: { label: "Defeated", after: "it was defeated" },
  succeeded: { label: "Passed, not queued", after: "it passed and waits to be queued" },
  queued: { label: "Queued", after: "it passed and waits in the timelock" },
  expired: { label: "Expired", after: "it passed but was not carried out in time" },
  executed: { label: "Carried out", after: "it passed and was carried out" },
};

/** Vote support (governance/vocabulary.py SUPPORT), in the order the vote buttons show them. */
export const SUPPORT_WORDS = {
  for: { button: "For", done: "You voted for this proposal.", log: "voted for" },
  against: { button: "Against", done: "You voted against this proposal.", log: "voted against" },
  abstain: { button: "Abstain", done: "You abstained on this proposal.", log: "abstained on" },
};

/** The commons' settings as /api/commons names them: a label, a name for sentences, and the unit of the value. */
export const SETTING_WORDS = {
  voting_delay: { label: "Voting opens after", name: "voting delay", unit: "duration" },
  voting_period: { label: "Voting lasts", name: "voting period", unit: "duration" },
  quorum_numerator: { label: "Quorum", name: "quorum", unit: "percent" },
  late_quorum_extension: { label: "Late-quorum extension", name: "late-quorum extension", unit: "duration" },
  timelock_delay: { label: "Wait before a passed proposal is carried out", name: "timelock delay", unit: "duration" },
  proposal_threshold: { label: "Votes needed to propose", name: "proposal threshold", unit: "count" },
};

/** Decision-log kinds (contract event names) in a few words; the page keeps the event name as a tooltip. */
export const KIND_WORDS = {
  MemberAdmitted: "Member admitted", MemberRemoved: "Member removed", MemberResigned: "Member resigned",
  DelegateChanged: "Delegation", StewardAppointed: "Steward appointed", StewardRecalled: "Steward recalled",
  ProposalCreated: "Proposal", VoteCast: "Vote", VoteCastWithParams: "Vote", ProposalExtended: "Voting extended",
  ProposalQueued: "Queued", ProposalExecuted: "Carried out", ProposalCanceled: "Canceled",
  CallScheduled: "Action scheduled", CallExecuted: "Action carried out", Cancelled: "Action cancelled",
  TimelockChange: "Timelock changed", VotingDelaySet: "Setting changed", VotingPeriodSet: "Setting changed",
  ProposalThresholdSet: "Setting changed", QuorumNumeratorUpdated: "Setting changed",
  LateQuorumVoteExtensionSet: "Setting changed", MinDelayChange: "Setting changed",
  Contributed: "Contribution", TokenTracked: "Token tracked", TokenUntracked: "Token no longer tracked",
  RoleGranted: "Timelock role granted", RoleRevoked: "Timelock role revoked", OwnershipTransferred: "Registry owner",
  InitiativeDrafted: "Initiative drafted", InitiativeRevised: "Initiative revised", InitiativeWithdrawn: "Initiative withdrawn",
  SupportPosted: "Initiative supported", SupportWithdrawn: "Support withdrawn", InitiativeSubmitted: "Initiative put to a vote",
  SupportShareSet: "Setting changed", LifetimeSet: "Setting changed",
};

/** The decision-log filter's groups (keys of /api/vocabulary decision_groups). */
export const GROUP_WORDS = { treasury: "Treasury", membership: "Membership", stewards: "Stewards", proposals: "Proposals", votes: "Votes",
  settings: "Settings", power: "Roles and ownership", initiatives: "Initiatives" };

/** A setting's value in words: "3 days", "30% of members", "1". */
export function settingValue(name, value, duration) {
  const unit = SETTING_WORDS[name]?.unit;
  if (unit === "duration") return duration(value);
  if (unit === "percent") return `${value}% of members`;
  return String(value);
}

/**
 * A decision-log entry in words, from its kind and data (the chain's event arguments).
 * `names.who(address)` gives "@handle" or a short address; `names.proposal(id)` gives "#3 Title" or a short id;
 * `names.duration(seconds)` gives "3 days"; `names.support(number)` gives "for", "against" or "abstain";
 * `names.setting(kind)` gives the setting an event changes, { setting, argument }, and `names.role(id)` a timelock
 * role's name, as /api/vocabulary lists them; `names.amount(asset, amount)` gives "0.5 ETH" or "12 gUSD".
 * A timelock entry's `entry.call` (the page answer's `calls[seq]`) gives its call in words when the API read it.
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
      return `${names.who(d.voter)} ${SUPPORT_WORDS[names.support(d.support)]?.log ?? `voted ${d.support} on`} ` +
        names.proposal(d.proposalId) + (d.reason ? `: “${d.reason}”` : "");
    case "ProposalExtended": return `voting on ${names.proposal(d.proposalId)} extended (late quorum)`;
    case "ProposalQueued": return `${names.proposal(d.proposalId)} queued in the timelock`;
    case "ProposalExecuted": return `${names.proposal(d.proposalId)} carried out`;
    case "ProposalCanceled": return `${names.proposal(d.proposalId)} canceled`;
    // The API reads the timelock's calls (the page answer's `calls`, api/cache/decision_words.py): the same words as
    // the feeds and webhooks, with the proposal that decided each call or "outside the vote" when none did.
    case "CallScheduled": return entry.call?.in_words ??
      `timelock scheduled action ${Number(d.index) + 1} (waits ${names.duration(d.delay)})`;
    case "CallExecuted": return entry.call?.in_words ?? `timelock carried out action ${Number(d.index) + 1}`;
    case "Cancelled": return entry.call?.in_words ?? "timelock operation cancelled";
    case "Contributed": return `${names.who(d.contributor)} contributed ${names.amount(d.asset, d.amount)}`
      + (d.note ? ` (“${d.note}”)` : "");
    case "TokenTracked": return `the treasury now tracks the token ${names.who(d.token)}`;
    case "TokenUntracked": return `the treasury no longer tracks the token ${names.who(d.token)}`;
    case "TimelockChange": return `treasury timelock set to ${names.who(d.newTimelock)}`;
    case "RoleGranted": return `${names.who(d.account)} given the timelock's ${names.role(d.role)} role`;
    case "RoleRevoked": return `${names.who(d.account)} lost the timelock's ${names.role(d.role)} role`;
    case "OwnershipTransferred": return `membership registry now owned by ${names.who(d.newOwner)}`;
    case "InitiativeDrafted": return `${names.who(d.author)} drafted initiative ${d.id}: ${(d.description.split("\n")[0] || "").replace(/^#\s*/, "")}`;
    case "InitiativeRevised": return `initiative ${d.id} revised (revision ${d.revision}); its supporters sign again`;
    case "InitiativeWithdrawn": return `${names.who(d.author)} withdrew initiative ${d.id}`;
    case "SupportPosted": return `${names.who(d.supporter)} supports initiative ${d.id}`;
    case "SupportWithdrawn": return `${names.who(d.supporter)} withdrew their support for initiative ${d.id}`;
    case "InitiativeSubmitted": return `initiative ${d.id} by ${names.who(d.author)} put to a vote as ${names.proposal(d.proposalId)}` +
      ` with ${d.supporters.length} supporters`;
    case "SupportShareSet": return `initiatives need the support of ${Number(d.newShareBps) / 100}% of members`;
    case "LifetimeSet": return `initiatives stay open ${names.duration(d.newLifetime)}`;
    default: {
      const changed = names.setting(entry.kind);
      if (!changed) return "";
      const { setting, argument } = changed;
      return `${SETTING_WORDS[setting]?.name ?? setting} set to ${settingValue(setting, d[argument], names.duration)}`;
    }
  }
}

/** Well-known chains by id (EIP-155), and the ids local development nodes use. */
const CHAINS = {
  1: "Ethereum", 10: "OP Mainnet", 100: "Gnosis", 137: "Polygon", 8453: "Base", 42161: "Arbitrum One",
  11155111: "Sepolia testnet", 17000: "Holesky testnet", 560048: "Hoodi testnet", 10200: "Gnosis Chiado testnet",
  84532: "Base Sepolia testnet", 421614: "Arbitrum Sepolia testnet", 11155420: "OP Sepolia testnet",
  80002: "Polygon Amoy testnet", 31337: "Local test chain", 1337: "Local test chain",
};

/** "Ethereum", "Local test chain", or `unknown` for an id we do not know. */
export function chainName(id, unknown = `chain ${id}`) {
  return CHAINS[Number(id)] ?? unknown;
}

/** "Sepolia testnet (chain 11155111)", or "chain 12345" for an id we do not know. */
export function chainLabel(id) {
  return CHAINS[Number(id)] ? `${CHAINS[Number(id)]} (chain ${id})` : `chain ${id}`;
}
