// The participation view: turnout per proposal as a chart, per month, and who shows up.

import * as api from "../api.js";
import { h, turnoutChart } from "../render.js";
import { normParticipation } from "../shapes.js";

const percent = (fraction) => (fraction === null ? "–" : `${Math.round(fraction * 100)}%`);

export async function participationPage() {
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
