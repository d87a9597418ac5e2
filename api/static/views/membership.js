// The wallet panel above every view: finding and connecting a wallet, the commons' chain, and the connected
// account's membership, handle and delegation (with a way to delegate and take it back).

import { ethers } from "../lib.js";
import { dateTime, fill, h, shortAddress, shortHash } from "../render.js";
import { $, addressOfHandle, gasLimit, handleOf, memberRecord, state, waitForReceipt, waitUntil } from "../state.js";
import { discoverWallets, Wallet, walletErrorText } from "../wallet.js";
import { chainLabel } from "../words.js";
import { contributionsList } from "./treasury.js";

const MEMBERSHIP_ABI = ["function delegate(address delegatee)"];

let onWalletChange = () => {};

/** Wire the panel's buttons; `onChange` runs when the wallet connects, switches account or changes chain. */
export function initWalletPanel(onChange) {
  onWalletChange = onChange;
  $("connect").addEventListener("click", chooseWallet);
  $("connect").disabled = false; // disabled in the page until now, so an early click is not lost
  $("switch-chain").addEventListener("click", switchChain);
}

function setWalletStatus(text) {
  $("wallet-status").textContent = text;
}

async function chooseWallet() {
  const box = $("wallet-choices");
  box.hidden = true;
  setWalletStatus("Looking for wallets…");
  const wallets = await discoverWallets();
  if (!wallets.length) {
    setWalletStatus("No wallet found in this browser. Install one (MetaMask or any EIP-1193 wallet) to vote; everything here can be read without one.");
    return;
  }
  if (wallets.length === 1) return connectWallet(wallets[0]);
  fill(box, h("p", {}, "Choose a wallet:"), wallets.map((w) =>
    h("button", { type: "button", onclick: () => { box.hidden = true; connectWallet(w); } }, w.info.name)));
  box.hidden = false;
}

async function connectWallet({ info, provider }) {
  try {
    setWalletStatus(`Connecting to ${info.name}…`);
    state.wallet = await new Wallet(provider, info.name).connect();
    state.wallet.watch(() => { refreshWallet(); onWalletChange(); });
    await refreshWallet();
    onWalletChange();
  } catch (error) {
    state.wallet = null;
    setWalletStatus(`Could not connect: ${walletErrorText(error)}`);
  }
}

/** Account, chain warning and membership panel for the current wallet state. */
async function refreshWallet() {
  const wallet = state.wallet;
  state.member = null;
  $("membership").hidden = true;
  if (!wallet || !wallet.account) {
    setWalletStatus("No wallet connected.");
    $("wallet-actions").hidden = false;
    return;
  }
  $("wallet-actions").hidden = true;
  setWalletStatus(`Connected: ${shortAddress(wallet.account)} (${wallet.name})`);
  $("wallet-status").title = wallet.account;
  const wrongChain = !wallet.onChain(state.config.chain_id);
  $("chain-warning").hidden = !wrongChain;
  if (wrongChain) {
    $("chain-warning-text").textContent = `Your wallet is on ${chainLabel(wallet.chainId)}, but ${state.config.name} lives on ` +
      `${chainLabel(state.config.chain_id)}. Switch networks to vote.`;
    return;
  }
  await loadMembership();
}

async function switchChain() {
  try {
    await state.wallet.switchTo(state.config);
    await refreshWallet();
    onWalletChange();
  } catch (error) {
    $("chain-warning-text").textContent = `The wallet did not switch: ${walletErrorText(error)}`;
  }
}

/** Membership, handle and delegation of the connected account, from the read API. */
async function loadMembership() {
  const account = state.wallet.account;
  const record = await memberRecord(account);
  const panel = $("membership");
  panel.hidden = false;
  if (!record || !record.isMember) {
    state.member = { isMember: false };
    const past = record ? ` (@${record.handle} ${record.leftHow || "left"} ${dateTime(record.left)})` : "";
    fill(panel, h("p", { class: "notice", id: "member-status" },
      `This account is not a member of ${state.config.name}${past}. You can read everything here, but you cannot vote.`));
    return;
  }
  state.member = record;
  const ownVote = !record.delegate || record.delegate === account;
  const delegateName = ownVote ? "" : await handleOf(record.delegate);
  const input = h("input", { id: "delegate-to", placeholder: "@handle or 0x… address of a member", autocomplete: "off",
    "aria-label": "Delegate your vote to (a member's handle or address)" });
  fill(panel,
    h("p", { id: "member-status" }, "Member ", h("strong", {}, `@${record.handle}`), record.steward ? " · steward" : "",
      " · your vote: ", ownVote ? "cast by you" : h("span", { id: "delegate", title: record.delegate }, `delegated to ${delegateName}`)),
    h("details", { class: "delegation" },
      h("summary", {}, ownVote ? "Delegate your vote" : "Change delegation"),
      h("form", { onsubmit: (e) => { e.preventDefault(); delegateTo(input.value.trim()); } },
        input, h("button", { type: "submit" }, "Delegate")),
      ownVote ? null : h("button", { type: "button", onclick: () => delegateTo(account) }, "Take my vote back"),
      h("p", { class: "muted", id: "delegate-progress" },
        "Delegating is a transaction from your wallet (it costs a little gas). You can take it back at any time.")),
    contributionsList(record.contributions));
}

/** The address of the current member `text` names (an address or a handle); raises with a sentence otherwise. */
async function memberToDelegateTo(text) {
  const address = ethers.isAddress(text) ? ethers.getAddress(text) : await addressOfHandle(text);
  if (!address) throw new Error(`“${text}” is neither a member's handle nor an address (0x followed by 40 hex digits).`);
  if (address === state.wallet.account) return address;
  const record = await memberRecord(address);
  if (!record?.isMember) throw new Error(`${record ? `@${record.handle}` : shortAddress(address)} is not a member: you can delegate only to a member.`);
  return address;
}

async function delegateTo(text) {
  const progress = $("delegate-progress");
  try {
    const delegate = await memberToDelegateTo(text);
    progress.textContent = "Confirm in your wallet…";
    const membership = new ethers.Contract(state.config.membership, MEMBERSHIP_ABI, await state.wallet.signer());
    // As governance/chain.py does: a vote checkpoint written in a later second than the estimate's block takes
    // a fresh storage slot, so wallets' usual margin can run out of gas.
    const tx = await membership.delegate(delegate, { gasLimit: gasLimit(await membership.delegate.estimateGas(delegate)) });
    progress.textContent = `Sent: ${shortHash(tx.hash)}. Waiting for the chain…`;
    await waitForReceipt(tx.hash);
    progress.textContent = "Done on-chain; waiting for the public record to show it…";
    await waitUntil(async () => (await memberRecord(state.wallet.account))?.delegate === delegate);
    await loadMembership();
  } catch (error) {
    progress.textContent = `Delegation failed: ${walletErrorText(error)}`;
  }
}
