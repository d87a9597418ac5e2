// The web client: proposals, a proposal with its votes, voting (signed ballot → relay, or a wallet
// transaction), membership and delegation, and observer pages. Views are rebuilt from the API on
// each route change; all text from the API is inserted as text, Markdown only through render.js.

import * as api from "./api.js";
import { discoverWallets, Wallet, walletErrorText } from "./wallet.js";
import { bar, bodyWithoutTitle, dateTime, h, renderMarkdown, shortAddress, shortHash, timeLeft, turnoutChart } from "./render.js";
import { list, normCommons, normDecision, normProposal, normVote } from "./shapes.js";

const GOVERNOR_ABI = [
  "function castVoteWithReason(uint256 proposalId, uint8 support, string reason) returns (uint256)",
  "function getVotes(address account, uint256 timepoint) view returns (uint256)",
  "function hasVoted(uint256 proposalId, address account) view returns (bool)",
];
const MEMBERSHIP_ABI = [
  "function isMember(address account) view returns (bool)",
  "function handleOf(address account) view returns (string)",
  "function delegates(address account) view returns (address)",
  "function delegate(address delegatee)",
];
const SUPPORT = { for: 1, against: 0, abstain: 2 };
const POLL_MS = 250;
const VISIBLE_TIMEOUT_MS = 60000;

const state = { config: null, wallet: null, member: null };
const $ = (id) => document.getElementById(id);
const view = () => $("view");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- start

async function boot() {
  try {
    state.config = await loadConfig();
    $("commons-name").textContent = state.config.name;
    document.title = state.config.name;
  } catch (error) {
    view().replaceChildren(h("p", { class: "error" }, `The commons could not be loaded: ${error.message}`));
    return;
  }
  $("connect").addEventListener("click", chooseWallet);
  $("switch-chain").addEventListener("click", switchChain);
  window.addEventListener("hashchange", route);
  route();
}

/** Chain and addresses from the relay's config, else from the read API's overview. */
async function loadConfig() {
  try {
    return await api.relayConfig();
  } catch (error) {
    const commons = normCommons(await api.commons());
    return { ...commons, relayer: null, relayUnavailable: error.message };
  }
}

// ---------------------------------------------------------------- wallet

async function chooseWallet() {
  const box = $("wallet-choices");
  box.hidden = true;
  setWalletStatus("Looking for wallets…");
  const wallets = await discoverWallets();
  if (!wallets.length) {
    setWalletStatus("No wallet found in this browser. Install one (MetaMask or any EIP-1193 wallet) to vote; everything here can be read without one.");
    return;
  }
  if (wallets.length === 1) return connectWallet(wallets[0]);
  box.replaceChildren(h("p", {}, "Choose a wallet:"), ...wallets.map((w) =>
    h("button", { type: "button", onclick: () => { box.hidden = true; connectWallet(w); } }, w.info.name)));
  box.hidden = false;
}

async function connectWallet({ info, provider }) {
  try {
    setWalletStatus(`Connecting to ${info.name}…`);
    state.wallet = await new Wallet(provider, info.name).connect();
    state.wallet.watch(() => { refreshWallet(); route(); });
    await refreshWallet();
    route();
  } catch (error) {
    state.wallet = null;
    setWalletStatus(`Could not connect: ${walletErrorText(error)}`);
  }
}

function setWalletStatus(text) {
  $("wallet-status").textContent = text;
}

/** Account, chain warning and membership panel for the current wallet state. */
async function refreshWallet() {
  const wallet = state.wallet;
  state.member = null;
  $("membership").hidden = true;
  if (!wallet || !wallet.account) {
    setWalletStatus("No wallet connected.");
    $("connect").hidden = false;
    return;
  }
  $("connect").hidden = true;
  setWalletStatus(`Connected: ${shortAddress(wallet.account)} (${wallet.name})`);
  $("wallet-status").title = wallet.account;
  const wrongChain = !wallet.onChain(state.config.chain_id);
  $("chain-warning").hidden = !wrongChain;
  if (wrongChain) {
    $("chain-warning-text").textContent = `Your wallet is on chain ${wallet.chainId}, but ${state.config.name} lives on chain ${state.config.chain_id}. Switch networks to vote.`;
    return;
  }
  await loadMembership();
}

async function switchChain() {
  try {
    await state.wallet.switchTo(state.config);
    await refreshWallet();
    route();
  } catch (error) {
    $("chain-warning-text").textContent = `The wallet did not switch: ${walletErrorText(error)}`;
  }
}

function membershipContract(runner) {
  return new ethers.Contract(state.config.membership, MEMBERSHIP_ABI, runner);
}

async function loadMembership() {
  const account = state.wallet.account;
  const membership = membershipContract(state.wallet.reader());
  const isMember = await membership.isMember(account);
  const panel = $("membership");
  panel.hidden = false;
  if (!isMember) {
    state.member = { isMember: false };
    panel.replaceChildren(h("p", { class: "notice", id: "member-status" },
      `This account is not a member of ${state.config.name}. You can read everything here, but you cannot vote.`));
    return;
  }
  const [handle, delegate] = await Promise.all([membership.handleOf(account), membership.delegates(account)]);
  state.member = { isMember: true, handle, delegate };
  const ownVote = delegate.toLowerCase() === account.toLowerCase();
  const input = h("input", { id: "delegate-to", placeholder: "0x… a member's address", autocomplete: "off",
    "aria-label": "Delegate your vote to (member address)" });
  panel.replaceChildren(
    h("p", { id: "member-status" }, "Member ", h("strong", {}, `@${handle}`), " · your vote: ",
      ownVote ? "cast by you" : h("span", { title: delegate }, `delegated to ${shortAddress(delegate)}`)),
    h("details", { class: "delegation" },
      h("summary", {}, ownVote ? "Delegate your vote" : "Change delegation"),
      h("form", { onsubmit: (e) => { e.preventDefault(); delegateTo(input.value.trim()); } },
        input, h("button", { type: "submit" }, "Delegate")),
      ownVote ? null : h("button", { type: "button", onclick: () => delegateTo(account) }, "Take my vote back"),
      h("p", { class: "muted", id: "delegate-progress" },
        "Delegating is a transaction from your wallet (it costs a little gas). You can take it back at any time.")));
}

async function delegateTo(address) {
  const progress = $("delegate-progress");
  if (!ethers.isAddress(address)) {
    progress.textContent = "That is not an address (0x followed by 40 hex digits).";
    return;
  }
  try {
    progress.textContent = "Confirm in your wallet…";
    const membership = membershipContract(await state.wallet.signer());
    const tx = await membership.delegate(ethers.getAddress(address));
    progress.textContent = `Sent: ${shortHash(tx.hash)}. Waiting for the chain…`;
    await waitForReceipt(tx.hash);
    await loadMembership();
  } catch (error) {
    progress.textContent = `Delegation failed: ${walletErrorText(error)}`;
  }
}

async function waitForReceipt(hash) {
  for (;;) {
    const receipt = await state.wallet.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) {
      if (Number(receipt.status) !== 1) throw new Error(`transaction ${hash} failed on-chain`);
      return receipt;
    }
    await sleep(POLL_MS);
  }
}

// ---------------------------------------------------------------- routes

async function route() {
  const [, page, arg] = (location.hash || "#/").split("/");
  const pages = { "": proposalsPage, proposal: proposalPage, decisions: decisionsPage, participation: participationPage, audit: auditPage };
  const render = pages[page] || proposalsPage;
  for (const link of document.querySelectorAll(".tabs a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#/${page === "proposal" ? "" : page}`);
  }
  try {
    const content = await render(decodeURIComponent(arg || ""));
    view().replaceChildren(content);
  } catch (error) {
    view().replaceChildren(h("p", { class: "error" }, `Could not load this page: ${error.message}`));
  }
}

function stateBadge(name) {
  return h("span", { class: `badge state-${name}` }, name);
}

function tallies(p) {
  const total = p.for + p.against + p.abstain;
  const quorumProgress = p.quorum ? (p.for + p.abstain) / p.quorum : 1;
  return h("div", { class: "tallies" },
    h("div", { class: "counts" },
      h("span", { class: "for" }, `For ${p.for}`), h("span", { class: "against" }, `Against ${p.against}`),
      h("span", { class: "abstain" }, `Abstain ${p.abstain}`)),
    bar(total ? p.for / total : 0, `${p.for} of ${total} votes For`, "for"),
    h("div", { class: "quorum" }, `Quorum: ${p.for + p.abstain} of ${p.quorum} needed`,
      quorumProgress >= 1 ? " ✓" : ""),
    bar(quorumProgress, `Quorum ${Math.round(Math.min(quorumProgress, 1) * 100)}%`, "quorum"));
}

async function proposalsPage() {
  const proposals = list(await api.proposals()).map(normProposal);
  if (!proposals.length) return h("p", { class: "muted" }, "No proposals yet.");
  proposals.sort((a, b) => Number(b.created) - Number(a.created));
  return h("section", {}, h("h1", {}, "Proposals"), h("ul", { class: "cards" }, proposals.map((p) =>
    h("li", { class: "card" },
      h("a", { href: `#/proposal/${p.id}`, class: "title" }, p.title),
      h("div", { class: "meta" }, stateBadge(p.state),
        p.state === "active" ? ` ${timeLeft(p.deadline)}` : p.state === "pending" ? ` opens ${dateTime(p.snapshot)}` : ""),
      tallies(p)))));
}

/** One proposal; `keep` are nodes (the progress of a vote just cast) to keep in its vote panel. */
async function proposalPage(id, keep = []) {
  const p = normProposal(await api.proposal(id));
  const votes = p.votes ?? list(await api.proposalVotes(id).catch(() => [])).map(normVote);
  const page = h("article", { class: "proposal", "data-proposal": p.id },
    h("p", {}, h("a", { href: "#/" }, "← All proposals")),
    h("h1", {}, p.title),
    h("div", { class: "meta" }, stateBadge(p.state), " ",
      p.state === "active" ? timeLeft(p.deadline) : `voting ${dateTime(p.snapshot)} – ${dateTime(p.deadline)}`,
      h("span", { class: "muted" }, ` · proposed by ${shortAddress(p.proposer)}`)),
    tallies(p),
    h("section", { id: "vote-panel", class: "vote-panel" }),
    h("h2", {}, "The proposal"),
    h("div", { id: "proposal-text" }, renderMarkdown(bodyWithoutTitle(p.description))),
    h("h2", {}, "What it does"),
    h("ol", { class: "actions" }, p.actions.map((a) => h("li", {}, a))),
    h("h2", {}, "Timeline"),
    h("ol", { class: "timeline" }, p.timeline.map((t) =>
      h("li", {}, h("strong", {}, t.step), ` ${dateTime(t.when)}`, t.tx ? h("span", { class: "muted" }, ` · tx ${shortHash(t.tx)}`) : ""))),
    h("h2", {}, `Votes (${votes.length})`),
    h("ul", { class: "votes", id: "votes" }, votes.map((v) =>
      h("li", { "data-voter": v.voter },
        h("span", { class: `badge support-${v.support}` }, v.support), " ",
        h("strong", {}, v.handle ? `@${v.handle}` : shortAddress(v.voter)),
        v.reason ? h("q", { class: "reason" }, v.reason) : null))));
  fillVotePanel(page.querySelector("#vote-panel"), p, keep);
  return page;
}

// ---------------------------------------------------------------- voting

async function fillVotePanel(panel, p, keep) {
  const say = (...text) => panel.replaceChildren(h("p", { class: "notice", id: "vote-status" }, ...text), ...keep);
  if (p.state !== "active") return say(p.state === "pending" ? `Voting opens ${dateTime(p.snapshot)}.` : "Voting has closed.");
  const wallet = state.wallet;
  if (!wallet || !wallet.account) return say("Connect a wallet to vote.");
  if (!wallet.onChain(state.config.chain_id)) return say("Switch your wallet to the commons' network to vote.");
  const governor = new ethers.Contract(state.config.governor, GOVERNOR_ABI, wallet.reader());
  const [weight, voted] = await Promise.all([governor.getVotes(wallet.account, p.snapshot), governor.hasVoted(p.id, wallet.account)]);
  if (voted) return say("You have voted on this proposal.");
  if (weight === 0n) {
    return say(`You cannot vote on this proposal: your account had no vote when voting began (${dateTime(p.snapshot)}). ` +
      "Only members at that moment vote, and a member who delegated votes through their delegate.");
  }
  const reason = h("textarea", { id: "reason", rows: 3, maxlength: 1000, placeholder: "Why? (optional, public, kept on-chain)" });
  const direct = h("input", { type: "checkbox", id: "direct" });
  const steps = h("ol", { class: "progress", id: "vote-progress", "aria-live": "polite" });
  const buttons = Object.keys(SUPPORT).map((support) =>
    h("button", { type: "button", class: `vote ${support}`, "data-support": support,
      onclick: () => castVote(p, support, reason.value.trim(), direct.checked, steps, buttons) },
    support[0].toUpperCase() + support.slice(1)));
  panel.replaceChildren(
    h("h2", {}, "Your vote"),
    h("label", { for: "reason" }, "Reason"), reason,
    h("div", { class: "choices" }, buttons),
    h("label", { class: "check" }, direct, " Send it from my wallet myself (pays gas) instead of a free signed ballot"),
    steps);
}

async function castVote(p, support, reason, direct, steps, buttons) {
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
    await waitUntilVisible(p.id, state.wallet.account);
    step(`Your vote is counted and visible to everyone (tx ${shortHash(txHash)}).`, "done").id = "vote-visible";
    view().replaceChildren(await proposalPage(p.id, [steps]));
  } catch (error) {
    step(error instanceof api.ApiError ? `The relay refused: ${error.message}` : walletErrorText(error), "error").id = "vote-error";
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/** Sign an EIP-712 ExtendedBallot (free) and hand it to the relay; returns the transaction hash. */
async function voteByBallot(p, support, reason, step) {
  const account = state.wallet.account;
  step("Preparing your ballot…");
  const typed = await api.ballotTypedData(p.id, support, account, reason);
  step("Sign the ballot in your wallet. Signing is free; the commons pays the gas.");
  const signature = await state.wallet.signTypedData(typed);
  step("Sending your signed ballot to the relay…");
  const ticket = await api.submitBallot({ proposal_id: p.id, support, voter: account, nonce: typed.message.nonce,
    reason, signature });
  const sent = step(`Sent in transaction ${ticket.tx_hash}`);
  sent.id = "vote-tx";
  sent.dataset.tx = ticket.tx_hash;
  for (let t = ticket; ; t = await api.ballotStatus(ticket.id)) {
    if (t.status === "mined") { step(`Recorded on-chain in block ${t.block_number}.`); break; }
    if (t.status === "dropped" || t.status === "failed") throw new api.ApiError(422, t.error, t.status);
    await sleep(POLL_MS);
  }
  return ticket.tx_hash;
}

/** Send castVoteWithReason from the member's wallet (they pay the gas); returns the transaction hash. */
async function voteFromWallet(p, support, reason, step) {
  step("Confirm the transaction in your wallet…");
  const governor = new ethers.Contract(state.config.governor, GOVERNOR_ABI, await state.wallet.signer());
  const tx = await governor.castVoteWithReason(p.id, SUPPORT[support], reason);
  const sent = step(`Sent in transaction ${tx.hash}`);
  sent.id = "vote-tx";
  sent.dataset.tx = tx.hash;
  const receipt = await waitForReceipt(tx.hash);
  step(`Recorded on-chain in block ${Number(receipt.blockNumber)}.`);
  return tx.hash;
}

/** Poll the read API until the voter's vote is among the proposal's votes. */
async function waitUntilVisible(proposalId, voter) {
  const deadline = Date.now() + VISIBLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const p = normProposal(await api.proposal(proposalId));
    const votes = p.votes ?? list(await api.proposalVotes(proposalId)).map(normVote);
    if (votes.some((v) => v.voter.toLowerCase() === voter.toLowerCase())) return;
    await sleep(POLL_MS);
  }
  throw new Error("The vote is on-chain but the page's data has not caught up yet; reload in a moment.");
}

// ---------------------------------------------------------------- observers

async function decisionsPage() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const filters = { kind: params.get("kind") || "", proposal_id: params.get("proposal_id") || "", actor: params.get("actor") || "" };
  const entries = list(await api.decisions(filters)).map(normDecision);
  const kind = h("input", { name: "kind", value: filters.kind, placeholder: "kind, e.g. VoteCast" });
  const proposal = h("input", { name: "proposal_id", value: filters.proposal_id, placeholder: "proposal id" });
  const actor = h("input", { name: "actor", value: filters.actor, placeholder: "member address" });
  const apply = (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries({ kind: kind.value, proposal_id: proposal.value, actor: actor.value }).filter(([, v]) => v));
    location.hash = `#/decisions?${q}`;
  };
  return h("section", {},
    h("h1", {}, "Decision log"),
    h("p", { class: "muted" }, "Every governance event in chain order; each entry carries the hash of the one before it, so an exported log shows any tampering."),
    h("form", { class: "filters", onsubmit: apply }, kind, proposal, actor, h("button", { type: "submit" }, "Filter")),
    h("p", {}, "Export: ", h("a", { href: api.decisionExportUrl("csv", filters), download: "" }, "CSV"), " · ",
      h("a", { href: api.decisionExportUrl("jsonl", filters), download: "" }, "JSON lines")),
    h("ol", { class: "log" }, entries.map((e) =>
      h("li", {}, h("strong", {}, e.kind), ` ${e.summary} `,
        h("span", { class: "muted" }, `${dateTime(e.when)} · block ${e.block} · ${shortHash(e.hash)}`)))));
}

async function participationPage() {
  const stats = await api.participation();
  const points = (stats.proposals || stats.data || stats).map((s) => ({
    label: s.title || s.proposal_id, when: dateTime(s.created_at ?? s.snapshot), turnout: Number(s.turnout ?? 0),
  }));
  return h("section", {}, h("h1", {}, "Participation"),
    h("p", { class: "muted" }, "Turnout per proposal (members who voted, of those who could), oldest first."),
    points.length ? turnoutChart(points) : h("p", {}, "No proposals yet."),
    h("ol", { class: "legend" }, points.map((pt) => h("li", {}, `${pt.label}: ${Math.round(pt.turnout * 100)}%`))));
}

async function auditPage() {
  const c = normCommons(await api.commons());
  const behind = c.chain_head != null && c.indexed_block != null ? c.chain_head - c.indexed_block : null;
  return h("section", {}, h("h1", {}, "Audit status"),
    h("dl", { class: "facts" },
      h("dt", {}, "Last indexed block"), h("dd", {}, String(c.indexed_block ?? "–")),
      h("dt", {}, "Chain head"), h("dd", {}, String(c.chain_head ?? "–")),
      h("dt", {}, "Behind"), h("dd", {}, behind === null ? "–" : `${behind} blocks`),
      h("dt", {}, "Decision-log head hash"), h("dd", { class: "hash" }, c.head_hash || "–"),
      h("dt", {}, "Governor"), h("dd", { class: "hash" }, c.governor),
      h("dt", {}, "Membership"), h("dd", { class: "hash" }, c.membership),
      h("dt", {}, "Treasury (timelock)"), h("dd", { class: "hash" }, c.timelock)),
    h("p", {}, "Check it yourself, from the chain alone: ", h("code", {}, "commons audit --rpc <any RPC URL> --api <this site>")));
}

boot();
