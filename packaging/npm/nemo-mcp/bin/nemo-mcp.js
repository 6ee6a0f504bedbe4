#!/usr/bin/env node
// The `nemo-mcp` command of the npm package: finds the binary in the platform package npm
// installed (an optional dependency chosen by `os` and `cpu`) and runs it. No install script,
// no download: what npm installed is all there is.
"use strict";

const path = require("path");
const { run, fail } = require("../lib/run.js");
const { PLATFORMS } = require("../lib/platforms.js");

const key = `${process.platform}-${process.arch}`;
const pkg = PLATFORMS[key];
if (!pkg) {
  fail(
    `there is no prebuilt nemo-mcp for ${key}. ` +
      "Install it with Rust instead: cargo install --git https://github.com/nemo-mcp/nemo-mcp nemo-mcp",
  );
}
let dir;
try {
  dir = path.dirname(require.resolve(`${pkg}/package.json`));
} catch {
  fail(
    `the package ${pkg}, which holds the nemo-mcp binary for ${key}, is not installed. ` +
      "npm installs it as an optional dependency, so it is missing after --omit=optional, " +
      "--no-optional or a lockfile made on another platform. Install again without those: " +
      "npx -y nemo-mcp, or npm install nemo-mcp.",
  );
}
run(path.join(dir, "bin", process.platform === "win32" ? "nemo-mcp.exe" : "nemo-mcp"));
