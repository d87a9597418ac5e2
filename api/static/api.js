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
    headers: { Accept: "application/json", ...(options.body ? { "Content-Type": "application/json" } : {}) },
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
const query = (params) => {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + new URLSearchParams(pairs).toString() : "";
};

// ---- read API (api/routes/{commons,members,proposals,decisions,stats}.py) ----
export const commons = () => get("/api/commons");
export const proposals = (params = {}) => get("/api/proposals" + query(params));
export const proposal = (id) => get(`/api/proposals/${id}`);
export const proposalVotes = (id) => get(`/api/proposals/${id}/votes`);
export const member = (address) => get(`/api/members/${address}`);
export const decisions = (params = {}) => get("/api/decisions" + query(params));
export const decisionExportUrl = (format, params = {}) => `/api/decisions/export.${format}` + query(params);
export const participation = () => get("/api/stats/participation");

// ---- the relay (api/routes/relay.py) ----
export const relayConfig = () => get("/api/relay/config");
export const relayStatus = () => get("/api/relay/status");
export const ballotTypedData = (proposalId, support, voter, reason) =>
  post("/api/relay/typed-data", { proposal_id: proposalId, support, voter, reason });
export const submitBallot = (body) => post("/api/relay/ballots", body);
export const ballotStatus = (id) => get(`/api/relay/ballots/${id}`);
