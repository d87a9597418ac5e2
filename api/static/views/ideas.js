// The Ideas view: members' initiatives with their progress toward the support they need, one initiative with its
// text, actions and supporters, a form to draft one (text with a live preview, actions from the commons' vocabulary
// with members by @handle), "Support" (sign the exact proposal in the wallet) and "Put it to a vote" once enough
// members support it; for its author "Revise" (the draft form again, filled with the current text and actions) and
// "Withdraw"; for a supporter "Withdraw my support" (a wallet transaction: the contract has no signed variant).
// Drafts, revisions, withdrawals and supports are signed in the wallet and sent by the relay for free
// (api/routes/relay.py); when the relay cannot (not set up, out of funds, the member's free actions of the day used)
// the wallet sends the same thing itself.

import * as api from "../api.js";
import { ethers } from "../lib.js";
import { bar, dateTime, h, proposalBody, renderMarkdown, shortAddress, shortHash } from "../render.js";
import { addressOfHandle, gasLimit, memberHandles, POLL_MS, sleep, state, waitForReceipt, waitUntil } from "../state.js";
import { walletErrorText } from "../wallet.js";

const INITIATIVES_ABI = [
  "function draft(address[] targets, uint256[] values, bytes[] calldatas, string description) returns (uint256)",
  "function revise(uint256 id, address[] targets, uint256[] values, bytes[] calldatas, string description)",
  "function withdraw(uint256 id)",
  "function postSupport(uint256 id, address supporter, uint256 expiry, bytes signature)",
  "function withdrawSupport(uint256 id)",
  "function submit(uint256 id, address[] targets, uint256[] values, bytes[] calldatas, string description, (address supporter, uint256 expiry, bytes signature)[] signatures) returns (uint256)",
  "function supportNonce(uint256 id, address supporter) view returns (uint256)",
  // Its custom errors, so ethers decodes a wallet's refusal into a name and arguments (revertWords says them).
  "error InitiativesNotMember(address account)",
  "error InitiativesUnknown(uint256 id)",
  "error InitiativesNotAuthor(uint256 id, address account, address author)",
  "error InitiativesNotOpen(uint256 id, uint8 status)",
  "error InitiativesAlreadySubmitted(uint256 id, uint256 proposalId)",
  "error InitiativesExpired(uint256 id, uint256 expiredAt)",
  "error InitiativesInvalidActions(uint256 targets, uint256 values, uint256 calldatas)",
  "error InitiativesProposalDiffers(uint256 id, uint256 revision)",
  "error InitiativesAuthorSigned(uint256 id, address account)",
  "error InitiativesSignatureExpired(address supporter, uint256 expiry)",
  "error InitiativesSupportWithdrawn(uint256 id, address supporter)",
  "error InitiativesInvalidSignature(uint256 id, uint256 revision, address supporter)",
  "error InitiativesSupportShort(uint256 id, uint256 count, uint256 needed)",
  "error InitiativesDeadlinePassed(address author, uint256 deadline)",
  "error InitiativesNonceUsed(address author, uint256 nonce)",
  "error InitiativesInvalidAuthorSignature(address author)",
];
// governance/reverts.py SENTENCES for the Initiatives contract's errors (args as ethers decodes them).
const REVERT_WORDS = {
  InitiativesNotMember: ([a]) => `only members draft, revise or support initiatives, and ${a} is not a member now`,
  InitiativesUnknown: ([id]) => `there is no initiative ${id}`,
  InitiativesNotAuthor: ([id, a, author]) => `only the author ${author} may change initiative ${id}; ${a} is not its author`,
  InitiativesNotOpen: ([id]) => `initiative ${id} is no longer open (it was withdrawn)`,
  InitiativesAlreadySubmitted: ([id]) => `initiative ${id} was already put to a vote; a signature never serves a second proposal`,
  InitiativesExpired: ([id, at]) => `initiative ${id} expired on ${dateTime(at)} without enough support; its author may draft it again`,
  InitiativesInvalidActions: () => "an initiative needs at least one action, with as many values and calldatas as targets",
  InitiativesProposalDiffers: ([id, r]) => `these actions or this text are not those of initiative ${id} as its revision ${r} says`,
  InitiativesAuthorSigned: ([id, a]) => `${a} is the author of initiative ${id}, whose support is counted already`,
  InitiativesSignatureExpired: ([a, at]) => `the signature of support by ${a} expired on ${dateTime(at)}; they may sign again`,
  InitiativesSupportWithdrawn: ([id, a]) => `${a} withdrew the support this signature gave to initiative ${id}`,
  InitiativesInvalidSignature: ([id, r, a]) => `the signature is not ${a}'s support for revision ${r} of initiative ${id} with these actions and text`,
  InitiativesSupportShort: ([id, count, needed]) => `initiative ${id} has ${count} supporters (the author included) but needs ${needed}`,
  InitiativesDeadlinePassed: ([a, at]) => `the signature by ${a} was usable until ${dateTime(at)}, which has passed; sign it again`,
  InitiativesNonceUsed: ([a]) => `this signature by ${a} was already used: a signed draft, revision or withdrawal is used once`,
  InitiativesInvalidAuthorSignature: ([a]) => `the signature is not ${a}'s for this draft, revision or withdrawal, in this commons and on this chain`,
};

/** "The Initiatives contract refuses: …" for a revert ethers decoded (an estimate or a call); null for anything else. */
function revertWords(error) {
  const revert = error?.revert;
  const words = revert && REVERT_WORDS[revert.name];
  return words ? `The Initiatives contract refuses: ${words([...revert.args])}.` : null;
}
// governance/initiatives.py SUPPORT_TYPES: the one definition the CLI, the API and this page sign.
const SUPPORT_TYPES = {
  Support: [
    { name: "initiative", type: "uint256" },
    { name: "revision", type: "uint256" },
    { name: "supporter", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "proposal", type: "Proposal" },
    { name: "expiry", type: "uint256" },
  ],
  Proposal: [
    { name: "targets", type: "address[]" },
    { name: "values", type: "uint256[]" },
    { name: "calldatas", type: "bytes[]" },
    { name: "descriptionHash", type: "bytes32" },
  ],
};
const SUPPORT_DAYS = 14;

const who = (address, handle) => (handle ? `@${handle}` : shortAddress(address));
const api_initiatives = (params) => fetchJson("/api/initiatives" + (params ? `?${new URLSearchParams(params)}` : ""));

async function fetchJson(path, post) {
  const options = post === undefined ? {} : { method: "POST", body: JSON.stringify(post) };
  const response = await fetch(path, {
    ...options, headers: { Accept: "application/json", ...(post === undefined ? {} : { "Content-Type": "application/json" }) },
  });
  const body = await response.json().catch(() => ({ detail: `The server answered ${response.status}.` }));
  if (!response.ok) {
    const detail = Array.isArray(body.detail) ? body.detail.map((d) => d.msg).join("; ") : body.detail;
    throw new api.ApiError(response.status, detail, body.code);
  }
  return body;
}

// The relay cannot send it for the member now (not set up or out of funds: 503; free actions used: 429; more text
// than a free action carries: 413); their wallet can. Any other refusal (not a member, a bad signature, the contract
// would refuse) holds for the wallet too.
const walletInstead = (error) => error instanceof api.ApiError && [413, 429, 503].includes(error.status);

/** Hand a signed act to the relay (free) and follow it until it is done; returns the ticket, or throws ApiError. */
async function relayAct(body, progress) {
  progress.textContent = "Sending your signature to the relay (free: the commons pays the gas)…";
  let ticket = await fetchJson("/api/relay/initiatives", body);
  while (ticket.status === "queued" || ticket.status === "sent") {
    if (ticket.tx_hash) progress.textContent = `The relay sent it: ${shortHash(ticket.tx_hash)}. Waiting for the chain…`;
    await sleep(POLL_MS);
    ticket = await fetchJson(`/api/relay/initiatives/${ticket.id}`);
  }
  if (ticket.status === "refused") throw new api.ApiError(422, ticket.error, "refused");
  return ticket;
}

/** "The relay cannot send it for you (why). Your wallet will: …" */
function fallingBack(progress, error) {
  progress.dataset.relayRefused = error.message;
  progress.textContent = `The relay cannot send it for you (${error.message}) Send it from your wallet instead: confirm in your wallet…`;
}

function progressBar(i) {
  return h("p", { class: "progress" }, bar(Math.min(1, i.support_count / i.needed), i.progress, i.threshold_met ? "met" : ""),
    " ", h("span", { class: "initiative-progress-words" }, i.progress));
}

function card(i) {
  return h("li", { class: "card", "data-initiative": i.id },
    h("a", { href: `#/ideas/${i.id}` }, h("strong", {}, i.title)),
    h("p", { class: "muted" }, `By ${who(i.author, i.author_handle)} · ${i.status_words}`),
    progressBar(i));
}

async function send(progress, action) {
  try {
    if (!state.wallet) throw new Error("Connect a wallet first (above).");
    progress.textContent = "Confirm in your wallet…";
    const tx = await action(await state.wallet.signer());
    if (tx.relayed) return tx; // the relay's transaction, already mined
    progress.textContent = `Sent: ${shortHash(tx.hash)}. Waiting for the chain…`;
    await waitForReceipt(tx.hash);
    return tx;
  } catch (error) {
    const words = revertWords(error)
      ?? (error instanceof api.ApiError || (error instanceof Error && !error.code) ? error.message : walletErrorText(error));
    progress.textContent = `Failed: ${words}`;
    return null;
  }
}

function contract(address, signer) {
  return new ethers.Contract(address, INITIATIVES_ABI, signer);
}

function supportTypedData(i, address, supporter, nonce, expiry) {
  return {
    types: { EIP712Domain: [
      { name: "name", type: "string" }, { name: "version", type: "string" },
      { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" }], ...SUPPORT_TYPES },
    primaryType: "Support",
    domain: { name: state.config.name, version: "1", chainId: state.config.chain_id, verifyingContract: address },
    message: {
      initiative: String(i.id), revision: String(i.revision), supporter, nonce: nonce.toString(),
      proposal: { targets: i.targets, values: i.values, calldatas: i.calldatas, descriptionHash: ethers.id(i.description) },
      expiry: expiry.toString(),
    },
  };
}

/** A typed-data proposal in one spelling (addresses and hex in lower case, values in decimal), to compare two. */
function proposalKey(p) {
  const lower = (xs) => xs.map((x) => String(x).toLowerCase());
  return JSON.stringify([lower(p.targets), p.values.map((v) => BigInt(v).toString()), lower(p.calldatas), String(p.descriptionHash).toLowerCase()]);
}

/** The typed data of the member's support: the relay's, or built here when the relay is not available. */
async function supportToSign(i, address, supporter) {
  try {
    const body = await fetchJson("/api/relay/initiatives/typed-data",
      { kind: "support", member: supporter, initiative: String(i.id), days: SUPPORT_DAYS, revision: i.revision });
    // The wallet shows only the text's hash: sign nothing but the text and actions this page shows.
    const shown = supportTypedData(i, address, supporter, 0n, 0n).message.proposal;
    const asked = body.typed_data.message.proposal;
    if (proposalKey(asked) !== proposalKey(shown) || String(body.typed_data.message.revision) !== String(i.revision)) {
      throw new Error("The initiative changed since this page read it: reload it and read the new text before supporting it.");
    }
    return { typed: body.typed_data, relayed: true };
  } catch (error) {
    if (!walletInstead(error)) throw error;
    const initiatives = contract(address, await state.wallet.signer());
    const nonce = await initiatives.supportNonce(i.id, supporter);
    const expiry = BigInt(Math.floor(Date.now() / 1000) + SUPPORT_DAYS * 24 * 3600);
    return { typed: supportTypedData(i, address, supporter, nonce, expiry), relayed: false };
  }
}

async function support(i, address, progress) {
  let relayed = null;
  const tx = await send(progress, async (signer) => {
    const supporter = state.wallet.account;
    const { typed, relayed: relayOffered } = await supportToSign(i, address, supporter);
    progress.textContent = "Sign your support in your wallet (free: a signature, no transaction)…";
    const signature = await state.wallet.signTypedData(typed);
    const expiry = BigInt(typed.message.expiry);
    if (relayOffered) {
      try {
        relayed = await relayAct({ kind: "support", member: supporter, initiative: String(i.id), deadline: expiry.toString(), signature }, progress);
        return { hash: relayed.tx_hash, relayed: true };
      } catch (error) {
        if (!walletInstead(error)) throw error;
        fallingBack(progress, error);
      }
    } else progress.textContent = "Post the signature: confirm in your wallet…";
    const initiatives = contract(address, signer);
    const estimate = await initiatives.postSupport.estimateGas(i.id, supporter, expiry, signature);
    return initiatives.postSupport(i.id, supporter, expiry, signature, { gasLimit: gasLimit(estimate) });
  });
  if (!tx) return;
  progress.textContent = "Done on-chain; waiting for the public record to show it…";
  await waitUntil(async () => (await fetchJson(`/api/initiatives/${i.id}`)).supporters.some((s) => s.address === state.wallet.account));
  progress.textContent = relayed ? "Thank you: your support counts (posted for free by the relay)." : "Thank you: your support counts.";
  progress.dataset.done = tx.hash;
  progress.dataset.relayed = relayed ? "yes" : "no";
}

async function putToVote(i, address, progress) {
  const tx = await send(progress, async (signer) => {
    const initiatives = contract(address, signer);
    const signatures = i.signatures.map((s) => [s.supporter, BigInt(s.expiry), s.signature]);
    const args = [i.id, i.targets, i.values, i.calldatas, i.description, signatures];
    return initiatives.submit(...args, { gasLimit: gasLimit(await initiatives.submit.estimateGas(...args)) });
  });
  if (!tx) return;
  progress.textContent = "Done on-chain; waiting for the proposal to show…";
  await waitUntil(async () => (await fetchJson(`/api/initiatives/${i.id}`)).proposal_number !== null);
  const number = (await fetchJson(`/api/initiatives/${i.id}`)).proposal_number;
  progress.replaceChildren("It is put to a vote: ", h("a", { href: `#/proposal/${number}`, id: "initiative-proposal-link" }, `proposal #${number}`));
  progress.dataset.done = tx.hash;
}

const FIELD_LABELS = {
  address: "Member (@handle or address)", handle: "Their handle", recipient: "To (@handle or address)", eth: "ETH",
  name: "Setting", value: "New value",
  target: "Contract address", signature: "Function, e.g. plant(uint256)", args: "Arguments (JSON list)", value_eth: "ETH sent",
};
// A field whose words depend on the kind of action.
const KIND_FIELD_LABELS = {
  track: { token: "Token to track (its address, 0x…)" },
  untrack: { token: "Token to stop tracking (its symbol, such as gUSD, or its address)" },
};
const KIND_LABELS = {
  pay: "Pay from the treasury", admit: "Admit a member", remove: "Remove a member", appoint: "Appoint a steward",
  recall: "Recall a steward", setting: "Change a setting", track: "Track a token in the treasury",
  untrack: "Stop tracking a token", call: "Call a contract",
};
// How a setting's new value is written, by setting (else by its unit, as the vocabulary gives it).
const VALUE_HINTS = {
  quorum: "a whole percent of members, such as 30",
  "support-share": "the percent of members whose support puts an initiative to a vote, such as 10 or 12.5%",
  "initiative-lifetime": "how long an initiative stays open after its latest draft or revision, such as 14d",
};
const UNIT_HINTS = { seconds: "a duration, such as 3d or 12h", percent: "a percent, such as 30" };
// Fields holding a member: given as @handle (or an address), sent as an address.
const MEMBER_FIELDS = new Set(["address", "recipient"]);

/** The words before a field of an action of `kind`; a setting's value says how to write it for `setting`. */
function fieldLabel(kind, field, setting, settings) {
  if (field === "value" && kind === "setting") {
    const hint = VALUE_HINTS[setting] ?? UNIT_HINTS[settings[setting]];
    return hint ? `New value (${hint})` : FIELD_LABELS.value;
  }
  return KIND_FIELD_LABELS[kind]?.[field] ?? FIELD_LABELS[field] ?? field;
}

/** One action of the draft: a kind from the vocabulary and its fields (`preset`: a revised initiative's action). */
function actionRow(n, kinds, settings, onRemove, preset = null) {
  const select = h("select", { id: `draft-action-${n}-kind`, "aria-label": `Action ${n + 1}` },
    Object.keys(kinds).map((kind) => h("option", { value: kind }, KIND_LABELS[kind] ?? kind)));
  const fields = h("span", { class: "fields" });
  const row = h("fieldset", { class: "draft-action", "data-action": n }, h("legend", {}, `Action ${n + 1}`),
    preset ? h("p", { class: "muted", id: `draft-action-${n}-now` }, `Now: ${preset.words}`, preset.note ? ` ${preset.note}` : "") : null,
    select, fields,
    n ? h("button", { type: "button", class: "link", onclick: () => onRemove(row) }, "Remove this action") : null);
  const show = () => {
    const kind = select.value;
    const labels = {};
    const chosen = () => fields.querySelector("select[name=name]")?.value;
    const relabel = () => {
      for (const [field, text] of Object.entries(labels)) text.textContent = fieldLabel(kind, field, chosen(), settings);
    };
    fields.replaceChildren(...kinds[kind].map((field) => {
      labels[field] = h("span", { id: `draft-action-${n}-${field}-label` });
      const input = field === "name"
        ? h("select", { name: field, id: `draft-action-${n}-${field}`, onchange: relabel },
          Object.keys(settings).map((name) => h("option", { value: name }, name)))
        : h("input", { name: field, id: `draft-action-${n}-${field}`, required: field !== "args" && field !== "value_eth" });
      return h("label", { class: "block" }, labels[field], " ", input);
    }));
    relabel();
  };
  select.onchange = show;
  select.value = preset && kinds[preset.kind] ? preset.kind : "pay";
  show();
  if (preset && kinds[preset.kind]) {
    for (const [field, value] of Object.entries(preset.fields)) {
      const input = fields.querySelector(`[name="${field}"]`);
      if (!input) continue;
      input.value = value;
      input.dispatchEvent(new Event("change")); // a setting's name relabels its value
    }
  }
  return row;
}

// The calls the draft form's kinds make (governance/actions.py), to fill a revision's form with the current actions.
const KNOWN_CALLS = new ethers.Interface([
  "function admit(address account, string handle)",
  "function remove(address account)",
  "function appointSteward(address account)",
  "function recallSteward(address account)",
  "function trackToken(address token)",
  "function untrackToken(address token)",
  "function setVotingDelay(uint48 value)",
  "function setVotingPeriod(uint32 value)",
  "function updateQuorumNumerator(uint256 value)",
  "function setLateQuorumVoteExtension(uint48 value)",
  "function updateDelay(uint256 value)",
  "function setSupportShare(uint256 value)",
  "function setLifetime(uint256 value)",
  "function transfer(address to, uint256 amount)",
]);
// function → [the draft form's kind, the contract it must be sent to (a key of state.config, or "initiatives")].
const CALL_KINDS = {
  admit: ["admit", "membership"], remove: ["remove", "membership"],
  appointSteward: ["appoint", "governor"], recallSteward: ["recall", "governor"],
};
// setter → [setting, the contract it must be sent to, how many of its units make the value a member writes].
const SETTING_CALLS = {
  setVotingDelay: ["voting-delay", "governor"], setVotingPeriod: ["voting-period", "governor"],
  updateQuorumNumerator: ["quorum", "governor"], setLateQuorumVoteExtension: ["late-quorum-extension", "governor"],
  updateDelay: ["timelock-delay", "timelock"], setSupportShare: ["support-share", "initiatives", 100n],
  setLifetime: ["initiative-lifetime", "initiatives"],
};

/** An action of initiative `i` as the draft form's kind and fields: {kind, fields, words, note}; a call the page
 * cannot read back keeps its contract and ETH, and its note asks for the function and arguments again. */
function presetOf(action, value, contractOf, handles) {
  const named = (address) => (handles.has(address) ? `@${handles.get(address)}` : address);
  const base = { words: action.in_words, note: "" };
  if (action.calldata === "0x" && value > 0n) {
    return { ...base, kind: "pay", fields: { recipient: named(action.target), eth: ethers.formatEther(value) } };
  }
  let call = null;
  try {
    call = KNOWN_CALLS.parseTransaction({ data: action.calldata, value });
  } catch {
    call = null;
  }
  const to = (key) => contractOf(key) && ethers.getAddress(contractOf(key)) === ethers.getAddress(action.target);
  if (call && value === 0n) {
    const [kind, where] = CALL_KINDS[call.name] ?? [];
    if (kind && to(where)) {
      const fields = { address: named(call.args[0]) };
      if (kind === "admit") Object.assign(fields, { address: call.args[0], handle: call.args[1] });
      return { ...base, kind, fields };
    }
    const [setting, home, perPercent] = SETTING_CALLS[call.name] ?? [];
    if (setting && to(home)) {
      const units = call.args[0];
      const written = perPercent ? `${Number(units) / Number(perPercent)}%` : units.toString();
      return { ...base, kind: "setting", fields: { name: setting, value: written } };
    }
  }
  const fields = { target: action.target, value_eth: value ? ethers.formatEther(value) : "" };
  if (!call) return { ...base, kind: "call", fields, note: "(The page cannot read this call back: give its function and arguments again, or remove it.)" };
  const args = call.args.map((a) => (typeof a === "bigint" ? a.toString() : JSON.stringify(a)));
  return { ...base, kind: "call", fields: { ...fields, signature: call.fragment.format("sighash"), args: `[${args.join(", ")}]` } };
}

/** The current actions of initiative `i` (read from the API) as presets for the revision's form. */
async function presetsOf(i, initiativesAddress) {
  const handles = await memberHandles().catch(() => new Map());
  const contractOf = (key) => (key === "initiatives" ? initiativesAddress : state.config?.[key]);
  return i.actions.map((a) => presetOf(a, BigInt(a.value_wei), contractOf, handles));
}

/**
 * A call's arguments typed as a JSON list; a whole number beyond 2^53 is kept exact, as its decimal digits in a string
 * (the API reads those as numbers), where plain JSON.parse would round it. Throws Error in words.
 */
function argumentsOf(text, n) {
  let parsed;
  try {
    parsed = JSON.parse(text, (key, value, context) => {
      if (typeof value !== "number" || Number.isSafeInteger(value) || !Number.isInteger(value)) return value;
      if (context?.source !== undefined) return context.source;
      throw new Error(`Action ${n + 1}: write ${value.toLocaleString("en")} in quotes, so that it is sent exactly.`);
    });
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    throw new Error(`Action ${n + 1}: the arguments must be a JSON list, e.g. ["0xAbc…", "1000"].`);
  }
  if (!Array.isArray(parsed)) throw new Error(`Action ${n + 1}: the arguments must be a JSON list, e.g. ["0xAbc…", "1000"].`);
  return parsed;
}

/** The draft's actions as the relay reads them, members' @handles turned into addresses; throws Error in words. */
async function actionsOf(rows) {
  const actions = [];
  for (const [n, row] of rows.entries()) {
    const action = { kind: row.querySelector("select").value };
    for (const input of row.querySelectorAll(".fields [name]")) {
      let value = input.value.trim();
      if (MEMBER_FIELDS.has(input.name) && !value.startsWith("0x")) {
        const address = await addressOfHandle(value);
        if (!address) throw new Error(`Action ${n + 1}: ${value} is neither a member's handle nor an address.`);
        value = address;
      }
      if (input.name === "args") value = value ? argumentsOf(value, n) : [];
      if (input.name === "value_eth" && !value) value = "0";
      action[input.name] = value;
    }
    actions.push(action);
  }
  return actions;
}

const WHAT = { draft: "draft", revise: "revision", withdraw: "withdrawal" };

/**
 * An author's draft, revision (of initiative `i`) or withdrawal (of `i`): signed in the wallet and sent by the relay
 * for free, else (the relay cannot: walletInstead) sent from the wallet. Returns {tx, relayed} (relayed: the relay's
 * ticket, null when the wallet sent it), or null once `progress` says why it failed.
 */
async function authorAct(kind, address, progress, { i = null, actions = [], text = "" } = {}) {
  let relayed = null;
  const tx = await send(progress, async (signer) => {
    const author = state.wallet.account;
    const initiative = i ? String(i.id) : "0";
    let encoded;
    try {
      progress.textContent = `Preparing your ${WHAT[kind]}…`;
      encoded = await fetchJson("/api/relay/initiatives/typed-data", { kind, member: author, initiative, actions, text });
      const message = encoded.typed_data.message;
      if (kind === "revise" && String(message.revision) !== String(i.revision)) {
        throw new Error("The initiative changed since this page read it: reload it and revise the new text.");
      }
      progress.textContent = `Sign your ${WHAT[kind]} in your wallet (free: a signature, no transaction)…`;
      const signature = await state.wallet.signTypedData(encoded.typed_data);
      relayed = await relayAct({ kind, member: author, initiative, targets: encoded.targets, values: encoded.values,
        calldatas: encoded.calldatas, text, nonce: message.nonce, deadline: message.deadline, signature }, progress);
      return { hash: relayed.tx_hash, relayed: true };
    } catch (error) {
      if (!walletInstead(error)) throw error;
      fallingBack(progress, error);
    }
    const initiatives = contract(address, signer);
    if (kind === "withdraw") {
      return initiatives.withdraw(i.id, { gasLimit: gasLimit(await initiatives.withdraw.estimateGas(i.id)) });
    }
    encoded = encoded ?? (await fetchJson("/api/relay/initiatives/actions", { actions }));
    const args = [encoded.targets, encoded.values.map(BigInt), encoded.calldatas, text];
    if (kind === "revise") {
      return initiatives.revise(i.id, ...args, { gasLimit: gasLimit(await initiatives.revise.estimateGas(i.id, ...args)) });
    }
    return initiatives.draft(...args, { gasLimit: gasLimit(await initiatives.draft.estimateGas(...args)) });
  });
  return tx ? { tx, relayed } : null;
}

/**
 * The form to draft an initiative, or (`revising`: {i, progress, done, cancel}) to revise initiative i, filled with its
 * current title, text and actions and saying what a revision does to its supporters' signatures.
 */
async function draftForm(address, revising = null) {
  const kinds = state.vocabulary?.action_kinds ?? { pay: ["recipient", "eth"] };
  const settings = state.vocabulary?.settings ?? {};
  const i = revising?.i;
  const preview = h("div", { id: "draft-preview", class: "preview" });
  const actionList = h("div", { id: "draft-actions" });
  let count = 0;
  const addAction = (preset) => actionList.append(actionRow(count++, kinds, settings, (row) => row.remove(), preset));
  if (i) for (const preset of await presetsOf(i, address)) addAction(preset);
  if (!count) addAction();
  const supporters = i ? i.supporters.length : 0;
  const form = h("form", { id: "draft-form" },
    h("label", { class: "block" }, "Title ",
      h("input", { name: "title", id: "draft-title", required: true, maxlength: 200, value: i ? i.title : null })),
    h("label", { class: "block" }, "Why (Markdown) ", h("textarea", { name: "text", id: "draft-text", rows: 6 })),
    h("h3", {}, "What the commons would do"), actionList,
    h("button", { type: "button", id: "draft-add-action", class: "link", onclick: () => addAction() }, "Add another action"),
    i ? h("p", { id: "revise-warning" }, supporters
      ? `Sending a revision restarts its time, and the signatures of its ${supporters === 1 ? "supporter" : `${supporters} supporters`} ` +
        "stop counting: each must read the new text and sign again."
      : "Sending a revision restarts its time; anyone who supports it from now on signs the new text.") : null,
    h("p", {}, h("button", { type: "submit" }, i ? "Send the revision" : "Draft it"),
      i ? " " : null,
      i ? h("button", { type: "button", id: "revise-cancel", class: "link", onclick: revising.cancel }, "Keep it as it is") : null));
  if (i) form.text.value = proposalBody(i.description).replace(/^\n+/, "");
  const progress = revising?.progress ?? h("p", { class: "muted", id: "draft-progress", "aria-live": "polite" });
  const description = () => `# ${form.title.value.trim()}\n\n${form.text.value}`;
  const showPreview = () => preview.replaceChildren(h("h3", {}, form.title.value), renderMarkdown(form.text.value));
  form.oninput = showPreview;
  if (i) showPreview();
  form.onsubmit = async (event) => {
    event.preventDefault();
    let actions;
    try {
      actions = await actionsOf([...actionList.querySelectorAll(".draft-action")]);
    } catch (error) {
      progress.textContent = error instanceof SyntaxError ? `The arguments are not a JSON list: ${error.message}` : error.message;
      return;
    }
    const done = await authorAct(i ? "revise" : "draft", address, progress, { i, actions, text: description() });
    if (!done) return;
    const { tx, relayed } = done;
    progress.dataset.relayed = relayed ? "yes" : "no";
    if (i) {
      await revising.done(tx, relayed, supporters);
      return;
    }
    progress.replaceChildren(relayed ? `Drafted for free by the relay as ` : "Drafted",
      relayed ? h("a", { href: `#/ideas/${relayed.initiative}`, id: "draft-link" }, `initiative ${relayed.initiative}`) : "",
      ". Other members can support it now.");
    progress.dataset.done = tx.hash;
  };
  if (i) {
    return h("section", { class: "draft", id: "revise-form" }, h("h2", {}, `Revise initiative ${i.id}`),
      h("p", { class: "muted" }, "Revising is free: you sign, and the commons' relay sends it (a few times a day per member)."),
      form, h("h3", {}, "Preview"), preview);
  }
  return h("section", { class: "draft" }, h("h2", {}, "Draft an initiative"),
    h("p", { class: "muted" }, "Any member can raise something. Once enough members support it, anyone can put it to a vote. ",
      "Drafting and supporting are free: you sign, and the commons' relay sends it (a few times a day per member)."),
    form, h("h3", {}, "Preview"), preview, progress);
}

/** Show initiative `id` again in place of `section` once the public record shows `check`, keeping `progress`. */
async function refresh(section, id, progress, check) {
  progress.textContent = "Done on-chain; waiting for the public record to show it…";
  try {
    await waitUntil(async () => check(await fetchJson(`/api/initiatives/${id}`)));
    const fresh = await ideaPage(id);
    fresh.querySelector("#initiative-progress").replaceWith(progress);
    section.replaceWith(fresh);
    return true;
  } catch (error) {
    progress.textContent = error.message;
    return false;
  }
}

async function withdrawSupport(i, address, progress, section) {
  const tx = await send(progress, async (signer) => {
    const initiatives = contract(address, signer);
    return initiatives.withdrawSupport(i.id, { gasLimit: gasLimit(await initiatives.withdrawSupport.estimateGas(i.id)) });
  });
  if (!tx) return;
  const me = state.wallet.account;
  if (!(await refresh(section, i.id, progress, (now) => !now.supporters.some((s) => s.address === me)))) return;
  progress.textContent = "Your support is withdrawn: your signature no longer counts. You may support it again later.";
  progress.dataset.done = tx.hash;
}

async function withdrawInitiative(i, address, progress, section) {
  const done = await authorAct("withdraw", address, progress, { i });
  if (!done) return;
  if (!(await refresh(section, i.id, progress, (now) => now.status === "withdrawn"))) return;
  progress.textContent = done.relayed ? "Withdrawn (sent for free by the relay). It can never be put to a vote." : "Withdrawn. It can never be put to a vote.";
  progress.dataset.done = done.tx.hash;
  progress.dataset.relayed = done.relayed ? "yes" : "no";
}

/** The author's choices on an open initiative: Revise (the form below) and Withdraw (after a confirmation). */
function authorButtons(i, address, progress, slot, section) {
  const revise = async () => {
    const form = await draftForm(address, {
      i, progress,
      cancel: () => slot.replaceChildren(),
      done: async (tx, relayed, supporters) => {
        if (!(await refresh(section, i.id, progress, (now) => now.revision > i.revision))) return;
        progress.textContent = `Revised (revision ${i.revision + 1})${relayed ? ", sent for free by the relay" : ""}. ` +
          (supporters ? `The ${supporters === 1 ? "member who supported" : `${supporters} members who supported`} it must sign again for their support to count.` : "");
        progress.dataset.done = tx.hash;
      },
    });
    slot.replaceChildren(form);
    form.querySelector("#draft-title").focus();
  };
  const withdraw = () => slot.replaceChildren(h("div", { id: "withdraw-confirm", class: "card" },
    h("p", {}, `Withdraw “${i.title}”? This cannot be undone: it can never be put to a vote, and `,
      i.supporters.length ? "its supporters' signatures stop counting. " : "nobody can support it any more. ",
      "It is free: you sign, and the commons' relay sends it."),
    h("button", { type: "button", id: "withdraw-confirm-button", onclick: () => { slot.replaceChildren(); withdrawInitiative(i, address, progress, section); } },
      "Yes, withdraw it"), " ",
    h("button", { type: "button", class: "link", onclick: () => slot.replaceChildren() }, "Keep it")));
  return [
    h("button", { type: "button", id: "revise-button", onclick: revise }, "Revise"),
    h("button", { type: "button", id: "withdraw-button", onclick: withdraw }, "Withdraw"),
  ];
}

async function ideaPage(id) {
  const i = await fetchJson(`/api/initiatives/${encodeURIComponent(id)}`);
  const { contract: address } = await api_initiatives({ limit: 1 });
  const progress = h("p", { class: "muted", id: "initiative-progress", "aria-live": "polite" });
  const slot = h("div", { id: "initiative-form" });
  const buttons = [];
  const open = i.status === "open" || i.status === "revised";
  const me = state.wallet?.account;
  const isAuthor = Boolean(me) && me === i.author;
  const supports = Boolean(me) && i.supporters.some((s) => s.address === me);
  // Made before its buttons' handlers run, which show the initiative again in its place.
  const section = h("section", { "data-account": me ?? "" });
  if (open && address) {
    if (isAuthor) buttons.push(...authorButtons(i, address, progress, slot, section));
    else if (supports) {
      buttons.push(h("button", { type: "button", id: "withdraw-support-button", onclick: () => withdrawSupport(i, address, progress, section) },
        "Withdraw my support"),
      h("span", { class: "muted" }, " A transaction from your wallet: you pay its fee (the relay cannot send this one for you)."));
    } else buttons.push(h("button", { type: "button", id: "support-button", onclick: () => support(i, address, progress) }, "Support"));
    if (i.threshold_met) {
      buttons.push(h("button", { type: "button", id: "submit-button", onclick: () => putToVote(i, address, progress) }, "Put it to a vote"));
    }
  }
  section.append(
    h("h1", {}, i.title),
    h("p", { class: "muted" }, `Initiative ${i.id} by ${who(i.author, i.author_handle)} · `,
      i.proposal_number ? h("a", { href: `#/proposal/${i.proposal_number}` }, `proposed as #${i.proposal_number}`) : i.status_words,
      open ? ` · open until ${dateTime(i.expires_at)}` : ""),
    progressBar(i),
    h("p", {}, "Supported by ", i.supporters.length ? i.supporters.map((s) => who(s.address, s.handle)).join(", ") : "no one yet", "."),
    h("h2", {}, "What the commons would do"),
    h("ul", {}, i.actions.map((a) => h("li", {}, a.in_words))),
    renderMarkdown(proposalBody(i.description)),
    h("div", { class: "actions" }, buttons), slot, progress);
  return section;
}

export async function ideasPage(arg) {
  if (arg) return ideaPage(arg);
  const body = await api_initiatives({ limit: 100 });
  const cards = body.data.map(card);
  // Which wallet the view was made for: connecting one shows the view again (a test waits for that one).
  return h("section", { "data-account": state.wallet?.account ?? "" },
    h("div", { class: "heading" }, h("h1", {}, "Ideas")),
    h("p", { class: "muted" }, "Initiatives members raised, and how much support each has toward being put to a vote."),
    cards.length ? h("ul", { class: "cards", id: "initiatives" }, cards) : h("p", { class: "muted" }, "No initiatives yet."),
    body.contract ? await draftForm(body.contract) : null);
}
