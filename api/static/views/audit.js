// The audit view: how far the public record has read the chain, its head hashes, the commons' settings and
// addresses, and how to check it all against any node.

import { dateTime, duration, ether, h } from "../render.js";
import { readCommons } from "../state.js";
import { SETTING_WORDS, chainLabel, settingValue } from "../words.js";

export async function auditPage() {
  const c = await readCommons();
  const upToDate = c.blocksBehind === 0;
  const fact = (label, value, cls) => [h("dt", {}, label), h("dd", { class: cls }, value)];
  return h("section", {}, h("h1", {}, "Audit status"),
    h("p", { class: upToDate ? "notice" : "warning", id: "index-status" }, upToDate
      ? `The public record has read the chain up to block ${c.indexedBlock}, the newest block it has seen.`
      : `The public record is ${c.blocksBehind} blocks behind the chain (indexed ${c.indexedBlock}, chain at ${c.headBlock}); it is catching up.`),
    c.powerOutsideTheVote.length > 0 && h("div", { class: "warning", id: "power-outside-the-vote" },
      h("p", {}, h("strong", {}, "Power outside the vote: "),
        "someone can act on the treasury or the membership without the members deciding."),
      h("ul", {}, c.powerOutsideTheVote.map((finding) => h("li", {}, finding)))),
    h("dl", { class: "facts", id: "timelock-roles" },
      Object.entries(c.timelockRoles).map(([role, holders]) =>
        fact(`Timelock ${role} role`, holders.length ? holders.join(", ") : "nobody", "hash"))),
    h("dl", { class: "facts", id: "audit-facts" },
      fact("Last indexed block", `${c.indexedBlock} · ${dateTime(c.indexedTime)}`),
      fact("Its hash", c.indexedHash, "hash"),
      fact("Chain head seen", String(c.headBlock)),
      fact("Decision-log entries", String(c.logCount)),
      fact("Decision-log head hash", c.logHeadHash, "hash"),
      fact("Members", `${c.memberCount} (${c.formerMemberCount} former) · ${c.stewardCount} stewards`),
      fact("Proposals", `${c.proposalCount} · ${c.voteCount} votes`),
      fact("Treasury", ether(c.treasuryWei)),
      Object.entries(c.settings).map(([name, value]) =>
        fact(SETTING_WORDS[name]?.label ?? name, settingValue(name, value, duration))),
      fact("Chain", chainLabel(c.chain_id)),
      fact("Governor", c.governor, "hash"),
      fact("Membership", c.membership, "hash"),
      fact("Treasury (timelock)", c.timelock, "hash")),
    h("p", {}, "Pin the head hash: anyone can re-derive the whole log from the chain alone and compare, with ",
      h("code", {}, `commons audit --rpc <any RPC URL> --api ${location.origin}`), "."));
}
