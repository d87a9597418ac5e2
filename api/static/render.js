// Small rendering helpers: DOM building without innerHTML, untrusted Markdown made safe, times, an SVG chart.

import { DOMPurify, ethers, markdownit } from "./lib.js";

/** Children as nodes: nested arrays flattened, text as text nodes (never parsed as HTML); null, undefined and false left out. */
function nodes(children) {
  return children.flat(Infinity).filter((child) => child !== undefined && child !== null && child !== false)
    .map((child) => (child instanceof Node ? child : document.createTextNode(String(child))));
}

/** Build an element; children as `nodes` takes them. */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  element.append(...nodes(children));
  return element;
}

/** Replace an element's children, taking them as `h` does (a bare replaceChildren writes "null" for null). */
export function fill(element, ...children) {
  element.replaceChildren(...nodes(children));
  return element;
}

let markdown = null;

/** A proposal's Markdown (untrusted) as a sanitized fragment: raw HTML is escaped, then DOMPurify cleans the result. */
export function renderMarkdown(text) {
  if (!markdown) {
    // html: false makes markdown-it escape any raw HTML in the text; DOMPurify is the second line.
    markdown = markdownit({ html: false, linkify: true, typographer: false });
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") {
        node.setAttribute("rel", "noopener noreferrer nofollow");
        node.setAttribute("target", "_blank");
      }
    });
  }
  const clean = DOMPurify.sanitize(markdown.render(text || ""), {
    FORBID_TAGS: ["style", "form", "input", "button", "iframe", "img"],
    FORBID_ATTR: ["style"],
    RETURN_DOM_FRAGMENT: true,
  });
  return h("div", { class: "markdown" }, clean);
}

/** The Markdown people read: without its first '# Title' line (shown as the heading), and without the
 * `#proposer=0x…` line that binds a proposal to its proposer on-chain (governance/actions.py PROPOSER_SUFFIX). */
export function proposalBody(text) {
  return (text || "").replace(/^\s*#[^\n]*\n?/, "").replace(/(?:\n\n)?#proposer=0x[0-9a-fA-F]{40}$/, "");
}

export function shortAddress(address) {
  return address ? `${address.slice(0, 6)}…${address.slice(-4)}` : "";
}

export function shortHash(hash) {
  return hash ? `${hash.slice(0, 10)}…${hash.slice(-6)}` : "";
}

export function dateTime(seconds) {
  if (!seconds) return "";
  return new Date(Number(seconds) * 1000).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A span of seconds in words: "45 s", "12 min", "5 h 20 min", "3 days". */
export function duration(seconds) {
  const s = Math.abs(Number(seconds));
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) {
    const minutes = Math.round((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h` + (minutes ? ` ${minutes} min` : "");
  }
  return `${Math.round(s / 86400)} days`;
}

/** "2 h 5 min left", "closed 3 days ago", from chain seconds and `now` (the chain's clock, in seconds). */
export function timeLeft(deadline, now) {
  const delta = Number(deadline) - now;
  return delta >= 0 ? `${duration(delta)} left` : `closed ${duration(delta)} ago`;
}

/** Whole ether from a wei decimal string, without rounding through JS numbers. */
export function ether(wei) {
  return `${ethers.formatEther(BigInt(wei || "0")).replace(/\.0$/, "")} ETH`;
}

/** A progress bar as an accessible <progress>-like element (width set through CSSOM, allowed by CSP). */
export function bar(fraction, label, kind = "") {
  const fill = h("span", { class: `fill ${kind}` });
  fill.style.width = `${Math.max(0, Math.min(1, fraction)) * 100}%`;
  return h("span", { class: "bar", role: "img", "aria-label": label, title: label }, fill);
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs = {}, text) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

/** Turnout per proposal, oldest first, as a plain SVG bar chart: points = [{label, tick, turnout (0..1 or null)}]. */
export function turnoutChart(points) {
  const width = 360, height = 200, left = 38, right = 6, bottom = 24, top = 10;
  const svg = s("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", id: "turnout-chart",
    "aria-label": `Turnout for ${points.length} proposals, oldest first` });
  const plotHeight = height - bottom - top;
  for (const tick of [0, 0.5, 1]) {
    const y = top + plotHeight * (1 - tick);
    svg.append(s("line", { x1: left, x2: width - right, y1: y, y2: y, class: "grid" }));
    svg.append(s("text", { x: left - 6, y: y + 4, "text-anchor": "end", class: "axis" }, `${tick * 100}%`));
  }
  const step = (width - left - right) / Math.max(points.length, 1);
  const labelEvery = Math.ceil(points.length / 12);
  points.forEach((point, i) => {
    const fraction = Math.max(0, Math.min(1, point.turnout ?? 0));
    const barHeight = Math.max(plotHeight * fraction, 1);
    const barWidth = Math.min(step * 0.7, 40);
    const rect = s("rect", { x: left + i * step + (step - barWidth) / 2, y: top + plotHeight - barHeight,
      width: barWidth, height: barHeight, rx: 2, class: "turnout" });
    rect.append(s("title", {}, `${point.label}: ${point.turnout === null ? "no electorate" : `${Math.round(fraction * 100)}% turnout`}`));
    svg.append(rect);
    if (i % labelEvery === 0) {
      svg.append(s("text", { x: left + i * step + step / 2, y: height - 8, "text-anchor": "middle", class: "axis" }, point.tick));
    }
  });
  return svg;
}
