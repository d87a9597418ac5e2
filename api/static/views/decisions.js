// The decision log view: every governance event in words, newest first, filtered by kind and by what it is about
// (the API filters), with the whole or filtered log as CSV or JSON lines.

import * as api from "../api.js";
import { ethers } from "../lib.js";
import { dateTime, duration, ether, h, shortAddress, shortHash } from "../render.js";
import { ZERO_ADDRESS, normDecision, normProposal } from "../shapes.js";
import { addressOfHandle, memberHandles, state } from "../state.js";
import { GROUP_WORDS, KIND_WORDS, decisionWords } from "../words.js";

const SHOWN = 50; // entries shown per "older entries" step (read a page of the API at a time)

/** Names for the decision log: members' handles, proposals' numbers and titles, support, settings, roles, amounts. */
async function readNames() {
  const [handles, proposals, treasury] = await Promise.all([memberHandles(), api.proposals({ limit: api.PAGE_LIMIT }),
    api.treasury()]);
  const titles = new Map(proposals.data.map(normProposal).map((p) => [p.id, p]));
  const assets = new Map(treasury.balances.map((a) => [a.address.toLowerCase(), a]));
  const supportNames = Object.fromEntries(Object.entries(state.vocabulary.support).map(([name, n]) => [String(n), name]));
  return {
    who: (address, handle) => (handle || handles.get(address) ? `@${handle || handles.get(address)}` : shortAddress(address)),
    proposal: (id) => (titles.has(id) ? `#${titles.get(id).number} “${titles.get(id).title}”` : `proposal ${shortHash(id)}`),
    support: (number) => supportNames[String(number)],
    setting: (kind) => state.vocabulary.setting_events[kind],
    amount: (asset, amount) => amountWords(assets.get(String(asset).toLowerCase()), asset, amount),
    role: (id) => state.vocabulary.timelock_roles[String(id).toLowerCase()] ?? `unknown (${shortHash(id)})`,
    duration,
  };
}

/** "12.5 gUSD" for an amount of a token the treasury knows (its decimals and symbol), ETH for address zero. */
function amountWords(known, asset, amount) {
  if (known) return `${ethers.formatUnits(BigInt(amount), known.decimals)} ${known.symbol}`;
  return asset === ZERO_ADDRESS ? ether(amount) : `${amount} units of the token ${shortAddress(asset)}`;
}

/** The API filter the "about" box names: a member (address or @handle), or a proposal by number or id with its timelock operation. */
async function resolveAbout(text) {
  if (!text) return {};
  if (ethers.isAddress(text)) return { member: text };
  const member = await addressOfHandle(text);
  if (member) return { member };
  if (/^(#?\d+|0x[0-9a-f]+)$/i.test(text)) {
    const proposal = normProposal(await api.proposal(text.replace(/^#/, "")));
    return { subject: [proposal.id, proposal.timelockId].filter(Boolean) };
  }
  throw new Error(`“${text}” is neither a member (address or @handle) nor a proposal number.`);
}

/** A timelock entry's warnings: no vote decided its call, or the call changes who holds power. */
function callWarnings(call) {
  if (!call) return [];
  return [
    call.outside_the_vote && h("p", { class: "warning outside-the-vote", role: "note" },
      h("strong", {}, "⚠ Outside the vote: "), call.warning),
    call.power_change && h("p", { class: "warning power-change" }, `⚠ Power change: ${call.power_change}`),
    call.known === false && h("p", { class: "warning unknown-call" },
      "⚠ This call could not be decoded: nobody can say what it does."),
  ];
}

function decisionItem(e, names) {
  return h("li", { "data-seq": e.seq, "data-kind": e.kind, class: e.call?.outside_the_vote ? "outside-the-vote" : null },
    h("div", {}, h("span", { class: "kind", title: e.kind }, KIND_WORDS[e.kind] ?? e.kind), " ", decisionWords(e, names)),
    ...callWarnings(e.call),
    h("div", { class: "muted small" }, `${dateTime(e.when)} · block ${e.block} · #${e.seq}`,
      h("span", { class: "hash", title: e.hash }, ` · ${shortHash(e.hash)}`)));
}

function filterForm(group, about) {
  const groups = [["", "Everything"], ...Object.keys(state.vocabulary.decision_groups).map((g) => [g, GROUP_WORDS[g] ?? g])];
  const groupSelect = h("select", { name: "group", "aria-label": "Kind of decision" },
    groups.map(([value, label]) => h("option", { value, selected: value === group }, label)));
  const aboutInput = h("input", { name: "about", value: about, placeholder: "about: @handle, 0x… or proposal #",
    autocomplete: "off", "aria-label": "About a member or proposal" });
  const apply = (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries({ group: groupSelect.value, about: aboutInput.value.trim() }).filter(([, v]) => v));
    location.hash = `#/decisions${q.toString() ? `?${q}` : ""}`;
  };
  return h("form", { class: "filters", onsubmit: apply }, groupSelect, aboutInput, h("button", { type: "submit" }, "Filter"));
}

const exportLinks = (filters, id) => [
  h("a", { href: api.decisionExportUrl("csv", filters), download: "", id: `${id}-csv` }, "CSV"), " · ",
  h("a", { href: api.decisionExportUrl("jsonl", filters), download: "", id: `${id}-jsonl` }, "JSON lines")];

export async function decisionsPage(_arg, params) {
  const group = params.get("group") || "";
  const about = params.get("about") || "";
  const [names, whole] = await Promise.all([readNames(), api.decisions({ limit: 1 })]);
  const { count: total, head_hash: headHash } = whole;
  // The API does the filtering: by kind, and about a proposal (with its timelock operation) or a member.
  const filters = { kind: group ? state.vocabulary.decision_groups[group] || [] : [], ...(await resolveAbout(about)) };
  const filtered = Boolean(group || about);
  const entries = h("ol", { class: "log", id: "decision-log" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older entries");
  const status = h("p", { class: "muted small", id: "log-status" });
  // Newest first: read pages backwards from the end of the log.
  let before = total + 1;
  const loadOlder = async () => {
    const page = await api.decisions({ ...filters, before, limit: SHOWN });
    // Each timelock entry with its call in words, served beside the hashed entries (`calls`, by sequence number).
    const withCalls = page.data.map((e) => ({ ...normDecision(e), call: page.calls?.[String(e.seq)] }));
    entries.append(...withCalls.reverse().map((e) => decisionItem(e, names)));
    before = page.next_before;
    more.hidden = before === null;
    const n = entries.children.length;
    status.textContent = filtered
      ? `${n} of ${page.count} matching ${page.count === 1 ? "entry" : "entries"} shown.`
      : `The newest ${n} of ${total} entries.`;
  };
  more.onclick = () => { more.disabled = true; loadOlder().finally(() => { more.disabled = false; }); };
  await loadOlder();
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
    filterForm(group, about),
    status, entries, more);
}
