// Launch an unpacked MCPB bundle the way Claude Desktop does: the command line comes from
// @anthropic-ai/mcpb's own getMcpConfigForManifest, with user_config left empty, and the
// official TypeScript SDK client speaks to it. Checks:
//  - the server starts, and its tools/list names equal the manifest's tools;
//  - the empty token setting (which arrives as the text `${user_config.token}`) is not used as
//    a token: `connect` gets a free anonymous account from nemo-sim;
//  - the output folder default `${HOME}/Videos/NemoVideo` and the allowed folders `${HOME}`
//    arrive expanded (or are expanded by the server), never as folders named `${HOME}`.
// Usage: node mcpb_launch.mjs NODE_MODULES UNPACKED_DIR HOME SIM_URL
import { readFileSync, realpathSync } from "node:fs";
import { join, sep } from "node:path";
import { pathToFileURL } from "node:url";

const [nodeModules, dir, home, sim] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(nodeModules, p)).href);
const { getMcpConfigForManifest } = await load("@anthropic-ai/mcpb/dist/index.js");
const { Client } = await load("@modelcontextprotocol/sdk/dist/esm/client/index.js");
const { StdioClientTransport } = await load("@modelcontextprotocol/sdk/dist/esm/client/stdio.js");

const fail = (msg) => {
  console.error(`mcpb launch: ${msg}`);
  process.exit(1);
};
const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
const config = await getMcpConfigForManifest({
  manifest,
  extensionPath: dir,
  systemDirs: { HOME: home, DESKTOP: join(home, "Desktop"), DOCUMENTS: join(home, "Documents"), DOWNLOADS: join(home, "Downloads") },
  userConfig: {},
  pathSeparator: sep,
});
if (!config) fail("getMcpConfigForManifest gave no config");
console.log(`command: ${config.command} ${config.args.join(" ")}`);
console.log(`env: ${JSON.stringify(config.env)}`);

const transport = new StdioClientTransport({
  command: config.command,
  args: config.args,
  env: { PATH: process.env.PATH, HOME: home, ...config.env, NEMO_API_URL: sim, NEMO_WEB_URL: sim },
  stderr: "inherit",
});
const client = new Client({ name: "mcpb-launch-test", version: "1" });
await client.connect(transport);
const { tools } = await client.listTools();
const served = tools.map((t) => t.name).sort();
const listed = manifest.tools.map((t) => t.name).sort();
console.log(`tools/list: ${served.join(", ")}`);
if (JSON.stringify(served) !== JSON.stringify(listed)) {
  fail(`the manifest lists ${listed.join(", ")}; the server ${served.join(", ")}`);
}
const r = await client.callTool({ name: "connect", arguments: {} });
const s = r.structuredContent ?? {};
if (r.isError) fail(`connect failed: ${JSON.stringify(s)}`);
if (s.account !== "anonymous") fail(`expected a free anonymous account, got ${JSON.stringify(s)}`);
const expectedOut = join(home, "Videos", "NemoVideo");
if (s.output_dir !== expectedOut) fail(`output_dir ${s.output_dir}, expected ${expectedOut}`);
const realHome = realpathSync(home);
if (JSON.stringify(s.allowed_dirs) !== JSON.stringify([realHome])) {
  fail(`allowed_dirs ${JSON.stringify(s.allowed_dirs)}, expected [${realHome}]`);
}
console.log(`connect: anonymous account, output ${s.output_dir}, uploads from ${s.allowed_dirs}`);
await client.close();
