// The member's wallet: discovery (EIP-6963, falling back to window.ethereum), connection, and the
// commons' chain (switch to it, or add it first). Nothing secret lives here: the wallet signs.

import { ethers } from "./lib.js";
import { chainLabel, chainName } from "./words.js";

const DISCOVERY_MS = 400;

/** Wallets that announce themselves (EIP-6963), or the legacy injected one; [{info, provider}]. */
export async function discoverWallets() {
  const found = new Map();
  const onAnnounce = (event) => {
    const { info, provider } = event.detail || {};
    if (info && provider && !found.has(info.uuid)) found.set(info.uuid, { info, provider });
  };
  window.addEventListener("eip6963:announceProvider", onAnnounce);
  window.dispatchEvent(new Event("eip6963:requestProvider"));
  await new Promise((resolve) => setTimeout(resolve, DISCOVERY_MS));
  window.removeEventListener("eip6963:announceProvider", onAnnounce);
  const wallets = [...found.values()];
  if (!wallets.length && window.ethereum) {
    wallets.push({ info: { uuid: "injected", name: "Browser wallet", rdns: "injected", icon: "" }, provider: window.ethereum });
  }
  return wallets;
}

/** A connected wallet: the EIP-1193 provider, the chosen account, and the chain it is on. */
export class Wallet {
  constructor(provider, name) {
    this.provider = provider;
    this.name = name;
    this.account = null;
    this.chainId = null;
  }

  async connect() {
    const accounts = await this.provider.request({ method: "eth_requestAccounts" });
    if (!accounts || !accounts.length) throw new Error("The wallet shared no account.");
    this.account = ethers.getAddress(accounts[0]);
    this.chainId = Number(BigInt(await this.provider.request({ method: "eth_chainId" })));
    return this;
  }

  /** Call `onChange` when the member switches account or chain in the wallet. */
  watch(onChange) {
    if (!this.provider.on) return;
    this.provider.on("accountsChanged", (accounts) => {
      this.account = accounts && accounts.length ? ethers.getAddress(accounts[0]) : null;
      onChange();
    });
    this.provider.on("chainChanged", (chainId) => {
      this.chainId = Number(BigInt(chainId));
      onChange();
    });
  }

  onChain(chainId) {
    return this.chainId === chainId;
  }

  /** Ask the wallet to switch to the commons' chain, adding it first if the wallet does not know it. */
  async switchTo(config) {
    const chainId = "0x" + config.chain_id.toString(16);
    try {
      await this.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    } catch (error) {
      // 4902: the wallet does not know this chain (some wallets wrap it in data.originalError).
      const code = error.code ?? error.data?.originalError?.code;
      if (code !== 4902) throw error;
      if (!config.rpc_url) {
        throw new Error(`Your wallet does not know ${chainLabel(config.chain_id)}, and this commons publishes no node ` +
          "address for wallets to add it with: ask a steward for one, or add the network in your wallet yourself.");
      }
      await this.provider.request({
        method: "wallet_addEthereumChain",
        params: [{
          chainId,
          chainName: chainName(config.chain_id, `${config.name} chain`),
          nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
          rpcUrls: [config.rpc_url],
        }],
      });
      // Some wallets switch as they add, others only add: ask again (a no-op for the former).
      await this.provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
    }
    this.chainId = Number(BigInt(await this.provider.request({ method: "eth_chainId" })));
  }

  /** An ethers signer that asks this wallet to sign and send. */
  async signer() {
    return new ethers.BrowserProvider(this.provider).getSigner(this.account);
  }

  /** Reads through the wallet's node (only when it is on the commons' chain). */
  reader() {
    return new ethers.BrowserProvider(this.provider);
  }

  /** eth_signTypedData_v4 of the typed data exactly as the relay gave it. */
  async signTypedData(typedData) {
    return this.provider.request({
      method: "eth_signTypedData_v4",
      params: [this.account, JSON.stringify(typedData)],
    });
  }
}

/** A sentence for a wallet error (the member rejected, or the wallet failed). */
export function walletErrorText(error) {
  const code = error?.code ?? error?.info?.error?.code;
  if (code === 4001 || code === "ACTION_REJECTED") return "You declined in your wallet; nothing was sent.";
  return error?.shortMessage || error?.info?.error?.message || error?.message || String(error);
}
