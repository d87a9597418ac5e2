// The proposal view: its text, what it does, its timeline, its votes with reasons, and the member's vote panel.
// The page is a list of sections (SECTIONS): a new kind of notice about a proposal is one more function there.

import * as api from "../api.js";
import { dateTime, fill, h, proposalBody, renderMarkdown, shortAddress, shortHash } from "../render.js";
import { normProposal, normVote } from "../shapes.js";
import { chainNow, handleOf, memberHandles, view } from "../state.js";
import { stateBadge, tallies, whenText } from "./parts.js";
import { fillVotePanel } from "./vote.js";

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
  if (p.state !== "canceled") {
    steps.push({ words: p.snapshot > now ? "Voting opens" : "Voting opened", when: p.snapshot, upcoming: p.snapshot > now });
    steps.push({ words: p.deadline > now ? "Voting closes" : "Voting closed", when: p.deadline, upcoming: p.deadline > now });
  }
  return steps.sort((a, b) => a.when - b.when);
}

/** Who proposed it: its proposer, or for an initiative its author, the initiative and the members who supported it
 * (the API's `initiative`; on-chain the Initiatives contract proposed it, as `proposed_by` says in words). */
function proposedBy(p, names) {
  const origin = p.initiative;
  if (!origin) return h("span", { class: "muted", title: p.proposer }, ` · proposed by ${names.proposer}`);
  const named = (address, handle) => (handle ? `@${handle}` : shortAddress(address));
  const supporters = origin.supporters.map((s) => named(s.address, s.handle));
  return h("span", { class: "muted", id: "proposed-by", title: p.proposedBy },
    ` · proposed by ${named(origin.author, origin.author_handle)} through `,
    h("a", { href: `#/ideas/${origin.id}`, id: "proposal-initiative-link" }, `initiative ${origin.id}`),
    `, supported by ${supporters.join(", ")}; put to a vote by the Initiatives contract`);
}

const heading = (p, names) => [
  h("p", {}, h("a", { href: "#/proposals" }, "← All proposals")),
  h("h1", {}, h("span", { class: "number" }, `#${p.number} `), p.title),
  h("div", { class: "meta" }, stateBadge(p.state), ` ${whenText(p)}`, proposedBy(p, names)),
];

const text = (p) => [
  h("h2", {}, "The proposal"),
  h("div", { id: "proposal-text" }, renderMarkdown(proposalBody(p.description))),
];

const actions = (p, names) => [
  h("h2", {}, p.actions.length === 1 ? "What it does" : `What it does (${p.actions.length} actions, in order)`),
  h("ol", { class: "actions", id: "actions" }, p.actions.map((a) => h("li", { title: a.words }, names.inWords(a.words),
    a.power && h("p", { class: "warning power-change" }, `⚠ Power change: ${names.inWords(a.power)}`),
    !a.known && h("p", { class: "warning unknown-call" },
      "⚠ This call could not be decoded: nobody can say what it does. Ask the steward who proposed it before voting.")))),
];

const timeline = (p) => [
  h("h2", {}, "Timeline"),
  h("ol", { class: "timeline", id: "timeline" }, timelineSteps(p).map((t) =>
    h("li", { class: t.upcoming ? "upcoming" : "" }, h("strong", {}, t.words), h("span", { class: "when" }, dateTime(t.when)),
      t.tx ? h("span", { class: "muted hash", title: t.tx }, `block ${t.block} · tx ${shortHash(t.tx)}`) : null))),
];

const voteItem = (v) =>
  h("li", { "data-voter": v.voter },
    h("span", { class: `badge support-${v.support}` }, v.support), " ",
    h("strong", { title: v.voter }, v.handle ? `@${v.handle}` : shortAddress(v.voter)),
    v.weight !== 1 ? h("span", { class: "muted" }, ` (${v.weight} votes)`) : null,
    h("span", { class: "muted when" }, dateTime(v.when)),
    v.reason ? h("q", { class: "reason" }, v.reason) : null);

/** A button that appends the next page of votes to `list` (the answer carries the first page only). */
function moreVotes(p, list) {
  let after = p.votesNextAfter;
  const button = h("button", { type: "button", id: "more-votes", class: "secondary" }, "Show more votes");
  button.addEventListener("click", async () => {
    button.disabled = true;
    const page = await api.proposalVotes(p.id, after);
    list.append(...page.data.map((v) => voteItem(normVote(v))));
    after = page.next_after;
    if (after === null) button.remove();
    else button.disabled = false;
  });
  return button;
}

const votes = (p) => {
  const list = h("ul", { class: "votes", id: "votes" }, p.votes.map(voteItem));
  return [
    h("h2", {}, `Votes (${p.voters ?? p.votes.length})`),
    p.votes.length ? null : h("p", { class: "muted" }, p.state === "pending" ? "Voting has not opened yet." : "No votes yet."),
    list,
    p.votesNextAfter !== null ? moreVotes(p, list) : null,
  ];
};

/** The view's sections in order; each takes the proposal and the names in it, and returns nodes. */
const SECTIONS = [heading, tallies, () => h("section", { id: "vote-panel", class: "vote-panel" }), text, actions, timeline, votes];

/** Handles for the addresses a proposal mentions: its proposer, and members named in its actions' words. */
async function namesIn(p) {
  const [proposer, handles] = await Promise.all([p.initiative ? null : handleOf(p.proposer), memberHandles()]);
  // The API names members '@handle (0x…)'; the page says '@handle' alone for any member it knows, named or bare.
  const inWords = (words) => words.replace(/@[\w.-]+ \((0x[0-9a-fA-F]{40})\)|(0x[0-9a-fA-F]{40})/g, (whole, named, bare) =>
    (handles.has(named ?? bare) ? `@${handles.get(named ?? bare)}` : whole));
  return { proposer, inWords };
}

/** One proposal, by number or id; `keep` are nodes (the progress of a vote just cast) to keep in its vote panel. */
export async function proposalPage(ref, _params, keep = []) {
  const answer = await api.proposal(ref);
  // Who proposed it in truth: the initiative it came from (author, supporters) and `proposed_by` in words.
  const p = { ...normProposal(answer), initiative: answer.initiative ?? null, proposedBy: answer.proposed_by ?? "" };
  const names = await namesIn(p);
  const page = h("article", { class: "proposal", "data-proposal": p.id }, SECTIONS.map((section) => section(p, names)));
  fillVotePanel(page.querySelector("#vote-panel"), p, keep, async (steps) => fill(view(), await proposalPage(p.id, null, [steps])));
  return page;
}
