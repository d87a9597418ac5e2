// The "follow the votes" view: calendars of vote deadlines to subscribe to (the commons', and the connected member's
// own), with a word on what subscribing means. Links only: nothing here asks for a signature or an address.

import { h } from "../render.js";
import { state } from "../state.js";

/** Absolute https:// (or http://) and webcal:// links to a path of this API. */
function links(path) {
  const https = new URL(path, location.href).href;
  return { https, webcal: https.replace(/^https?:/, "webcal:") };
}

function calendarItem(id, label, path) {
  const { https, webcal } = links(path);
  return h("li", { id },
    h("strong", {}, label), " ",
    h("a", { href: webcal, class: "button" }, "Add to calendar"), " ",
    h("span", { class: "muted" }, "or copy this address into your calendar's “subscribe by URL”: "),
    h("code", {}, https));
}

export async function followPage() {
  const account = state.wallet?.account;
  const mine = account && state.member?.isMember;
  return h("section", {}, h("h1", {}, "Follow the votes"),
    h("p", {}, "Subscribe once and your calendar shows when each vote opens, when it closes (with a reminder a day " +
      "before) and when a passed proposal can be carried out. Subscribing is not downloading: your calendar app " +
      "fetches the list again every hour or so, so new proposals appear by themselves and a deadline that moves " +
      "(voting is extended when quorum is reached at the last minute) moves in your calendar too. Nobody learns " +
      "who subscribed, and you can remove the calendar whenever you like."),
    h("ul", { class: "follow", id: "calendars" },
      calendarItem("calendar-commons", `Every vote in ${state.config?.name ?? "the commons"}`, "/api/calendar.ics"),
      mine ? calendarItem("calendar-mine", "Only the votes you can cast", `/api/members/${account}/calendar.ics`)
        : h("li", { class: "muted" }, "Connect a member's wallet for a calendar of only the votes you can cast.")),
    h("p", { class: "muted" }, "“Add to calendar” opens your calendar app with a webcal:// link (Apple Calendar, " +
      "Outlook, Thunderbird). Google Calendar wants the https:// address pasted under “Other calendars → From URL”."),
    h("h2", {}, "Email reminders"),
    h("p", { id: "reminders-note" }, "Members can have an email when a vote opens and a reminder before it closes, " +
      "only while they have not voted."),
    h("p", {}, h("a", { href: "#/reminders", id: "reminders-link", class: "button" }, "Choose email reminders")),
    h("h2", {}, "Feeds"),
    h("p", {}, "A feed reader (or a chat bridge that reads Atom) shows each decision in words as it is recorded, " +
      "with its transaction and a link to check it."),
    h("ul", { class: "follow", id: "feeds" },
      h("li", {}, h("a", { href: "/api/feeds/needs-vote.atom", id: "feed-needs-vote" }, "Proposals open for voting")),
      h("li", {}, h("a", { href: "/api/feeds/decisions.atom", id: "feed-decisions" }, "Every decision")),
      mine ? h("li", {}, h("a", { href: `/api/members/${account}/feed.atom`, id: "feed-mine" },
        "Everything by or about you")) : null),
    h("h2", {}, "For bots and chat rooms"),
    h("p", { id: "webhooks-note" }, "A steward can have every decision pushed to a chat bridge or a bot as it happens " +
      "(`commons hooks add URL --events vote.cast,proposal.created`). Each delivery is signed; the receiver checks it " +
      "with the commons' public key, ", h("a", { href: "/api/hooks/public-key" }, "published here"), "."));
}
