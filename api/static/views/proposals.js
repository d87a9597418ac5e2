// The proposals view: every proposal, newest first, filtered by state, a page at a time.

import * as api from "../api.js";
import { h } from "../render.js";
import { normProposal, page } from "../shapes.js";
import { state } from "../state.js";
import { STATE_WORDS } from "../words.js";
import { proposalCard } from "./parts.js";

const PAGE_SIZE = 20;

/** The state filter: every state the chain knows (from /api/vocabulary), in words. */
function stateFilter(wanted) {
  const options = [["", "All proposals"], ...state.vocabulary.proposal_states.map((s) => [s, STATE_WORDS[s]?.label ?? s])];
  const select = h("select", { id: "state-filter", "aria-label": "Show proposals",
    onchange: () => { location.hash = select.value ? `#/proposals?state=${select.value}` : "#/proposals"; } },
  options.map(([value, label]) => h("option", { value, selected: value === wanted }, label)));
  return select;
}

export async function proposalsPage(_arg, params) {
  const wanted = params.get("state") || "";
  const cards = h("ul", { class: "cards", id: "proposals" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Older proposals");
  const load = async (before) => {
    const { rows, count, next } = page(await api.proposals({ state: wanted, before, limit: PAGE_SIZE }), "next_before");
    cards.append(...rows.map(normProposal).map((p) => proposalCard(p)));
    more.hidden = next === null;
    more.onclick = () => { more.disabled = true; load(next).finally(() => { more.disabled = false; }); };
    return count;
  };
  const count = await load();
  return h("section", {},
    h("div", { class: "heading" }, h("h1", {}, "Proposals"), stateFilter(wanted)),
    count ? cards : h("p", { class: "muted" }, wanted ? "No proposals in this state." : "No proposals yet."),
    more);
}
