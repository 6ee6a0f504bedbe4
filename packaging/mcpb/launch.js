// The MCPB bundle's entry point (what the host runs with its own Node): starts the binary
// shipped beside it, giving it back its execute bit if the host unpacked it without one.
"use strict";

const path = require("path");
const { run } = require("./run.js");

const exe = process.platform === "win32" ? "nemo-mcp.exe" : "nemo-mcp";
run(path.join(__dirname, "bin", exe), { repairMode: true });
