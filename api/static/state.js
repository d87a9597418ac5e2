// What the views share: the commons' configuration and vocabulary, the connected wallet and member, the chain's
// clock, members' handles, and waiting for the public record to catch up with the chain.

import * as api from "./api.js";
import { shortAddress } from "./render.js";
import { normCommons, normMember } from "./shapes.js";

export const POLL_MS = 250;
const VISIBLE_TIMEOUT_MS = 60000;

/** config: chain and addresses; vocabulary: /api/vocabulary; commons: the last /api/commons overview. */
export const state = { config: null, vocabulary: null, commons: null, wallet: null, member: null, clock: null };

export const $ = (id) => document.getElementById(id);
export const view = () => $("view");
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export const isNotFound = (error) => error instanceof api.ApiError && error.status === 404;

/** The chain's current time, in seconds, moved on by this device's clock since the API said it (see readCommons). */
export function chainNow() {
  const { chainTime, at } = state.clock;
  return chainTime + (Date.now() - at) / 1000;
}

/**
 * The read API's overview, kept in `state.commons`, and the chain's clock: the node's own now when the API has a node
 * (a local node that mines only on transactions leaves its last block's time behind), else the indexed block's time
 * moved on since this page first saw that block, never behind the server's wall clock (real chains keep to it).
 */
export async function readCommons() {
  const [overview, clock] = await Promise.all([api.commons(), api.clock()]);
  const commons = normCommons(overview);
  const at = Date.now();
  const seen = state.clock?.hash === commons.indexedHash ? state.clock.seen : at;
  const chainTime = clock.chain_time ?? Math.max(clock.server_time, commons.indexedTime + (at - seen) / 1000);
  state.clock = { chainTime, at, hash: commons.indexedHash, seen };
  state.commons = commons;
  return commons;
}

/** The member's record in the read API (null if never a member). */
export async function memberRecord(address) {
  try {
    return normMember(await api.member(address));
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** "@handle" of a member (current or former), or the short address of anyone else. */
export async function handleOf(address) {
  const record = await memberRecord(address).catch(() => null);
  return record ? `@${record.handle}` : shortAddress(address);
}

let handles = { hash: null, map: null };

/** address → handle of every member, current and former, read page by page; read again once a new block is indexed. */
export async function memberHandles() {
  const hash = state.commons?.indexedHash;
  if (handles.map && handles.hash === hash) return handles.map;
  const map = new Map();
  for (let after; after !== null;) {
    const body = await api.members({ status: "all", limit: api.PAGE_LIMIT, after });
    for (const member of body.data.map(normMember)) map.set(member.address, member.handle);
    after = body.next_after ?? null;
  }
  handles = { hash, map };
  return map;
}

/** The address of the member (current or former) with this handle, given as "@ada" or "ada"; null if none. */
export async function addressOfHandle(text) {
  const handle = text.replace(/^@/, "");
  for (const [address, known] of await memberHandles()) if (known === handle) return address;
  return null;
}

/** Poll `check` until it is true (the read API follows the chain a block or so behind). */
export async function waitUntil(check, timeoutMs = VISIBLE_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(POLL_MS);
  }
  throw new Error("It is on-chain but the page's data has not caught up yet; reload in a moment.");
}

/** The receipt of a transaction sent from the wallet, once mined; raises if it failed on-chain. */
export async function waitForReceipt(hash) {
  for (;;) {
    const receipt = await state.wallet.provider.request({ method: "eth_getTransactionReceipt", params: [hash] });
    if (receipt) {
      if (Number(receipt.status) !== 1) throw new Error(`transaction ${hash} failed on-chain`);
      return receipt;
    }
    await sleep(POLL_MS);
  }
}

/** A wallet transaction's gas limit from its estimate, with the margin governance/chain.py gives its own (see /api/vocabulary). */
export function gasLimit(estimate) {
  const { headroom, checkpoint_allowance: allowance } = state.vocabulary.gas;
  return (estimate * BigInt(Math.round(headroom * 100))) / 100n + BigInt(allowance);
}
