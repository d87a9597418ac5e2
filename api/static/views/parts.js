// Pieces of a proposal that several views show: its state, when voting opens or closes, its tallies, its card.

import { bar, dateTime, duration, h, timeLeft } from "../render.js";
import { chainNow } from "../state.js";

export function stateBadge(name) {
  return h("span", { class: `badge state-${name}` }, name);
}

/** When voting opens or closes, or what happened after, in words (by the chain's clock). */
export function whenText(p) {
  const now = chainNow();
  if (p.state === "pending") {
    return p.snapshot > now ? `voting opens in ${duration(p.snapshot - now)}` : "voting opens with the chain's next block";
  }
  if (p.state === "active") return timeLeft(p.deadline, now);
  if (p.state === "queued") return p.eta > now ? `can be carried out in ${duration(p.eta - now)}` : "ready to be carried out";
  if (p.state === "canceled") {
    const canceled = (p.timeline || []).find((t) => t.kind === "ProposalCanceled");
    return canceled ? `canceled ${dateTime(canceled.when)}, so no decision was made` : "canceled, so no decision was made";
  }
  return `voting closed ${dateTime(p.deadline)}`;
}

/** The quorum in words: what counts toward it (For and Abstain, not Against) and what is still missing. */
function quorumWords(p) {
  if (p.quorum === null) return "Quorum: fixed when voting opens (a share of the members at that moment).";
  if (p.counted >= p.quorum) return `Quorum reached: ${p.counted} For or Abstain, ${p.quorum} needed.`;
  return `Quorum not reached yet: ${p.counted} For or Abstain of ${p.quorum} needed, ${p.quorum - p.counted} more to go ` +
    "(Against votes do not count toward it).";
}

export function tallies(p) {
  const total = p.for + p.against + p.abstain;
  const quorumProgress = p.quorum ? p.counted / p.quorum : p.quorum === 0 ? 1 : 0;
  const turnout = p.electorate ? ` ${p.voters} of ${p.electorate} members voted.` : "";
  return h("div", { class: "tallies" },
    h("div", { class: "counts" },
      h("span", { class: "for" }, `For ${p.for}`), h("span", { class: "against" }, `Against ${p.against}`),
      h("span", { class: "abstain" }, `Abstain ${p.abstain}`)),
    bar(total ? p.for / total : 0, `${p.for} of ${total} votes For`, "for"),
    h("div", { class: "quorum" }, quorumWords(p), turnout),
    bar(quorumProgress, `Quorum ${Math.round(Math.min(quorumProgress, 1) * 100)}%`, "quorum"));
}

/** A proposal in a list: number and title (a link), state and time, tallies; `note` is an extra line (or null). */
export function proposalCard(p, note = null) {
  return h("li", { class: "card", "data-proposal": p.id },
    h("a", { href: `#/proposal/${p.number}`, class: "title" }, h("span", { class: "number" }, `#${p.number} `), p.title),
    h("div", { class: "meta" }, stateBadge(p.state), ` ${whenText(p)}`),
    note,
    tallies(p));
}
