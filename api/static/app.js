// The web client: proposals, a proposal with its votes, voting (signed ballot → relay, or a wallet
// transaction), membership and delegation, and observer pages. Views are rebuilt from the API on
// each route change; all text from the API is inserted as text, Markdown only through render.js.

import * as api from "./api.js";
import { discoverWallets, Wallet, walletErrorText } from "./wallet.js";
import { bar, bodyWithoutTitle, dateTime, duration, ether, h, renderMarkdown, shortAddress, shortHash, timeLeft, turnoutChart } from "./render.js";
import { DECISION_GROUPS, decisionWords, normCommons, normDecision, normMember, normParticipation, normProposal,
  page } from "./shapes.js";

const GOVERNOR_ABI = [
  "function castVoteWithReason(uint256 proposalId, uint8 support, string reason) returns (uint256)",
  "function getVotes(address account, uint256 timepoint) view returns (uint256)",
  "function hasVoted(uint256 proposalId, address account) view returns (bool)",
];
const MEMBERSHIP_ABI = ["function delegate(address delegatee)"];
const SUPPORT = { for: 1, against: 0, abstain: 2 };
const CHECKPOINT_ALLOWANCE = 66000n; // gas; the same allowance as governance/chain.py
const POLL_MS = 250;
const VISIBLE_TIMEOUT_MS = 60000;

const state = { config: null, wallet: null, member: null, clock: { chainTime: Date.now() / 1000, at: Date.now() } };
const $ = (id) => document.getElementById(id);
const view = () => $("view");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The chain's clock: the indexed block's time, moved on by the time since we read it (states follow it, not this device's clock). */
const chainNow = () => state.clock.chainTime + (Date.now() - state.clock.at) / 1000;
const isNotFound = (error) => error instanceof api.ApiError && error.status === 404;

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
    const commons = await readCommons();
    return { ...commons, relayer: null, relayUnavailable: error.message };
  }
}

/** The read API's overview; also sets the chain clock from the indexed block. */
async function readCommons() {
  const commons = normCommons(await api.commons());
  state.clock = { chainTime: commons.indexedTime, at: Date.now() };
  return commons;
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
    $("wallet-actions").hidden = false;
    return;
  }
  $("wallet-actions").hidden = true;
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

/** The member's record in the read API (null if never a member). */
async function memberRecord(address) {
  try {
    return normMember(await api.member(address));
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

async function handleOf(address) {
  const record = await memberRecord(address).catch(() => null);
  return record ? `@${record.handle}` : shortAddress(address);
}

/** Membership, handle and delegation of the connected account, from the read API. */
async function loadMembership() {
  const account = state.wallet.account;
  const record = await memberRecord(account);
  const panel = $("membership");
  panel.hidden = false;
  if (!record || !record.isMember) {
    state.member = { isMember: false };
    const past = record ? ` (@${record.handle} ${record.leftHow || "left"} ${dateTime(record.left)})` : "";
    panel.replaceChildren(h("p", { class: "notice", id: "member-status" },
      `This account is not a member of ${state.config.name}${past}. You can read everything here, but you cannot vote.`));
    return;
  }
  state.member = record;
  const ownVote = !record.delegate || record.delegate === account;
  const delegateName = ownVote ? "" : await handleOf(record.delegate);
  const input = h("input", { id: "delegate-to", placeholder: "0x… a member's address", autocomplete: "off",
    "aria-label": "Delegate your vote to (member address)" });
  panel.replaceChildren(
    h("p", { id: "member-status" }, "Member ", h("strong", {}, `@${record.handle}`), record.steward ? " · steward" : "",
      " · your vote: ", ownVote ? "cast by you" : h("span", { id: "delegate", title: record.delegate }, `delegated to ${delegateName}`)),
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
    const delegate = ethers.getAddress(address);
    progress.textContent = "Confirm in your wallet…";
    const membership = membershipContract(await state.wallet.signer());
    // As governance/chain.py does: a vote checkpoint written in a later second than the estimate's block takes
    // a fresh storage slot, so wallets' usual margin can run out of gas; allow for up to three of them.
    const estimate = await membership.delegate.estimateGas(delegate);
    const tx = await membership.delegate(delegate, { gasLimit: (estimate * 12n) / 10n + CHECKPOINT_ALLOWANCE });
    progress.textContent = `Sent: ${shortHash(tx.hash)}. Waiting for the chain…`;
    await waitForReceipt(tx.hash);
    progress.textContent = "Done on-chain; waiting for the public record to show it…";
    await waitUntil(async () => (await memberRecord(state.wallet.account))?.delegate === delegate);
    await loadMembership();
  } catch (error) {
    progress.textContent = `Delegation failed: ${walletErrorText(error)}`;
  }
}

/** Poll `check` until it is true (the read API follows the chain a block or so behind). */
async function waitUntil(check, timeoutMs = VISIBLE_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(POLL_MS);
  }
  throw new Error("It is on-chain but the page's data has not caught up yet; reload in a moment.");
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

/** "#/decisions?group=votes" → { page: "decisions", arg: "", params }. */
function currentRoute() {
  const [path, search] = (location.hash.slice(1) || "/").split("?");
  const [, page = "", arg = ""] = path.split("/");
  return { page, arg: decodeURIComponent(arg), params: new URLSearchParams(search || "") };
}

async function route() {
  const { page, arg, params } = currentRoute();
  const pages = { "": proposalsPage, proposal: proposalPage, decisions: decisionsPage, participation: participationPage, audit: auditPage };
  const render = pages[page] || proposalsPage;
  for (const link of document.querySelectorAll(".tabs a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#/${page === "proposal" ? "" : page}`);
  }
  try {
    await readCommons();
    const content = await render(arg, params);
    view().replaceChildren(content);
  } catch (error) {
    view().replaceChildren(h("p", { class: "error" }, `Could not load this page: ${error.message}`));
  }
}

function stateBadge(name) {
  return h("span", { class: `badge state-${name}` }, name);
}

/** When voting opens or closes, or what happened after, in words. */
function whenText(p) {
  const now = chainNow();
  if (p.state === "pending") return `voting opens in ${duration(p.snapshot - now)}`;
  if (p.state === "active") return timeLeft(p.deadline, now);
  if (p.state === "queued") return p.eta > now ? `can be carried out in ${duration(p.eta - now)}` : "ready to be carried out";
  return `voting closed ${dateTime(p.deadline)}`;
}

function tallies(p) {
  const total = p.for + p.against + p.abstain;
  const quorumProgress = p.quorum ? p.counted / p.quorum : p.quorum === 0 ? 1 : 0;
  const turnout = p.electorate ? ` · ${p.voters} of ${p.electorate} members voted` : "";
  return h("div", { class: "tallies" },
    h("div", { class: "counts" },
      h("span", { class: "for" }, `For ${p.for}`), h("span", { class: "against" }, `Against ${p.against}`),
      h("span", { class: "abstain" }, `Abstain ${p.abstain}`)),
    bar(total ? p.for / total : 0, `${p.for} of ${total} votes For`, "for"),
    h("div", { class: "quorum" },
      p.quorum === null ? "Quorum: fixed when voting opens" : `Quorum: ${p.counted} of ${p.quorum} needed${quorumProgress >= 1 ? " ✓" : ""}`,
      turnout),
    bar(quorumProgress, `Quorum ${Math.round(Math.min(quorumProgress, 1) * 100)}%`, "quorum"));
}

const STATE_FILTERS = [["", "All proposals"], ["active", "Open for voting"], ["pending", "Not open yet"],
  ["succeeded", "Passed, not queued"], ["queued", "Queued"], ["executed", "Carried out"], ["defeated", "Defeated"],
  ["canceled", "Canceled"], ["expired", "Expired"]];

function proposalCard(p) {
  return h("li", { class: "card", "data-proposal": p.id },
    h("a", { href: `#/proposal/${p.number}`, class: "title" }, h("span", { class: "number" }, `#${p.number} `), p.title),
    h("div", { class: "meta" }, stateBadge(p.state), ` ${whenText(p)}`),
    tallies(p));
}

async function proposalsPage(_arg, params) {
  const wanted = params.get("state") || "";
  const select = h("select", { id: "state-filter", "aria-label": "Show proposals",
    onchange: () => { location.hash = select.value ? `#/?state=${select.value}` : "#/"; } },
  STATE_FILTERS.map(([value, label]) => h("option", { value, selected: value === wanted }, label)));
  const cards = h("ul", { class: "cards", id: "proposals" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older proposals");
  const load = async (before) => {
    const { rows, count, next } = page(await api.proposals({ state: wanted, before, limit: 20 }), "next_before");
    cards.append(...rows.map(normProposal).map(proposalCard));
    more.hidden = next === null;
    more.onclick = () => { more.disabled = true; load(next).finally(() => { more.disabled = false; }); };
    return count;
  };
  const count = await load();
  return h("section", {},
    h("div", { class: "heading" }, h("h1", {}, "Proposals"), select),
    count ? cards : h("p", { class: "muted" }, wanted ? "No proposals in this state." : "No proposals yet."),
    more);
}

const STEP_WORDS = {
  ProposalCreated: "Proposed", ProposalExtended: "Voting extended (a late quorum gives everyone time to respond)",
  ProposalQueued: "Passed and queued in the timelock", ProposalExecuted: "Carried out by the timelock",
  ProposalCanceled: "Canceled", Cancelled: "Timelock operation cancelled",
};

/** The proposal's life in words: its events from the chain, and the voting window (past or to come). */
function timelineSteps(p) {
  const now = chainNow();
  const steps = p.timeline.filter((t) => STEP_WORDS[t.kind]).map((t) => {
    let words = STEP_WORDS[t.kind];
    if (t.kind === "ProposalExtended" && t.extendedTo) words = `Voting extended to ${dateTime(t.extendedTo)} (late quorum)`;
    if (t.kind === "ProposalQueued" && t.eta) words += `; can be carried out from ${dateTime(t.eta)}`;
    return { words, when: t.when, tx: t.tx, block: t.block };
  });
  const closed = ["canceled"].includes(p.state) ? null : { words: p.deadline > now ? "Voting closes" : "Voting closed", when: p.deadline };
  steps.push({ words: p.snapshot > now ? "Voting opens" : "Voting opened", when: p.snapshot, upcoming: p.snapshot > now });
  if (closed) steps.push({ ...closed, upcoming: p.deadline > now });
  return steps.sort((a, b) => a.when - b.when);
}

/** One proposal; `keep` are nodes (the progress of a vote just cast) to keep in its vote panel. */
async function proposalPage(ref, _params, keep = []) {
  const p = normProposal(await api.proposal(ref));
  const [proposerName, handles] = await Promise.all([handleOf(p.proposer), memberHandles()]);
  const inWords = (text) => text.replace(/0x[0-9a-fA-F]{40}/g, (address) => (handles.has(address) ? `@${handles.get(address)}` : address));
  const page = h("article", { class: "proposal", "data-proposal": p.id },
    h("p", {}, h("a", { href: "#/" }, "← All proposals")),
    h("h1", {}, h("span", { class: "number" }, `#${p.number} `), p.title),
    h("div", { class: "meta" }, stateBadge(p.state), ` ${whenText(p)}`,
      h("span", { class: "muted", title: p.proposer }, ` · proposed by ${proposerName}`)),
    tallies(p),
    h("section", { id: "vote-panel", class: "vote-panel" }),
    h("h2", {}, "The proposal"),
    h("div", { id: "proposal-text" }, renderMarkdown(bodyWithoutTitle(p.description))),
    h("h2", {}, p.actions.length === 1 ? "What it does" : `What it does (${p.actions.length} actions, in order)`),
    h("ol", { class: "actions", id: "actions" }, p.actions.map((a) => h("li", { title: a.words }, inWords(a.words)))),
    h("h2", {}, "Timeline"),
    h("ol", { class: "timeline", id: "timeline" }, timelineSteps(p).map((t) =>
      h("li", { class: t.upcoming ? "upcoming" : "" }, h("strong", {}, t.words), h("span", { class: "when" }, dateTime(t.when)),
        t.tx ? h("span", { class: "muted hash", title: t.tx }, `block ${t.block} · tx ${shortHash(t.tx)}`) : null))),
    h("h2", {}, `Votes (${p.votes.length})`),
    p.votes.length ? null : h("p", { class: "muted" }, p.state === "pending" ? "Voting has not opened yet." : "No votes yet."),
    h("ul", { class: "votes", id: "votes" }, p.votes.map((v) =>
      h("li", { "data-voter": v.voter },
        h("span", { class: `badge support-${v.support}` }, v.support), " ",
        h("strong", { title: v.voter }, v.handle ? `@${v.handle}` : shortAddress(v.voter)),
        v.weight !== 1 ? h("span", { class: "muted" }, ` (${v.weight} votes)`) : null,
        h("span", { class: "muted when" }, dateTime(v.when)),
        v.reason ? h("q", { class: "reason" }, v.reason) : null))));
  fillVotePanel(page.querySelector("#vote-panel"), p, keep);
  return page;
}

// ---------------------------------------------------------------- voting

async function fillVotePanel(panel, p, keep) {
  const say = (...text) => panel.replaceChildren(h("p", { class: "notice", id: "vote-status" }, ...text), ...keep);
  const closed = { succeeded: "it passed and waits to be queued", queued: "it passed and waits in the timelock",
    executed: "it passed and was carried out", defeated: "it was defeated", canceled: "it was canceled",
    expired: "it passed but was not carried out in time" };
  if (p.state === "pending") return say(`Voting opens ${dateTime(p.snapshot)}.`);
  if (p.state !== "active") return say(`Voting has closed: ${closed[p.state] || p.state}.`);
  const wallet = state.wallet;
  if (!wallet || !wallet.account) return say("Connect a wallet to vote.");
  if (!wallet.onChain(state.config.chain_id)) return say("Switch your wallet to the commons' network to vote.");
  const governor = new ethers.Contract(state.config.governor, GOVERNOR_ABI, wallet.reader());
  const [weight, voted] = await Promise.all([governor.getVotes(wallet.account, p.snapshot), governor.hasVoted(p.id, wallet.account)]);
  if (voted) {
    const mine = p.votes.find((v) => v.voter === wallet.account);
    const words = { for: "You voted for this proposal.", against: "You voted against this proposal.", abstain: "You abstained on this proposal." };
    return say(words[mine?.support] || "You have voted on this proposal.");
  }
  if (weight === 0n && state.member && !state.member.isMember) {
    return say(`You cannot vote on this proposal: only members of ${state.config.name} vote, and this account is not one.`);
  }
  if (weight === 0n) {
    return say(`You cannot vote on this proposal: your account had no vote when voting began (${dateTime(p.snapshot)}). ` +
      "Only members at that moment vote, and a member who delegated votes through their delegate.");
  }
  const reason = h("textarea", { id: "reason", rows: 3, maxlength: 1000, placeholder: "Why? (optional, public, kept on-chain)" });
  const direct = h("input", { type: "checkbox", id: "direct", checked: Boolean(state.config.relayUnavailable) });
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
    state.config.relayUnavailable ? h("p", { class: "muted small", title: state.config.relayUnavailable },
      "Free voting through the relay is not available right now; you can still vote from your wallet.") : null,
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
    view().replaceChildren(await proposalPage(p.id, null, [steps]));
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
  await waitUntil(async () => normProposal(await api.proposal(proposalId)).votes.some((v) => v.voter === voter));
}

// ---------------------------------------------------------------- observers

const SHOWN = 50; // entries shown per "older entries" step (read a page of the API at a time)

/** address → handle of every member, current and former (as far as one page of the API lists them). */
async function memberHandles() {
  const members = await api.members({ status: "all", limit: api.PAGE_LIMIT });
  return new Map(members.data.map(normMember).map((m) => [m.address, m.handle]));
}

/** Names for the decision log: members' handles and proposals' numbers and titles (as far as the API lists them). */
async function readNames() {
  const [handles, proposals] = await Promise.all([memberHandles(), api.proposals({ limit: api.PAGE_LIMIT })]);
  const titles = new Map(proposals.data.map(normProposal).map((p) => [p.id, p]));
  return {
    handles, titles,
    who: (address, handle) => (handle || handles.get(address) ? `@${handle || handles.get(address)}` : shortAddress(address)),
    proposal: (id) => (titles.has(id) ? `#${titles.get(id).number} “${titles.get(id).title}”` : `proposal ${shortHash(id)}`),
    duration,
  };
}

/** The API filter the "about" box names: a member (address or @handle), or a proposal by number or id with its timelock operation. */
async function resolveAbout(text, names) {
  if (!text) return {};
  if (ethers.isAddress(text)) return { member: text };
  const handle = text.replace(/^@/, "");
  for (const [address, known] of names.handles) if (known === handle) return { member: address };
  if (/^(#?\d+|0x[0-9a-f]+)$/i.test(text)) {
    const proposal = normProposal(await api.proposal(text.replace(/^#/, "")));
    return { subject: [proposal.id, proposal.timelockId].filter(Boolean) };
  }
  throw new Error(`“${text}” is neither a member (address or @handle) nor a proposal number.`);
}

function decisionItem(e, names) {
  return h("li", { "data-seq": e.seq, "data-kind": e.kind },
    h("div", {}, h("span", { class: "kind" }, e.kind), " ", decisionWords(e, names)),
    h("div", { class: "muted small" }, `${dateTime(e.when)} · block ${e.block} · #${e.seq}`,
      h("span", { class: "hash", title: e.hash }, ` · ${shortHash(e.hash)}`)));
}

async function decisionsPage(_arg, params) {
  const group = params.get("group") || "";
  const about = params.get("about") || "";
  const [names, whole] = await Promise.all([readNames(), api.decisions({ limit: 1 })]);
  const { count: total, head_hash: headHash } = whole;
  // The API does the filtering: by kind, and about a proposal (with its timelock operation) or a member.
  const filters = { kind: group ? DECISION_GROUPS[group] || [] : [], ...(await resolveAbout(about, names)) };
  const filtered = Boolean(group || about);

  const groupSelect = h("select", { name: "group", "aria-label": "Kind of decision" },
    [["", "Everything"], ["membership", "Membership"], ["stewards", "Stewards"], ["proposals", "Proposals"], ["votes", "Votes"],
      ["settings", "Settings"]].map(([value, label]) => h("option", { value, selected: value === group }, label)));
  const aboutInput = h("input", { name: "about", value: about, placeholder: "about: @handle, 0x… or proposal #",
    autocomplete: "off", "aria-label": "About a member or proposal" });
  const apply = (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries({ group: groupSelect.value, about: aboutInput.value.trim() }).filter(([, v]) => v));
    location.hash = `#/decisions${q.toString() ? `?${q}` : ""}`;
  };
  const entries = h("ol", { class: "log", id: "decision-log" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older entries");
  const status = h("p", { class: "muted small", id: "log-status" });
  // Newest first: read pages backwards from the end of the log.
  let before = total + 1;
  const loadOlder = async () => {
    const page = await api.decisions({ ...filters, before, limit: SHOWN });
    entries.append(...page.data.map(normDecision).reverse().map((e) => decisionItem(e, names)));
    before = page.next_before;
    more.hidden = before === null;
    const n = entries.children.length;
    status.textContent = filtered
      ? `${n} of ${page.count} matching ${page.count === 1 ? "entry" : "entries"} shown.`
      : `The newest ${n} of ${total} entries.`;
  };
  more.onclick = () => { more.disabled = true; loadOlder().finally(() => { more.disabled = false; }); };
  await loadOlder();
  const exportLinks = (filters, id) => [
    h("a", { href: api.decisionExportUrl("csv", filters), download: "", id: `${id}-csv` }, "CSV"), " · ",
    h("a", { href: api.decisionExportUrl("jsonl", filters), download: "", id: `${id}-jsonl` }, "JSON lines")];
  return h("section", {},
    h("h1", {}, "Decision log"),
    h("p", { class: "muted" }, "Every governance event in chain order. Each entry carries the hash of the one before it, " +
      "so a copy of the log shows any change made to it."),
    h("p", { class: "exports" }, "Download the whole log: ", ...exportLinks({}, "export"),
      h("span", { class: "muted small hash", title: headHash }, ` · head ${shortHash(headHash)}`)),
    filtered
      ? h("p", { class: "exports" }, "Download these entries (each with its own hash and its predecessor's): ",
        ...exportLinks(filters, "export-filtered"))
      : null,
    h("form", { class: "filters", onsubmit: apply }, groupSelect, aboutInput, h("button", { type: "submit" }, "Filter")),
    status, entries, more);
}

const percent = (fraction) => (fraction === null ? "–" : `${Math.round(fraction * 100)}%`);

async function participationPage() {
  const stats = normParticipation(await api.participation());
  const points = stats.perProposal.map((p) => ({ label: `#${p.number} ${p.title}`, tick: `#${p.number}`, turnout: p.turnout }));
  const regulars = [...stats.perMember].filter((m) => m.openToThem).sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0));
  return h("section", {}, h("h1", {}, "Participation"),
    h("p", { class: "muted" }, "Turnout per proposal: members who voted, of those who could when voting opened. Oldest first."),
    points.length ? turnoutChart(points) : h("p", { id: "no-turnout" }, "No proposal has opened for voting yet."),
    h("ol", { class: "legend", id: "turnout-legend" }, stats.perProposal.map((p) =>
      h("li", {}, h("a", { href: `#/proposal/${p.number}` }, `#${p.number} ${p.title}`),
        h("span", { class: "muted" }, ` ${p.voters} of ${p.electorate ?? "?"} · ${percent(p.turnout)}`)))),
    stats.overTime.length ? h("h2", {}, "By month") : null,
    stats.overTime.length ? h("table", { class: "numbers" },
      h("thead", {}, h("tr", {}, h("th", {}, "Month"), h("th", {}, "Proposals"), h("th", {}, "Votes"), h("th", {}, "Turnout"))),
      h("tbody", {}, stats.overTime.map((t) =>
        h("tr", {}, h("td", {}, t.period), h("td", {}, t.proposals), h("td", {}, t.votes), h("td", {}, percent(t.turnout)))))) : null,
    regulars.length ? h("h2", {}, "Who shows up") : null,
    h("ul", { class: "members" }, regulars.map((m) =>
      h("li", { title: m.address }, h("strong", {}, `@${m.handle}`),
        h("span", { class: "muted" }, ` voted on ${m.votes} of ${m.openToThem} · ${percent(m.rate)}`)))));
}

const SETTING_NAMES = { voting_delay: ["Voting opens after", duration], voting_period: ["Voting lasts", duration],
  timelock_delay: ["Timelock delay", duration], late_quorum_extension: ["Late-quorum extension", duration],
  quorum_numerator: ["Quorum", (v) => `${v}% of members`], proposal_threshold: ["Proposal threshold", String] };

async function auditPage() {
  const c = await readCommons();
  const upToDate = c.blocksBehind === 0;
  const fact = (label, value, cls) => [h("dt", {}, label), h("dd", { class: cls }, value)];
  return h("section", {}, h("h1", {}, "Audit status"),
    h("p", { class: upToDate ? "notice" : "warning", id: "index-status" }, upToDate
      ? `The public record has read the chain up to block ${c.indexedBlock}, the newest block it has seen.`
      : `The public record is ${c.blocksBehind} blocks behind the chain (indexed ${c.indexedBlock}, chain at ${c.headBlock}); it is catching up.`),
    h("dl", { class: "facts", id: "audit-facts" },
      fact("Last indexed block", `${c.indexedBlock} · ${dateTime(c.indexedTime)}`),
      fact("Its hash", c.indexedHash, "hash"),
      fact("Chain head seen", String(c.headBlock)),
      fact("Decision-log entries", String(c.logCount)),
      fact("Decision-log head hash", c.logHeadHash, "hash"),
      fact("Members", `${c.memberCount} (${c.formerMemberCount} former) · ${c.stewardCount} stewards`),
      fact("Proposals", `${c.proposalCount} · ${c.voteCount} votes`),
      fact("Treasury", ether(c.treasuryWei)),
      ...Object.entries(c.settings).filter(([name]) => SETTING_NAMES[name]).map(([name, value]) =>
        fact(SETTING_NAMES[name][0], SETTING_NAMES[name][1](value))),
      fact("Chain id", String(c.chain_id)),
      fact("Governor", c.governor, "hash"),
      fact("Membership", c.membership, "hash"),
      fact("Treasury (timelock)", c.timelock, "hash")),
    h("p", {}, "Pin the head hash: anyone can re-derive the whole log from the chain alone and compare, with ",
      h("code", {}, `commons audit --rpc <any RPC URL> --api ${location.origin}`), "."));
}

boot();
