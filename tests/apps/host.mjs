// A real MCP Apps host for nemo-mcp's player view, run in CI:
//  - the official TypeScript client (@modelcontextprotocol/client) starts nemo-mcp over stdio,
//    declares the UI extension, and makes a video against nemo-sim (upload, generate, export)
//    with its default 60 s request timeout and no progress handling (bounded waits);
//  - Debian's chromium (puppeteer-core) renders the export tool's view through the official host
//    bridge (AppBridge from @modelcontextprotocol/ext-apps), in <iframe sandbox="allow-scripts"
//    srcdoc> with a Content-Security-Policy injected: the spec's default and VS Code's;
//  - it asserts: the <video> becomes playable with the export's length and 1920x1080; the
//    timeline lanes match get_timeline's tracks; the hostile title stays inert (no dialog, no
//    <img src=x>, shown as text); no JSON-RPC message over 1 MB; screenshots of each case.
// Usage: node host.mjs NEMO_MCP NEMO_SIM OUT_DIR [--bench]
//   --bench: also time the 10 MB and 40 MB cases and piece reads (docs/benchmarks.md).
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, statSync, openSync, readSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer } from "node:net";
import { build } from "esbuild";
import puppeteer from "puppeteer-core";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const HERE = dirname(fileURLToPath(import.meta.url));
const [mcpBin, simBin, outDir] = process.argv.slice(2);
const BENCH = process.argv.includes("--bench");
const HOSTILE = "<img src=x onerror=alert(1)>";
const MAX_MESSAGE = 1_000_000;
const CSP = {
  // The MCP Apps specification: what a host applies when the resource declares no csp.
  spec: "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self' data:; connect-src 'none'",
  // VS Code's MCP App webview policy (no resourceDomains declared).
  vscode: "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; font-src 'self'; media-src 'self' data:; frame-src 'none'; object-src 'none'; base-uri 'self'",
};
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const fail = (msg) => {
  console.error(`apps host: FAILED: ${msg}`);
  process.exit(1);
};
const check = (ok, msg) => {
  if (!ok) fail(msg);
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startSim(kbps) {
  const port = await freePort();
  const child = spawn(simBin, ["--port", String(port), "--time-scale", "0.05", "--render-kbps", String(kbps), "--starting-credits", "1000"], {
    stdio: ["ignore", "ignore", "ignore"],
  });
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/`);
      if (r) break;
    } catch {
      await sleep(100);
    }
  }
  return { child, url: `http://127.0.0.1:${port}` };
}

/// A PNG made by ffmpeg (any real image works; the simulator checks the bytes).
function png(path, color) {
  const r = spawn("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", `color=c=${color}:s=640x360`, "-frames:v", "1", path]);
  return new Promise((resolve, reject) => r.on("exit", (c) => (c === 0 ? resolve() : reject(new Error("ffmpeg")))));
}

/// The client, connected over stdio and declaring the UI extension; every message it receives
/// is measured.
async function connect(home, simUrl) {
  const transport = new StdioClientTransport({
    command: mcpBin,
    args: [],
    env: { HOME: home, PATH: process.env.PATH, NEMO_API_URL: simUrl, NEMO_OUTPUT_DIR: join(home, "out"), NEMO_ALLOWED_DIRS: join(home, "media") },
    stderr: "ignore",
  });
  const client = new Client(
    { name: "nemo-apps-host-test", version: "1.0.0" },
    { capabilities: { extensions: { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } } } },
  );
  await client.connect(transport);
  const sizes = { max: 0, count: 0 };
  const receive = transport.onmessage;
  transport.onmessage = (message, extra) => {
    const n = Buffer.byteLength(JSON.stringify(message));
    sizes.max = Math.max(sizes.max, n);
    sizes.count++;
    receive(message, extra);
  };
  return { client, sizes };
}

/// A tool call as a host makes it: default timeout, no progress handler. A running job is
/// followed with get_job (bounded waits), as the server's answer asks.
async function call(client, name, args) {
  let r = await client.callTool({ name, arguments: args });
  check(!r.isError, `${name}: ${JSON.stringify(r.content)}`);
  while (r.structuredContent && r.structuredContent.status === "running") {
    r = await client.callTool({ name: "get_job", arguments: { job_id: r.structuredContent.job_id, wait_s: 30 } });
    check(!r.isError, `get_job: ${JSON.stringify(r.content)}`);
  }
  return r;
}

/// The quick edit: upload, generate (with the hostile title), export. Returns the export result.
async function quickEdit(client, home) {
  const paths = [join(home, "media", "shoe.png"), join(home, "media", "bag.png")];
  await png(paths[0], "0x336699");
  await png(paths[1], "0x993366");
  const tools = await client.listTools();
  const byName = Object.fromEntries(tools.tools.map((t) => [t.name, t]));
  for (const name of ["export_video", "make_video", "get_job", "get_timeline"]) {
    check(byName[name]?._meta?.ui?.resourceUri === "ui://nemo/player", `${name} is linked to the view`);
  }
  check(byName.read_export_piece?._meta?.ui?.visibility?.[0] === "app", "the piece tool is app-only");
  await call(client, "upload_media", { paths });
  const g = await call(client, "generate", {
    instruction: `combine these images into a 10-second video with music and a title "${HOSTILE}"`,
  });
  check(g.structuredContent.status === "succeeded", `generate: ${JSON.stringify(g.structuredContent)}`);
  const args = {};
  const started = await client.callTool({ name: "export_video", arguments: args });
  check(!started.isError, `export_video: ${JSON.stringify(started.content)}`);
  return { started, args };
}

let bridgeScript;
async function bridgeBundle() {
  if (!bridgeScript) {
    const out = await build({
      entryPoints: [join(HERE, "bridge.mjs")],
      bundle: true,
      format: "iife",
      platform: "browser",
      write: false,
      logLevel: "silent",
    });
    bridgeScript = out.outputFiles[0].text;
  }
  return bridgeScript;
}

/// A page acting as the host: it proxies the view's requests to the server through the MCP
/// client and carries the official bridge.
async function openHost(browser, client, title) {
  const page = await browser.newPage();
  await page.setViewport({ width: 800, height: 900 });
  await page.exposeFunction("hostCallTool", async (params) => JSON.stringify(await client.callTool(params)));
  await page.exposeFunction("hostReadResource", async (params) => JSON.stringify(await client.readResource(params)));
  await page.setContent(`<!doctype html><html><head><style>body{margin:0;font:13px sans-serif;background:#e5e7eb}
    header{padding:8px 12px;background:#111827;color:#fff} iframe{display:block;width:760px;height:560px;border:0;margin:12px;background:#fff;border-radius:8px}</style></head>
    <body><header>NemoVideo · MCP App test host (${title})</header></body></html>`);
  await page.addScriptTag({ content: await bridgeBundle() });
  return page;
}

/// The view in a sandboxed frame under `csp`, handed the tool's input and result through
/// `AppBridge`; the frame once it exists.
async function mountView(page, view, csp, toolResult, toolArgs) {
  const html = view.text.replace("<head>", `<head><meta http-equiv="Content-Security-Policy" content="${csp.policy}">`);
  await page.evaluate(
    async (html, result, args) => {
      const { AppBridge, PostMessageTransport } = globalThis.NemoHost;
      const iframe = document.createElement("iframe");
      iframe.setAttribute("sandbox", "allow-scripts");
      document.body.append(iframe);
      const bridge = new AppBridge(null, { name: "nemo-test-host", version: "1.0.0" }, { serverTools: {}, serverResources: {} }, {
        hostContext: { theme: "light", displayMode: "inline", containerDimensions: { maxWidth: 760 } },
      });
      bridge.oncalltool = async (params) => JSON.parse(await window.hostCallTool(params));
      bridge.onreadresource = async (params) => JSON.parse(await window.hostReadResource(params));
      bridge.onsizechange = ({ height }) => {
        if (height) iframe.style.height = Math.min(Math.max(height, 200), 1400) + "px";
      };
      bridge.oninitialized = () => {
        bridge.sendToolInput({ arguments: args });
        bridge.sendToolResult(result);
      };
      await bridge.connect(new PostMessageTransport(iframe.contentWindow, iframe.contentWindow));
      iframe.srcdoc = html;
    },
    html,
    toolResult,
    toolArgs,
  );
  for (let i = 0; i < 200; i++) {
    const f = page.frames().find((x) => x !== page.mainFrame() && x.url() === "about:srcdoc");
    if (f) return f;
    await sleep(50);
  }
  fail("the view's frame never appeared");
}

/// Renders the view for one tool result under one CSP; returns what the frame shows.
async function render(browser, client, view, toolResult, toolArgs, csp, shot) {
  const page = await openHost(browser, client, `${csp.name} CSP`);
  const dialogs = [];
  page.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss();
  });
  const cspViolations = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  const t0 = Date.now();
  const frame = await mountView(page, view, csp, toolResult, toolArgs);
  // Playable: enough data to play (readyState >= 3) with its size known.
  let state;
  for (let i = 0; i < 1200; i++) {
    state = await frame.evaluate(() => {
      if (!document.getElementById("status")) return { ready: -1, duration: NaN, width: 0, height: 0, failed: "", src: "" };
      const v = document.getElementById("video");
      const failure = document.getElementById("failure");
      return {
        ready: v ? v.readyState : -1,
        duration: v ? v.duration : NaN,
        width: v ? v.videoWidth : 0,
        height: v ? v.videoHeight : 0,
        failed: failure && !failure.hidden ? failure.textContent.trim() : "",
        src: v && v.src ? v.src.slice(0, 22) : "",
      };
    });
    if (state.failed) fail(`${csp.name}: the view shows a failure: ${state.failed}`);
    if (state.ready >= 3 && state.width > 0) break;
    await sleep(25);
  }
  const playableMs = Date.now() - t0;
  check(state.ready >= 3, `${csp.name}: the video never became playable: ${JSON.stringify(state)}`);
  // The lanes come from get_timeline, called by the view; wait for them.
  let lanes = [];
  for (let i = 0; i < 200; i++) {
    lanes = await frame.evaluate(() =>
      [...document.querySelectorAll(".lane")].map((l) => ({
        kind: l.dataset.kind,
        labels: [...l.querySelectorAll(".seg span")].map((s) => s.textContent),
      })),
    );
    if (lanes.length) break;
    await sleep(25);
  }
  // What the file was held against, shown beside it (as text).
  const held = await frame.evaluate(() => {
    const c = document.getElementById("checked");
    return c && !c.hidden ? c.textContent : "";
  });
  check(held.includes("black pictures"), `${csp.name}: the view shows what the file was checked for: ${JSON.stringify(held)}`);
  const inert = await frame.evaluate((hostile) => ({
    injected: document.querySelectorAll('img[src="x"], img[src$="/x"]').length,
    shownAsText: [...document.querySelectorAll(".seg span")].some((s) => s.textContent === hostile),
  }), HOSTILE);
  // A moment for any injected handler to fire.
  await sleep(300);
  await page.screenshot({ path: shot });
  await page.close();
  return { state, playableMs, lanes, inert, dialogs, cspViolations };
}

/// A set of versions (make_video with variants) shown side by side; the first one played.
async function renderSet(browser, client, view, home) {
  const paths = [join(home, "media", "shoe.png"), join(home, "media", "bag.png")];
  const args = {
    instruction: "combine these images into a 10-second video with music",
    paths,
    variants: ["square 1:1", "vertical 9:16"],
  };
  const set = await call(client, "make_video", args);
  check(set.structuredContent.status === "succeeded", `make_video with variants: ${JSON.stringify(set.structuredContent)}`);
  const page = await openHost(browser, client, "a set of versions");
  const frame = await mountView(page, view, { name: "spec", policy: CSP.spec }, set, args);
  let labels = [];
  for (let i = 0; i < 200 && labels.length < 2; i++) {
    labels = await frame.evaluate(() => [...document.querySelectorAll(".version h3")].map((h) => h.textContent));
    if (labels.length < 2) await sleep(25);
  }
  check(JSON.stringify(labels) === JSON.stringify(["square 1:1", "vertical 9:16"]), `versions side by side: ${JSON.stringify(labels)}`);
  const held = await frame.evaluate(() => [...document.querySelectorAll(".version")].map((c) =>
    [...c.querySelectorAll("p")].some((p) => p.textContent.startsWith("Checked: length (10 s asked)"))));
  check(held.length === 2 && held.every(Boolean), `each version says what it was checked for: ${JSON.stringify(held)}`);
  await frame.evaluate(() => document.querySelector(".version button").click());
  let shape = { w: 0, h: 0 };
  for (let i = 0; i < 400 && !shape.w; i++) {
    shape = await frame.evaluate(() => {
      const v = document.querySelector(".version video");
      return { w: v ? v.videoWidth : 0, h: v ? v.videoHeight : 0 };
    });
    if (!shape.w) await sleep(25);
  }
  check(shape.w === 1080 && shape.h === 1080, `the square version plays at ${shape.w}x${shape.h}`);
  const shot = join(outDir, "player-versions.png");
  await page.screenshot({ path: shot });
  await page.close();
  console.log(`  ok: a set of 2 versions side by side; the square one plays at 1080x1080; screenshot ${shot}`);
}

async function runCase(browser, { kbps, name, csps, withSet }) {
  const home = mkdtempSync(join(tmpdir(), "nemo-apps-"));
  mkdirSync(join(home, "media"), { recursive: true });
  const sim = await startSim(kbps);
  try {
    const { client, sizes } = await connect(home, sim.url);
    const caps = client.getServerCapabilities();
    check(caps?.extensions?.["io.modelcontextprotocol/ui"], "the server declares the UI extension");
    const tEdit = Date.now();
    const { started, args } = await quickEdit(client, home);
    // The result the host hands to the view is the export tool's own (running or finished).
    const view = (await client.readResource({ uri: "ui://nemo/player" })).contents[0];
    check(view.mimeType === "text/html;profile=mcp-app", `view mime ${view.mimeType}`);
    let finished = started;
    while (finished.structuredContent.status === "running") {
      finished = await client.callTool({ name: "get_job", arguments: { job_id: started.structuredContent.job_id, wait_s: 30 } });
    }
    check(finished.structuredContent.status === "succeeded", `export: ${JSON.stringify(finished.structuredContent)}`);
    const editS = (Date.now() - tEdit) / 1000;
    const exp = finished.structuredContent.result;
    const size = statSync(exp.path).size;
    const timeline = (await client.callTool({ name: "get_timeline", arguments: {} })).structuredContent;
    const results = {};
    for (const csp of csps) {
      const shot = join(outDir, `player-${name}-${csp.name}.png`);
      const r = await render(browser, client, view, finished, args, csp, shot);
      const tag = `${name} (${(size / 1e6).toFixed(1)} MB) under the ${csp.name} CSP`;
      check(r.dialogs.length === 0, `${tag}: a dialog opened: ${r.dialogs}`);
      check(Math.abs(r.state.duration - exp.duration_s) < 0.5, `${tag}: duration ${r.state.duration} vs ${exp.duration_s}`);
      check(r.state.width === 1920 && r.state.height === 1080, `${tag}: ${r.state.width}x${r.state.height}`);
      check(r.state.src.startsWith("data:video/mp4"), `${tag}: plays from ${r.state.src}`);
      check(JSON.stringify(r.lanes.map((l) => l.kind)) === JSON.stringify(timeline.tracks.map((t) => t.kind)), `${tag}: lanes ${JSON.stringify(r.lanes)} vs tracks ${JSON.stringify(timeline.tracks)}`);
      timeline.tracks.forEach((t, i) => {
        const labels = t.segments.map((s) => s.label ?? "");
        check(r.lanes[i].labels.length === labels.length, `${tag}: lane ${i} has ${r.lanes[i].labels.length} segments, the track ${labels.length}`);
      });
      check(r.inert.injected === 0 && r.inert.shownAsText, `${tag}: the hostile title is not inert text: ${JSON.stringify(r.inert)}`);
      console.log(`  ok: ${tag}: playable in ${r.playableMs} ms, ${r.state.duration.toFixed(1)} s ${r.state.width}x${r.state.height}, ${r.lanes.length} lanes, hostile title inert; screenshot ${shot}`);
      results[csp.name] = r;
    }
    if (withSet) await renderSet(browser, client, view, home);
    check(sizes.max <= MAX_MESSAGE, `${name}: a message of ${sizes.max} bytes (limit ${MAX_MESSAGE})`);
    console.log(`  ok: ${name}: the quick edit took ${editS.toFixed(1)} s with the default 60 s timeout; largest of ${sizes.count} messages: ${sizes.max} bytes`);
    let bench;
    if (BENCH) bench = await pieceThroughput(client, finished.structuredContent.job_id, exp.path, size);
    await client.close();
    return { size, results, maxMessage: sizes.max, bench };
  } finally {
    sim.child.kill();
  }
}

/// Piece reads through the client against reading the file directly.
async function pieceThroughput(client, jobId, path, size) {
  let t = Date.now();
  let offset = 0;
  while (offset < size) {
    const r = await client.callTool({ name: "read_export_piece", arguments: { job_id: jobId, offset } });
    offset += r.structuredContent.length;
  }
  const viaServer = (Date.now() - t) / 1000;
  t = Date.now();
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(524286);
  for (let o = 0; o < size; o += buf.length) readSync(fd, buf, 0, buf.length, o);
  closeSync(fd);
  const direct = Math.max((Date.now() - t) / 1000, 0.001);
  return { viaServer, direct };
}

mkdirSync(outDir, { recursive: true });
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--mute-audio", "--autoplay-policy=no-user-gesture-required"],
});
try {
  console.log("apps host: the export tool's view, 10-second 1080p export, both CSPs");
  const main = await runCase(browser, {
    kbps: 8000,
    name: "10mb",
    csps: [{ name: "spec", policy: CSP.spec }, { name: "vscode", policy: CSP.vscode }],
    withSet: true,
  });
  console.log("apps host: a 40 MB export in the same harness");
  const big = await runCase(browser, { kbps: 32000, name: "40mb", csps: [{ name: "spec", policy: CSP.spec }] });
  check(big.size >= 38e6, `the large export is only ${big.size} bytes`);
  if (BENCH) {
    const row = (label, c) =>
      `| ${label} | ${(c.size / 1e6).toFixed(1)} MB | ${(c.results.spec.playableMs / 1000).toFixed(2)} s | ${(c.bench.viaServer).toFixed(2)} s (${(c.size / 1e6 / c.bench.viaServer).toFixed(0)} MB/s) | ${(c.bench.direct * 1000).toFixed(0)} ms (${(c.size / 1e6 / c.bench.direct).toFixed(0)} MB/s) | ${c.maxMessage} |`;
    const table = [
      "| export | size | export result → playable `<video>` (spec CSP) | all pieces through the TS client | reading the file directly | largest message (bytes) |",
      "|---|---|---|---|---|---|",
      row("10 s 1080p at 8 Mbit/s", main),
      row("10 s 1080p at 32 Mbit/s", big),
    ].join("\n");
    writeFileSync(join(outDir, "player-bench.md"), table + "\n");
    console.log(table);
  }
  console.log("apps host: all checks passed");
} finally {
  await browser.close();
}
