#!/usr/bin/env node
// A `solc`-compatible front for solc-js, so py-solc-x can drive it as `solc_binary`.
// solcjs's own CLI prints a banner and truncates piped stdout at 128 KiB; this shim does neither.
"use strict";
const fs = require("fs");
const path = require("path");

const nodeModules = process.env.COMMONS_NODE_MODULES || path.join(__dirname, "..", "node_modules");
const solc = require(path.join(nodeModules, "solc"));

if (process.argv.includes("--version")) {
  fs.writeSync(1, `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
  process.exit(0);
}

const roots = [process.cwd(), nodeModules];
function findImports(importPath) {
  for (const root of roots) {
    const candidate = path.resolve(root, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: `File not found: ${importPath}` };
}

const input = fs.readFileSync(0, "utf8");
const output = solc.compile(input, { import: findImports });
const buffer = Buffer.from(output, "utf8");
let offset = 0;
while (offset < buffer.length) offset += fs.writeSync(1, buffer, offset, buffer.length - offset);
