// The first screen: what this commons is, what needs the member's vote now, the treasury and the members, and
// for newcomers what a wallet is, how voting works and why voting is free.

import * as api from "../api.js";
import { duration, ether, h } from "../render.js";
import { normProposal } from "../shapes.js";
import { handleOf, memberRecord, state } from "../state.js";
import { chainName } from "../words.js";
import { proposalCard } from "./parts.js";

const SHOWN = 20;

const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function welcome(c) {
  return h("section", { class: "welcome", id: "welcome" },
    h("h1", {}, `Welcome to ${c.name}`),
    h("p", { class: "lead" }, `${c.name} is a commons: something its members own together and decide on together. ` +
      "Who belongs, who stewards and how the shared money is spent are settled by the members' votes. " +
      `Every decision is kept on a public ledger (${chainName(c.chain_id)}), where nobody can quietly change it, ` +
      "and anyone can read all of it here."),
    h("ul", { class: "figures", id: "figures" },
      h("li", {}, h("strong", {}, String(c.memberCount)), c.memberCount === 1 ? " member" : " members"),
      h("li", {}, h("strong", {}, ether(c.treasuryWei)), " in the treasury"),
      h("li", {}, h("strong", {}, String(c.proposalCount)), c.proposalCount === 1 ? " proposal" : " proposals")));
}

/** Active proposals first (the member's own unvoted ones marked), then those about to open. */
async function needsVote() {
  const account = state.wallet?.onChain(state.config.chain_id) ? state.wallet.account : null;
  const [active, pending, member] = await Promise.all([
    api.proposals({ state: "active", limit: SHOWN }), api.proposals({ state: "pending", limit: SHOWN }),
    account ? memberRecord(account) : null]);
  const isMember = Boolean(member?.isMember);
  const voted = new Set(isMember ? member.votes.map((v) => v.proposalId) : []);
  const open = active.data.map(normProposal);
  const waiting = open.filter((p) => !voted.has(p.id));
  const delegatedTo = isMember && member.delegate && member.delegate !== account ? await handleOf(member.delegate) : null;
  const cards = [
    ...open.map((p) => proposalCard(p, voted.has(p.id) ? h("div", { class: "done small" }, "You have voted on this.") : null)),
    ...pending.data.map(normProposal).map((p) => proposalCard(p)),
  ];
  const summary = !isMember
    ? open.length ? `${plural(open.length, "proposal is", "proposals are")} open for voting now.` : "Nothing is open for voting right now."
    : delegatedTo ? `Your vote is delegated to ${delegatedTo}, who votes for you; you can take it back in the panel above.`
      : waiting.length ? `${plural(waiting.length, "proposal needs", "proposals need")} your vote.` : "Nothing needs your vote right now.";
  return h("section", { id: "needs-vote" },
    h("h2", {}, isMember ? "Needs your vote now" : "Open for voting now"),
    h("p", { id: "needs-vote-summary" }, summary),
    cards.length ? h("ul", { class: "cards" }, cards) : null,
    h("p", {}, h("a", { href: "#/proposals" }, "All proposals →")));
}

function howItWorks(c) {
  const s = c.settings;
  const after = (name, words) => (s[name] === undefined ? "" : words(duration(s[name])));
  return h("section", { class: "how", id: "how-it-works" },
    h("h2", {}, "How it works"),
    h("dl", {},
      h("dt", {}, "A wallet"),
      h("dd", {}, "A wallet is an app in your browser, such as MetaMask, that holds the key to your account. " +
        "Here it only proves that you are you: connect one to vote. You need none to read."),
      h("dt", {}, "Voting"),
      h("dd", {}, "A steward puts a proposal to the members. " +
        after("voting_delay", (d) => `Voting opens ${d} later and `) +
        after("voting_period", (d) => `stays open for ${d}. `) +
        "Each member has one vote, For, Against or Abstain, with a reason if they like; every vote and reason is public. " +
        "A proposal passes when more votes are For than Against and enough members took part" +
        (s.quorum_numerator === undefined ? ". " : ` (${s.quorum_numerator}% of members voting For or Abstain). `) +
        after("timelock_delay", (d) => `It is carried out ${d} later, which gives anyone who disagrees time to leave first. `) +
        "You can also let another member vote for you (delegate), and take your vote back at any time."),
      h("dt", {}, "Free to vote"),
      h("dd", {}, "You sign your ballot in your wallet, which costs nothing. The commons' relay then records it on the " +
        "ledger and pays the small fee (gas) for you. You may also send your vote from your wallet yourself and pay the fee.")));
}

export async function homePage() {
  const c = state.commons;
  return h("div", { class: "home" }, welcome(c), await needsVote(), howItWorks(c));
}
