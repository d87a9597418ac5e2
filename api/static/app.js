// The web client's entry: load the commons' configuration and vocabulary, wire the wallet panel, and show the view
// the address names. Each view is a module in views/ exporting one async function (arg, params) → a node; views are
// rebuilt from the API on each route change; text from the API is inserted as text, Markdown only through render.js.

import * as api from "./api.js";
import { fill, h } from "./render.js";
import { $, readCommons, state, view } from "./state.js";
import { auditPage } from "./views/audit.js";
import { decisionsPage } from "./views/decisions.js";
import { followPage } from "./views/follow.js";
import { homePage } from "./views/home.js";
import { ideasPage } from "./views/ideas.js";
import { initWalletPanel } from "./views/membership.js";
import { participationPage } from "./views/participation.js";
import { proposalPage } from "./views/proposal.js";
import { proposalsPage } from "./views/proposals.js";
import { remindersPage } from "./views/reminders.js";
import { treasuryPage } from "./views/treasury.js";

/** "#/<page>/<arg>" → the view; `tab` is the navigation tab it belongs to. */
const VIEWS = {
  "": { render: homePage, tab: "" },
  proposals: { render: proposalsPage, tab: "proposals" },
  ideas: { render: ideasPage, tab: "ideas" },
  proposal: { render: proposalPage, tab: "proposals" },
  decisions: { render: decisionsPage, tab: "decisions" },
  participation: { render: participationPage, tab: "participation" },
  treasury: { render: treasuryPage, tab: "treasury" },
  audit: { render: auditPage, tab: "audit" },
  follow: { render: followPage, tab: "follow" },
  reminders: { render: remindersPage, tab: "follow" },
};

/** "#/decisions?group=votes" → { page: "decisions", arg: "", params }. */
function currentRoute() {
  const [path, search] = (location.hash.slice(1) || "/").split("?");
  const [, page = "", arg = ""] = path.split("/");
  return { page, arg: decodeURIComponent(arg), params: new URLSearchParams(search || "") };
}

let routing = 0; // which route() call is the latest: only it may fill the view

/** Show the view the address names (again, after a wallet change); a slower earlier call never overwrites it. */
async function route() {
  const call = ++routing;
  const { page, arg, params } = currentRoute();
  const { render, tab } = VIEWS[page] || VIEWS[""];
  for (const link of document.querySelectorAll(".tabs a")) {
    link.classList.toggle("active", link.getAttribute("href") === `#/${tab}`);
  }
  let content;
  try {
    await readCommons();
    content = await render(arg, params);
  } catch (error) {
    content = h("p", { class: "error" }, `Could not load this page: ${error.message}`);
  }
  if (call === routing) fill(view(), content);
}

/** Chain and addresses from the relay's config, else from the read API's overview. */
async function loadConfig() {
  try {
    return await api.relayConfig();
  } catch (error) {
    return { ...(await readCommons()), relayer: null, relayUnavailable: error.message };
  }
}

async function boot() {
  try {
    [state.config, state.vocabulary] = await Promise.all([loadConfig(), api.vocabulary()]);
    $("commons-name").textContent = state.config.name;
    document.title = state.config.name;
  } catch (error) {
    fill(view(), h("p", { class: "error" }, `The commons could not be loaded: ${error.message}`));
    return;
  }
  initWalletPanel(route);
  window.addEventListener("hashchange", route);
  route();
}

boot();
