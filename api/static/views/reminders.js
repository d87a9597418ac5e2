// The "email reminders" view: a member signs in with Ethereum (EIP-4361: the wallet signs a message naming this
// page, the chain and a one-time nonce; no transaction, no gas), then gives an email address and chooses when to hear
// about votes they have not cast, or deletes it all. A new address gets a confirmation link first, and no reminder
// goes to it before its owner presses Confirm. The sign-in lasts an hour and lives only in this page's memory.

import * as api from "../api.js";
import { ethers } from "../lib.js";
import { fill, h } from "../render.js";
import { state } from "../state.js";
import { walletErrorText } from "../wallet.js";

/** { address, token, expiresAt, subscription } of the last sign-in (memory only, never storage). */
let session = null;

const signedIn = (account) => session && session.address === account && session.expiresAt * 1000 > Date.now();

async function signIn(panel) {
  const account = state.wallet.account;
  const status = panel.querySelector("#reminders-status");
  try {
    status.textContent = "Sign the message in your wallet (it costs nothing)…";
    const { message } = await api.reminderMessage(account);
    const signature = await state.wallet.provider.request({
      method: "personal_sign",
      params: [ethers.hexlify(ethers.toUtf8Bytes(message)), account],
    });
    const answer = await api.reminderSignIn(message, signature);
    session = { address: answer.address, token: answer.token, expiresAt: answer.expires_at, subscription: answer.subscription };
    fill(panel, settingsForm(panel));
  } catch (error) {
    status.textContent = `Not signed in: ${walletErrorText(error)}`;
  }
}

function checkbox(id, label, checked) {
  return h("label", { class: "check" }, h("input", { type: "checkbox", id, checked: checked || null }), " ", label);
}

/** The signed-in member's settings: email, timings, and Save / Delete. */
function settingsForm(panel) {
  const mine = session.subscription;
  const email = h("input", { id: "reminder-email", type: "email", required: true, autocomplete: "email",
    value: mine?.email ?? "", placeholder: "you@example.org", "aria-label": "Your email address" });
  const hours = h("input", { id: "reminder-hours", class: "hours", type: "number", min: "0", max: "336", step: "1",
    value: String(mine?.hours_before_close ?? 24), "aria-label": "Hours before a vote closes" });
  const opened = checkbox("reminder-opened", "when a vote opens", mine ? mine.vote_opened : true);
  const delegate = checkbox("reminder-delegate", "when my delegate has not voted (if I delegate my vote)",
    mine ? mine.delegate_not_voted : true);
  const status = h("p", { id: "reminders-status", class: "muted" },
    mine ? "You are subscribed. Change anything and save, or delete it all." : "Not subscribed yet.");
  const confirmation = h("p", { id: "reminders-confirmation" });
  const resend = h("button", { type: "button", id: "reminder-resend", hidden: true }, "Send the confirmation again");
  const showConfirmation = () => {
    const sub = session.subscription;
    resend.hidden = !sub || sub.confirmed;
    confirmation.textContent = !sub ? "" : sub.confirmed
      ? `Confirmed: reminders go to ${sub.email}.`
      : `Waiting for you to confirm ${sub.email}: open the link we emailed there and press Confirm. ` +
        "No reminder is sent before.";
  };
  resend.onclick = async () => {
    try {
      await api.resendConfirmation(session.token);
      status.textContent = `Sent again to ${session.subscription.email}.`;
    } catch (error) {
      status.textContent = `Not sent: ${error.message}`;
    }
  };
  const refresh = async () => {
    try {
      session.subscription = (await api.reminderSubscription(session.token)).subscription;
      showConfirmation();
    } catch (error) {
      status.textContent = `Not read: ${error.message}`;
    }
  };
  showConfirmation();
  const save = async (event) => {
    event.preventDefault();
    try {
      const answer = await api.saveReminders(session.token, {
        email: email.value.trim(),
        vote_opened: opened.querySelector("input").checked,
        hours_before_close: Number(hours.value || 0),
        delegate_not_voted: delegate.querySelector("input").checked,
      });
      session.subscription = answer.subscription;
      const { confirmation: sent } = answer;
      status.textContent = answer.subscription.confirmed ? `Saved: reminders go to ${answer.subscription.email}.`
        : sent.sent ? `Saved: we emailed a confirmation link to ${answer.subscription.email}.`
        : `Saved. ${sent.detail || ""}`.trim();
      showConfirmation();
    } catch (error) {
      status.textContent = `Not saved: ${error.message}`;
    }
  };
  const remove = async () => {
    try {
      await api.deleteReminders(session.token);
      session.subscription = null;
      email.value = "";
      showConfirmation();
      status.textContent = "Deleted: this commons no longer holds your email address.";
    } catch (error) {
      status.textContent = `Not deleted: ${error.message}`;
    }
  };
  return h("form", { id: "reminders-form", onsubmit: save },
    h("p", {}, "Signed in as ", h("code", {}, session.address), "."),
    h("label", {}, "Email ", email),
    h("fieldset", {}, h("legend", {}, "Email me"),
      opened,
      h("label", {}, "a reminder ", hours, " hours before a vote closes, if I have not voted (0: none)"),
      delegate),
    h("div", {}, h("button", { type: "submit", id: "reminder-save" }, "Save"), " ",
      h("button", { type: "button", id: "reminder-delete", onclick: remove }, "Delete my subscription")),
    confirmation,
    h("div", {}, resend, " ", h("button", { type: "button", id: "reminder-refresh", onclick: refresh },
      "I have confirmed: check again")),
    status);
}

export async function remindersPage() {
  const account = state.wallet?.account;
  const panel = h("div", { id: "reminders" });
  if (!account) {
    fill(panel, h("p", { class: "muted" }, "Connect a member's wallet to choose email reminders."));
  } else if (!state.member?.isMember) {
    fill(panel, h("p", { class: "notice" }, "Email reminders are for members: this account is not one."));
  } else if (signedIn(account)) {
    fill(panel, settingsForm(panel));
  } else {
    fill(panel,
      h("button", { type: "button", id: "reminders-sign-in", onclick: () => signIn(panel) }, "Sign in with Ethereum"),
      h("p", { id: "reminders-status", class: "muted" },
        "Your wallet signs a message naming this page and a one-time code: no transaction, no gas. It proves the " +
        "account is yours, so nobody else can read or change your email address."));
  }
  return h("section", {}, h("h1", {}, "Email reminders"),
    h("p", {}, "Get an email when a vote opens, and a reminder before it closes if you have not voted yet (or if " +
      "your delegate has not). Reminders stop as soon as your ballot is recorded. Every email carries the " +
      "proposal's link, its transaction and a link to check it, and a one-click unsubscribe."),
    h("p", { class: "muted" }, "Your email address is private: it is never shown on this site, in its exports, its " +
      "feeds or its webhooks, and you can delete it here at any time."),
    panel);
}
