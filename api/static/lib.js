// The web client's npm libraries, as ES modules served by this app from node_modules (api/routes/web.py VENDOR):
// every module imports them from here, so the page's dependencies are visible and nothing comes from another host.

export * as ethers from "/vendor/ethers.js";
export { default as DOMPurify } from "/vendor/purify.js";
export { default as markdownit } from "/vendor/markdown-it.js";
