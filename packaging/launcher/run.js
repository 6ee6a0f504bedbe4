// Start the nemo-mcp binary as if it were this process: the same arguments, stdin, stdout and
// stderr (stdout is the MCP channel, so nothing here ever writes to it), its exit code, and the
// signals this process receives passed on. Shared by the npm launcher and the MCPB entry point.
"use strict";

const { spawn } = require("child_process");
const fs = require("fs");

/** Say why nothing can start, on stderr, and exit. */
function fail(message, code = 1) {
  process.stderr.write(`nemo-mcp: ${message}\n`);
  process.exit(code);
}

/**
 * Hosts have been seen unpacking bundles without the execute bit: give it back (owner, group
 * and others may read and run it, as an installed binary). Not needed on Windows.
 */
function ensureExecutable(binary) {
  if (process.platform === "win32") return;
  try {
    const mode = fs.statSync(binary).mode;
    if ((mode & 0o111) !== 0o111) fs.chmodSync(binary, mode | 0o555);
  } catch (e) {
    // A read-only install still may be runnable; spawning will tell.
    process.stderr.write(`nemo-mcp: could not make ${binary} executable: ${e.message}\n`);
  }
}

/** Run `binary` with this process's arguments; never returns. */
function run(binary, { repairMode = false } = {}) {
  if (!fs.existsSync(binary)) fail(`the binary is missing: ${binary}`);
  if (repairMode) ensureExecutable(binary);
  const child = spawn(binary, process.argv.slice(2), { stdio: "inherit", windowsHide: true });
  const forward = (signal) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"]) {
    try {
      process.on(signal, () => forward(signal));
    } catch {
      // Not every signal exists on every platform.
    }
  }
  child.on("error", (e) => fail(`could not start ${binary}: ${e.message}`));
  child.on("exit", (code, signal) => {
    if (signal) {
      // End the same way the child did, so the caller sees the signal.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code === null ? 1 : code);
  });
}

module.exports = { run, fail };
