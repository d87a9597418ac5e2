// The treasury view: what the commons holds in each asset, a monthly in/out chart, who contributed (with their
// notes), where the money went (by proposal), the exports, and a form to contribute from the connected wallet.

import * as api from "../api.js";
import { ethers } from "../lib.js";
import { dateTime, h, shortAddress, shortHash } from "../render.js";
import { $, gasLimit, state, waitForReceipt, waitUntil } from "../state.js";
import { walletErrorText } from "../wallet.js";

const CONTRIBUTIONS_ABI = [
  "function contribute(string note) payable",
  "function contributeToken(address token, uint256 amount, string note)",
];
const TOKEN_ABI = ["function approve(address spender, uint256 amount)", "function allowance(address owner, address spender) view returns (uint256)"];
const ETH = "0x0000000000000000000000000000000000000000";
const NOTE_BYTES = 280;

const who = (flow) => (flow.handle ? `@${flow.handle}` : shortAddress(flow.counterparty || ETH));

function flowLine(flow) {
  const when = h("span", { class: "muted" }, ` · ${dateTime(flow.timestamp)}`);
  if (flow.direction === "out") {
    const by = flow.proposal_number
      ? h("a", { href: `#/proposal/${flow.proposal_number}` }, `#${flow.proposal_number} ${flow.proposal_title}`)
      : h("span", {}, "not by a proposal");
    if (!flow.tx_hash) {  // ether that left with no log: only the treasury's balance shows it
      return h("li", { class: "flow out unattributed", title: "seen in the treasury's balance" },
        h("strong", {}, flow.amount_text), " left the treasury with no transaction log", when, dated(flow));
    }
    return h("li", { class: "flow out", title: flow.tx_hash }, h("strong", {}, flow.amount_text), ` to ${who(flow)} by `, by, when);
  }
  if (flow.kind === "contribution") {
    return h("li", { class: "flow in", title: flow.tx_hash }, h("strong", {}, flow.amount_text), ` from ${who(flow)}`,
      flow.note ? h("q", { class: "note" }, flow.note) : null, when);
  }
  const from = flow.counterparty ? ` from ${who(flow)}` : "";
  return h("li", { class: "flow in unattributed", title: flow.tx_hash || "seen in the treasury's balance" },
    h("strong", {}, flow.amount_text), `${from}, sent directly (no contribution recorded)`, when, dated(flow));
}

/** How ether with no log was dated (the cache's words: in which block the treasury's balance shows it). */
function dated(flow) {
  return flow.tx_hash || !flow.note ? null : h("small", { class: "muted dated" }, ` ${flow.note}`);
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** In (up) and out (down) per month for one asset, as a plain SVG bar chart. */
function monthlyChart(symbol, months) {
  const width = 360, height = 180, left = 8, right = 8, top = 10, bottom = 22;
  const middle = top + (height - top - bottom) / 2;
  const half = (height - top - bottom) / 2;
  const largest = Math.max(1, ...months.flatMap((m) => [Number(m.inflow), Number(m.outflow)]));
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart treasury-chart", role: "img",
    "data-symbol": symbol, "aria-label": `${symbol} in and out per month, oldest first` });
  svg.append(s("line", { x1: left, x2: width - right, y1: middle, y2: middle, class: "grid" }));
  const step = (width - left - right) / Math.max(months.length, 1);
  const barWidth = Math.min(step * 0.35, 24);
  months.forEach((m, i) => {
    const x = left + i * step + step / 2;
    const up = Math.max((Number(m.inflow) / largest) * half, Number(m.inflow) ? 1 : 0);
    const down = Math.max((Number(m.outflow) / largest) * half, Number(m.outflow) ? 1 : 0);
    const inflow = s("rect", { x: x - barWidth, y: middle - up, width: barWidth, height: up, class: "inflow" });
    inflow.append(s("title", {}, `${m.month}: ${m.inflow_text} in`));
    const outflow = s("rect", { x, y: middle, width: barWidth, height: down, class: "outflow" });
    outflow.append(s("title", {}, `${m.month}: ${m.outflow_text} out`));
    svg.append(inflow, outflow, s("text", { x, y: height - 6, "text-anchor": "middle", class: "axis" }, m.month));
  });
  return svg;
}

function charts(monthly) {
  const bySymbol = new Map();
  for (const m of monthly) bySymbol.set(m.symbol, [...(bySymbol.get(m.symbol) || []), m]);
  return [...bySymbol].map(([symbol, months]) => h("figure", { class: "treasury-month" },
    h("figcaption", {}, `${symbol}: in (above the line) and out (below), per month`), monthlyChart(symbol, months)));
}

/** "12.5" in an asset's smallest units, exactly (no floating point); an Error in words when it cannot be. */
function units(text, asset) {
  if (!/^\d+(\.\d+)?$/.test(text)) throw new Error(`${text || "Nothing"} is not an amount of ${asset.symbol}.`);
  const [, decimals = ""] = text.split(".");
  if (decimals.length > asset.decimals) {
    throw new Error(`${asset.symbol} has ${asset.decimals} decimals, but ${text} has ${decimals.length}.`);
  }
  const amount = ethers.parseUnits(text, asset.decimals);
  if (amount <= 0n) throw new Error(`${text} ${asset.symbol} is nothing: a contribution must be more than 0 ${asset.symbol}.`);
  return amount;
}

async function contribute(treasury, form) {
  const progress = $("contribute-progress");
  try {
    if (!state.wallet) throw new Error("Connect a wallet first (above).");
    const asset = treasury.balances.find((b) => b.address === form.asset.value);
    const amount = units(form.amount.value.trim(), asset);
    const note = form.note.value;
    if (new TextEncoder().encode(note).length > NOTE_BYTES) throw new Error(`A note is at most ${NOTE_BYTES} bytes.`);
    const signer = await state.wallet.signer();
    const contributions = new ethers.Contract(treasury.contributions, CONTRIBUTIONS_ABI, signer);
    let tx;
    if (asset.address === ETH) {
      progress.textContent = "Confirm in your wallet…";
      tx = await contributions.contribute(note, { value: amount, gasLimit: gasLimit(await contributions.contribute.estimateGas(note, { value: amount })) });
    } else {
      const token = new ethers.Contract(asset.address, TOKEN_ABI, signer);
      if ((await token.allowance(state.wallet.account, treasury.contributions)) < amount) {
        progress.textContent = `Allow the commons to move ${form.amount.value} ${asset.symbol}: confirm in your wallet…`;
        await waitForReceipt((await token.approve(treasury.contributions, amount)).hash);
      }
      progress.textContent = "Confirm the contribution in your wallet…";
      const estimate = await contributions.contributeToken.estimateGas(asset.address, amount, note);
      tx = await contributions.contributeToken(asset.address, amount, note, { gasLimit: gasLimit(estimate) });
    }
    progress.textContent = `Sent: ${shortHash(tx.hash)}. Waiting for the chain…`;
    await waitForReceipt(tx.hash);
    progress.textContent = "Done on-chain; waiting for the public record to show it…";
    await waitUntil(async () => (await api.treasury()).inflows.some((f) => f.tx_hash === tx.hash));
    progress.textContent = `Thank you: ${form.amount.value} ${asset.symbol} is in the treasury.`;
    progress.dataset.done = tx.hash;
  } catch (error) {
    progress.textContent = `Contribution failed: ${error instanceof Error && !error.code ? error.message : walletErrorText(error)}`;
  }
}

function contributeForm(treasury) {
  if (!treasury.contributions) return null;
  const tracked = treasury.balances.filter((b) => b.tracked);
  const form = h("form", { id: "contribute-form", onsubmit: (e) => { e.preventDefault(); contribute(treasury, e.target); } },
    h("label", {}, "Amount ", h("input", { name: "amount", id: "contribute-amount", inputmode: "decimal", placeholder: "0.1", required: true })),
    h("label", {}, " in ", h("select", { name: "asset", id: "contribute-asset" },
      tracked.map((b) => h("option", { value: b.address }, b.symbol)))),
    h("label", { class: "block" }, "Note (optional, shown to everyone) ",
      h("input", { name: "note", id: "contribute-note", maxlength: NOTE_BYTES, placeholder: "What it is for" })),
    h("button", { type: "submit" }, "Contribute"));
  return h("section", { class: "contribute" }, h("h2", {}, "Contribute"),
    h("p", { class: "muted" }, "Anyone may give, member or not. It goes straight to the treasury and is recorded on the chain as yours, with your note."),
    form, h("p", { class: "muted", id: "contribute-progress", "aria-live": "polite" }));
}

export async function treasuryPage() {
  const t = await api.treasury();
  const inflows = t.inflows, outflows = t.outflows;
  return h("section", {}, h("h1", {}, "Treasury"),
    h("p", { class: "muted" }, `Held by the commons' timelock; as of block ${t.indexed_block.number}. Money leaves it only by a passed proposal.`),
    h("ul", { class: "balances", id: "treasury-balances" }, t.balances.map((b) =>
      h("li", { "data-asset": b.address }, h("strong", {}, b.balance_text), b.tracked ? null : h("span", { class: "muted" }, " (no longer tracked)")))),
    t.monthly.length ? h("h2", {}, "In and out by month") : null,
    ...charts(t.monthly),
    h("h2", {}, "Where the money came from"),
    inflows.length ? h("ul", { class: "flows", id: "treasury-inflows" }, inflows.map(flowLine)) : h("p", {}, "Nothing has come in yet."),
    t.contributors.length ? h("h2", {}, "Contributors") : null,
    h("ul", { class: "members", id: "treasury-contributors" }, t.contributors.map((c) =>
      h("li", { title: c.contributor }, h("strong", {}, c.handle ? `@${c.handle}` : shortAddress(c.contributor)),
        h("span", { class: "muted" }, c.is_member ? " (member)" : " (not a member)"),
        ` gave ${c.totals.map((x) => x.amount_text).join(", ")} in ${c.count} contribution${c.count === 1 ? "" : "s"}`))),
    h("h2", {}, "Where the money went"),
    outflows.length ? h("ul", { class: "flows", id: "treasury-outflows" }, outflows.map(flowLine)) : h("p", {}, "Nothing has been paid out yet."),
    h("p", {}, "Every flow: ", h("a", { href: "/api/treasury/export.csv", download: "" }, "CSV"), " · ",
      h("a", { href: "/api/treasury/export.jsonl", download: "" }, "JSON lines")),
    contributeForm(t));
}

/** A member's contributions, for their page ("what they gave"); empty list → null. */
export function contributionsList(contributions) {
  if (!contributions?.length) return null;
  return h("div", { class: "contributions", id: "member-contributions" }, h("h3", {}, "Contributions"),
    h("ul", { class: "flows" }, contributions.map(flowLine)));
}
