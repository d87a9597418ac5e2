// The member's vote on a proposal: whether they can vote, and casting it, either as a signed ballot the relay
// sends for free (EIP-712 ExtendedBallot) or as a transaction from their own wallet.

import * as api from "../api.js";
import { ethers } from "../lib.js";
import { dateTime, fill, h, shortHash } from "../render.js";
import { normVote } from "../shapes.js";
import { POLL_MS, sleep, state, waitForReceipt, waitUntil } from "../state.js";
import { walletErrorText } from "../wallet.js";
import { STATE_WORDS, SUPPORT_WORDS } from "../words.js";

const normVoteOrNull = (v) => (v ? normVote(v) : null);

const GOVERNOR_ABI = [
  "function castVoteWithReason(uint256 proposalId, uint8 support, string reason) returns (uint256)",
  "function getVotes(address account, uint256 timepoint) view returns (uint256)",
  "function hasVoted(uint256 proposalId, address account) view returns (bool)",
];

/** Why this visitor cannot vote on `p` now, in words; null if they can. */
async function cannotVote(p) {
  if (p.state === "pending") return `Voting opens ${dateTime(p.snapshot)}.`;
  if (p.state === "canceled") return "There is no vote on this proposal: it was canceled.";
  if (p.state !== "active") return `Voting has closed: ${STATE_WORDS[p.state]?.after ?? p.state}.`;
  const wallet = state.wallet;
  if (!wallet || !wallet.account) return "Connect a wallet to vote.";
  if (!wallet.onChain(state.config.chain_id)) return "Switch your wallet to the commons' network to vote.";
  const governor = new ethers.Contract(state.config.governor, GOVERNOR_ABI, wallet.reader());
  const [weight, voted] = await Promise.all([governor.getVotes(wallet.account, p.snapshot), governor.hasVoted(p.id, wallet.account)]);
  if (voted) {
    const mine = p.votes.find((v) => v.voter === wallet.account) ?? normVoteOrNull(await api.voteOf(p.id, wallet.account));
    return SUPPORT_WORDS[mine?.support]?.done ?? "You have voted on this proposal.";
  }
  if (weight === 0n && state.member && !state.member.isMember) {
    return `You cannot vote on this proposal: only members of ${state.config.name} vote, and this account is not one.`;
  }
  if (weight === 0n) {
    return `You cannot vote on this proposal: your account had no vote when voting began (${dateTime(p.snapshot)}). ` +
      "Only members at that moment vote, and a member who delegated votes through their delegate.";
  }
  return null;
}

/**
 * Fill the vote panel of proposal `p`: why the visitor cannot vote, or the ballot form. `keep` are nodes to keep
 * in it; `onCounted(steps)` is called once a vote just cast is visible in the public record.
 */
export async function fillVotePanel(panel, p, keep, onCounted) {
  const why = await cannotVote(p);
  if (why) return fill(panel, h("p", { class: "notice", id: "vote-status" }, why), keep);
  const reason = h("textarea", { id: "reason", rows: 3, maxlength: 1000, placeholder: "Why? (optional, public, kept on-chain)" });
  const direct = h("input", { type: "checkbox", id: "direct", checked: Boolean(state.config.relayUnavailable) });
  const steps = h("ol", { class: "progress", id: "vote-progress", "aria-live": "polite" });
  const cast = (support) => castVote(p, support, { reason: reason.value.trim(), direct: direct.checked, steps, buttons, onCounted });
  const buttons = Object.entries(SUPPORT_WORDS).map(([support, words]) =>
    h("button", { type: "button", class: `vote ${support}`, "data-support": support, onclick: () => cast(support) }, words.button));
  return fill(panel,
    h("h2", {}, "Your vote"),
    h("label", { for: "reason" }, "Reason"), reason,
    h("div", { class: "choices" }, buttons),
    h("label", { class: "check" }, direct, " Send it from my wallet myself (pays gas) instead of a free signed ballot"),
    state.config.relayUnavailable ? h("p", { class: "muted small", title: state.config.relayUnavailable },
      "Free voting through the relay is not available right now; you can still vote from your wallet.") : null,
    steps);
}

async function castVote(p, support, { reason, direct, steps, buttons, onCounted }) {
  const step = (text, kind = "") => {
    const item = h("li", { class: kind }, text);
    steps.append(item);
    return item;
  };
  buttons.forEach((b) => { b.disabled = true; });
  steps.replaceChildren();
  try {
    const txHash = direct ? await voteFromWallet(p, support, reason, step) : await voteByBallot(p, support, reason, step);
    step("Waiting for the vote to appear in the tallies…");
    await waitUntil(async () => (await api.voteOf(p.id, state.wallet.account)) !== null);
    step(`Your vote is counted and visible to everyone (tx ${shortHash(txHash)}).`, "done").id = "vote-visible";
    await onCounted(steps);
  } catch (error) {
    step(error instanceof api.ApiError ? `The relay refused: ${error.message}` : walletErrorText(error), "error").id = "vote-error";
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** Show the transaction that carries the vote as a progress step (#vote-tx, for the member and for tests). */
function sentIn(step, txHash) {
  const sent = step(`Sent in transaction ${txHash}`);
  sent.id = "vote-tx";
  sent.dataset.tx = txHash;
}

/** Sign an EIP-712 ExtendedBallot (free) and hand it to the relay; returns the hash of the transaction that counted it. */
async function voteByBallot(p, support, reason, step) {
  const account = state.wallet.account;
  step("Preparing your ballot…");
  const typed = await api.ballotTypedData(p.id, support, account, reason);
  step("Sign the ballot in your wallet. Signing is free; the commons pays the gas.");
  const signature = await state.wallet.signTypedData(typed);
  step("Sending your signed ballot to the relay…");
  const ticket = await api.submitBallot({ proposal_id: p.id, support, voter: account, nonce: typed.message.nonce,
    reason, signature });
  if (ticket.tx_hash) sentIn(step, ticket.tx_hash);
  else step("The relay has your ballot and will send it with the next batch.");
  for (let t = ticket; ; t = await api.ballotStatus(ticket.id)) {
    if (t.status === "counted") {
      if (t.tx_hash !== ticket.tx_hash) sentIn(step, t.tx_hash); // another transaction (anyone may send a signed ballot)
      step(`Counted on-chain in block ${t.block_number}.`);
      return t.tx_hash;
    }
    if (t.status === "refused") throw new api.ApiError(422, t.error, t.status);
    await sleep(POLL_MS);
  }
}

/** Send castVoteWithReason from the member's wallet (they pay the gas); returns the transaction hash. */
async function voteFromWallet(p, support, reason, step) {
  step("Confirm the transaction in your wallet…");
  const governor = new ethers.Contract(state.config.governor, GOVERNOR_ABI, await state.wallet.signer());
  const tx = await governor.castVoteWithReason(p.id, state.vocabulary.support[support], reason);
  sentIn(step, tx.hash);
  const receipt = await waitForReceipt(tx.hash);
  step(`Recorded on-chain in block ${Number(receipt.blockNumber)}.`);
  return tx.hash;
}
