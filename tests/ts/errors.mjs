// Every error path through the official TypeScript SDK 1.x, the client hosts bundle (issue 42):
// it checks an error result's structured content against the tool's output schema, and a
// mismatch throws in the client before anyone sees the error (typescript-sdk#2748). Each
// call here must come back as an error result, with no exception, and its text alone must say
// the code, whether to retry and the next step (Claude Code shows its model only the text).
//
// Usage: node errors.mjs <nemo-mcp binary> <nemo-sim binary>
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [serverBin, simBin] = process.argv.slice(2);
const freePort = () => new Promise((ok) => {
  const s = createServer();
  s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => ok(port)); });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const port = await freePort();
const sim = spawn(simBin, ["--port", String(port), "--time-scale", "0.02", "--builtin-renderer"], { stdio: "ignore" });
try {
  for (let i = 0; i < 100; i++) {
    try { await fetch(`http://127.0.0.1:${port}/_sim/log`); break; } catch { await sleep(50); }
  }
  const home = mkdtempSync(join(tmpdir(), "nemo-ts-"));
  const media = join(home, "media");
  mkdirSync(media);
  writeFileSync(join(media, "not-a-picture.png"), "this is text, not a PNG");
  // Spending off: a paid tool's refusal is one more error path.
  const env = {
    ...process.env, HOME: home, NEMO_API_URL: `http://127.0.0.1:${port}`, NEMO_WEB_URL: `http://127.0.0.1:${port}`,
    NEMO_ALLOWED_DIRS: media, NEMO_OUTPUT_DIR: join(home, "out"), NEMO_ALLOW_SPENDING: "0",
  };
  delete env.NEMO_TOKEN;
  const client = new Client({ name: "ts-sdk-1x-errors", version: "0" });
  await client.connect(new StdioClientTransport({ command: serverBin, args: [], env, stderr: "ignore" }));
  // The client learns the output schemas here, and checks every result against them.
  const { tools } = await client.listTools();
  const withSchema = tools.filter((t) => t.outputSchema).length;

  const cases = [
    ["get_job", { job_id: "not-a-job" }],
    ["get_job", { job_id: "exp_000000000000" }],
    ["cancel_job", { job_id: "gen_000000000000" }],
    ["export_video", {}],
    ["upload_media", { paths: ["/etc/shadow"] }],
    ["upload_media", { paths: [join(media, "not-a-picture.png")] }],
    ["generate", { instruction: "" }],
    ["generate", { instruction: "combine these images into a 10-second video" }],
    ["make_video", { instruction: "combine these images into a 10-second video", paths: [join(media, "nope.png")] }],
    ["connect", { project_id: "../../etc" }],
    ["get_timeline", { storyboard: "yes" }],
    ["list_jobs", { cursor: "not-a-cursor" }],
  ];
  const seen = [];
  for (const [name, args] of cases) {
    let r;
    try {
      r = await client.callTool({ name, arguments: args });
    } catch (e) {
      throw new Error(`${name} ${JSON.stringify(args)}: the client threw instead of returning the error: ${e.message}`);
    }
    const text = (r.content || []).filter((c) => c.type === "text").map((c) => c.text).join("\n");
    if (!r.isError) throw new Error(`${name} ${JSON.stringify(args)}: not an error: ${text}`);
    const s = r.structuredContent;
    if (s) {
      if (!text.includes(`Error (${s.code})`)) throw new Error(`${name}: the text misses the code ${s.code}: ${text}`);
      if (!text.includes(s.message)) throw new Error(`${name}: the text misses the message: ${text}`);
      if (s.next_step && !text.includes(s.next_step)) throw new Error(`${name}: the text misses the next step: ${text}`);
      if (!/Retryable: (yes|no)/.test(text)) throw new Error(`${name}: the text does not say whether to retry: ${text}`);
      if (s.retry_after_s != null && !text.includes(`after ${s.retry_after_s} s`)) throw new Error(`${name}: ${text}`);
    } else if (!text.trim()) {
      throw new Error(`${name}: an error with neither text nor structure`);
    }
    seen.push(`${name}: ${s ? s.code : "(text only)"}`);
  }
  await client.close();
  console.log(`TypeScript SDK 1.x: ${cases.length} error paths, ${withSchema} tools with output schemas: no client-side exception, each text alone enough to act on`);
  for (const s of seen) console.log(`  ${s}`);
} finally {
  sim.kill();
}
