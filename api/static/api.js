// The app's own HTTP API: the read API (cache of the chain) and the vote relay. Same origin only.

/** An error from the API, carrying its sentence (`detail`) and machine code. */
export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

async function request(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: {
      Accept: "application/json",
      ...(options.body ? { "Content-Type": "application/json" } : {}),
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    },
  });
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { detail: text };
  }
  if (!response.ok) {
    const detail = typeof body?.detail === "string" ? body.detail
      : Array.isArray(body?.detail) ? body.detail.map((d) => d.msg).join("; ")
      : `The server answered ${response.status}.`;
    throw new ApiError(response.status, detail, body?.code);
  }
  return body;
}

const get = (path) => request(path);
const post = (path, body) => request(path, { method: "POST", body: JSON.stringify(body) });
/** `?a=1&b=2` from an object; an array value repeats its name (`kind=A&kind=B`); empty values are left out. */
const query = (params) => {
  const pairs = Object.entries(params).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))
    .filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
};

// ---- read API (api/routes/{commons,members,proposals,decisions,stats}.py; shapes in shapes.js) ----
export const commons = () => get("/api/commons");
/** Now: `chain_time` (the time the chain's next block will carry, or null without a node) and `server_time`. */
export const clock = () => get("/api/clock");
/** Newest first; `state`, `proposer`, `before` (a number, from next_before), `limit`. */
export const proposals = (params = {}) => get("/api/proposals" + query(params));
/** One proposal by id or by its number in the commons, with text, actions, timeline and votes. */
export const proposal = (ref) => get(`/api/proposals/${encodeURIComponent(ref)}`);
/** The next page of a proposal's votes, in the order cast: `after` is the previous page's next_after. */
export const proposalVotes = (ref, after, limit = 100) =>
  get(`/api/proposals/${encodeURIComponent(ref)}/votes` + query({ after, limit }));
/** `voter`'s vote on the proposal with its whole reason, or null if the cache holds none. */
export const voteOf = (ref, voter) =>
  get(`/api/proposals/${encodeURIComponent(ref)}/votes/${encodeURIComponent(voter)}`)
    .catch((error) => { if (error instanceof ApiError && error.status === 404) return null; throw error; });
/** `status` current | former | all; `after` (a member number, from next_after), `limit`. */
export const members = (params = {}) => get("/api/members" + query(params));
export const member = (address) => get(`/api/members/${encodeURIComponent(address)}`);
/** The decision log in chain order: entries with seq > `after`, or the last `limit` (≤ 500) before `before`;
 * `kind` and `subject` (arrays) keep only entries of those kinds, about those subjects. */
export const decisions = (params = {}) => get("/api/decisions" + query(params));
/** The decision log as a file: `csv` or `jsonl`; whole, or only the entries `filters` (kind, subject) keep. */
export const decisionExportUrl = (format, filters = {}) => `/api/decisions/export.${format}` + query(filters);
export const participation = () => get("/api/stats/participation");
/** The treasury at the indexed block: balances per asset (address, symbol, decimals), flows, contributors. */
export const treasury = () => get("/api/treasury");
/** The names the page shares with Python: proposal states, support numbers, decision-log kinds by group, gas margin. */
export const vocabulary = () => get("/api/vocabulary");
export const PAGE_LIMIT = 500;

// ---- the relay (api/routes/relay.py) ----
export const relayConfig = () => get("/api/relay/config");
export const relayStatus = () => get("/api/relay/status");
export const ballotTypedData = (proposalId, support, voter, reason) =>
  post("/api/relay/typed-data", { proposal_id: proposalId, support, voter, reason });
export const submitBallot = (body) => post("/api/relay/ballots", body);
export const ballotStatus = (id) => get(`/api/relay/ballots/${id}`);

// ---- email reminders (api/routes/reminders.py): sign-in with Ethereum, then the member's own subscription ----
export const reminderMessage = (address) => post("/api/reminders/sign-in/message", { address });
export const reminderSignIn = (message, signature) => post("/api/reminders/sign-in", { message, signature });
export const saveReminders = (token, preferences) =>
  request("/api/reminders/subscription", { method: "PUT", body: JSON.stringify(preferences), token });
export const deleteReminders = (token) => request("/api/reminders/subscription", { method: "DELETE", token });
export const reminderSubscription = (token) => request("/api/reminders/subscription", { token });
export const resendConfirmation = (token) =>
  request("/api/reminders/subscription/confirmation", { method: "POST", token });
