"""The benchmark harness: measures nemo-mcp side by side with the alternatives in one run on one
machine and writes docs/benchmarks.md. Run through bench/run (which builds and installs what
this needs). Standard library only: the timings must not depend on an MCP client library.

Figures:
  cold start      spawn -> initialize answered -> tools/list answered (median of --runs)
  idle RSS        peak RSS after tools/list (VmHWM)
  upload          500 MB through upload_media vs `curl -F` to the same endpoint: time and peak RSS
  per-call        tools/call get_credits over stdio vs the same GET over a kept-alive HTTP connection
  SSE parsing     medians from cargo bench -p nemo-client --bench sse (JSON lines)
  quick edit      tool calls and wall time through nemo-mcp vs the seeds' curl sequence
  context         what a host model reads for the quick edit vs the seed flow (host_cost.py)
  polling         render polling against 30-90 s renders vs a fixed 10 s poll (host_cost.py)
  scale           nemo-mcp --http with 1/10/50/100 concurrent sessions, plotted (host_cost.py)
"""

import argparse
import contextlib
import http.client
import json
import shlex
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import host_cost

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")


# Loopback ports, as the Python SDK tests find and wait for them (one copy: tests/python).
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
from common import free_port, wait_port  # noqa: E402,F401 (host_cost imports them from here)


def proc_status(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class RssSampler(threading.Thread):
    """Samples a process's RSS every 10 ms; `peak` is the highest seen (VmHWM where readable)."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            for key in ("VmHWM", "VmRSS"):
                v = proc_status(self.pid, key)
                if v:
                    self.peak = max(self.peak, v)
            time.sleep(0.01)


class Stdio:
    """A JSON-RPC peer over a child's stdin/stdout (newline-delimited)."""

    def __init__(self, cmd, env):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        self.next_id = 0

    def send(self, method, params=None, notify=False):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        if not notify:
            self.next_id += 1
            msg["id"] = self.next_id
        self.p.stdin.write((json.dumps(msg) + "\n").encode())
        self.p.stdin.flush()
        if notify:
            return None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise RuntimeError(f"{method}: the server closed its output")
            r = json.loads(line)
            if r.get("id") == self.next_id:
                return r

    def init(self):
        self.send("initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}})
        self.send("notifications/initialized", notify=True)

    def call(self, name, args):
        r = self.send("tools/call", {"name": name, "arguments": args})
        return r["result"]

    def close(self):
        try:
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except Exception:
            self.p.kill()


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def mcp_env(home, sim_url, media=None, out=None, time_scale=0.05):
    # Our render poll (at most 10 s apart, its default) scaled like the simulator's durations and
    # the curl flow's 30 s poll, so that the quick-edit comparison is like for like.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "NEMO_API_URL": sim_url, "NEMO_WEB_URL": sim_url,
           "NEMO_RENDER_POLL_MS": str(int(10000 * time_scale)), "NEMO_LOG": "warn"}
    if media:
        env["NEMO_ALLOWED_DIRS"] = media
    if out:
        env["NEMO_OUTPUT_DIR"] = out
    return env


def cold_start(cmd, env, runs):
    times, rss = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        s = Stdio(cmd, env)
        s.init()
        r = s.send("tools/list", {})
        assert len(r["result"]["tools"]) == 10, r
        times.append(time.perf_counter() - t0)
        rss.append(proc_status(s.p.pid, "VmHWM") or 0)
        s.close()
    return statistics.median(times), statistics.median(rss)


def follow(s, result):
    body = result.get("structuredContent", {})
    while body.get("status") == "running":
        body = s.call("get_job", {"job_id": body["job_id"], "wait_s": 50}).get("structuredContent", {})
    return body


def product_images(media, n=6):
    """`n` photo-heavy 1280x720 PNGs in `media` (made if missing): the benchmarks' media."""
    os.makedirs(media, exist_ok=True)
    images = []
    for i in range(n):
        p = os.path.join(media, f"product{i}.png")
        png(p, 1280, 720)
        images.append(p)
    return images


@contextlib.contextmanager
def sim_server(sim, time_scale, *extra):
    """nemo-sim on a free loopback port with the built-in renderer and credits to spare; yields
    its base URL and stops it on the way out."""
    port = free_port()
    proc = subprocess.Popen([sim, "--port", str(port), "--time-scale", str(time_scale), "--builtin-renderer",
                             "--starting-credits", "100000", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def write_mp4_like(path, size):
    """A file of `size` bytes that passes the MP4 magic check (an `ftyp` box, then filler)."""
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        f.write(b"\0\0\0\x20ftypisom\0\0\x02\0isomiso2avc1mp41")
        left = size - 32
        while left > 0:
            n = min(left, len(chunk))
            f.write(chunk[:n])
            left -= n


def credentials(home):
    with open(os.path.join(home, ".config", "nemo-mcp", "credentials.json")) as f:
        token = json.load(f)["token"]
    with open(os.path.join(home, ".config", "nemo-mcp", "session.json")) as f:
        sid = json.load(f)["session_id"]
    return token, sid


ATTR = {"X-Skill-Source": "nemo-mcp", "X-Skill-Version": "bench", "X-Skill-Platform": "unknown"}


def png(path, w, h, rgb=None):
    """A PNG of one colour, or (without `rgb`) of noise: as heavy as a photo, it does not compress."""
    import struct
    import zlib
    if rgb is None:
        raw = b"".join(b"\0" + os.urandom(w * 3) for _ in range(h))
    else:
        raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 1 if rgb is None else 6)) + chunk(b"IEND", b""))


def curl_quick_edit(base, images, out_path, poll_s, transcript=None):
    """The seeds' flow, one curl per step, as the skill documents tell an agent to do it.
    `transcript` gets each command as the agent writes it and the output it reads."""
    steps = 0
    def curl(*args):
        nonlocal steps
        steps += 1
        r = subprocess.run(["curl", "-s", "--fail-with-body", *args], capture_output=True, check=True)
        if transcript is not None:
            transcript.append(("curl -s " + " ".join(shlex.quote(x) for x in args), r.stdout.decode(errors="replace")))
        return r.stdout
    hdr = [x for k, v in ATTR.items() for x in ("-H", f"{k}: {v}")]
    tok = json.loads(curl("-X", "POST", f"{base}/api/auth/anonymous-token", "-H", f"X-Client-Id: bench-{time.time_ns()}", *hdr))["data"]["token"]
    auth = ["-H", f"Authorization: Bearer {tok}", *hdr]
    sess = json.loads(curl("-X", "POST", f"{base}/api/tasks/me/with-session/nemo_agent", *auth, "-H", "Content-Type: application/json",
                           "-d", json.dumps({"task_name": "project", "language": "en"})))["data"]
    sid = str(sess["session_id"])
    files = [x for p in images for x in ("-F", f"files=@{p}")]
    curl("-X", "POST", f"{base}/api/upload-video/nemo_agent/me/{sid}", *auth, *files)
    msg = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
           "new_message": {"parts": [{"text": "combine these images into a 30-second promo video with music and text overlays"}]}}
    curl("-N", "-X", "POST", f"{base}/run_sse", *auth, "-H", "Accept: text/event-stream", "-H", "Content-Type: application/json", "-d", json.dumps(msg))
    state = json.loads(curl(f"{base}/api/state/nemo_agent/me/{sid}/latest", *auth))["data"]["state"]
    rid = f"render_{time.time_ns()}"
    curl("-X", "POST", f"{base}/api/render/proxy/lambda", *auth, "-H", "Content-Type: application/json",
         "-d", json.dumps({"id": rid, "sessionId": sid, "draft": state["draft"], "output": {"format": "mp4", "quality": "high"}}))
    while True:
        time.sleep(poll_s)
        st = json.loads(curl(f"{base}/api/render/proxy/lambda/{rid}", *auth))
        if st["status"] == "completed":
            break
    curl("-o", out_path, st["output"]["url"])
    return steps


MARKER = "<!-- written by bench/cold_start.sh -->"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mcp", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--python", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument("--upload-mb", type=int, default=500)
    ap.add_argument("--calls", type=int, default=500)
    ap.add_argument("--time-scale", type=float, default=0.05)
    ap.add_argument("--doc-only", action="store_true", help="rewrite docs/benchmarks.md from bench/out/results.json")
    a = ap.parse_args()
    saved = os.path.join(OUT, "results.json")
    if a.doc_only:
        with open(saved) as f:
            r = json.load(f)
        for k, v in r.pop("_args").items():
            setattr(a, k, v)
        write_doc(r, a)
        return
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="nemo-bench-")
    port = free_port()
    sim = subprocess.Popen([a.sim, "--port", str(port), "--time-scale", str(a.time_scale), "--builtin-renderer",
                            "--data-dir", os.path.join(work, "sim")], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    results = {}
    try:
        wait_port(port)
        home = os.path.join(work, "home")
        media = os.path.join(work, "media")
        out = os.path.join(work, "out")
        for d in (home, media, out):
            os.makedirs(d)
        env = mcp_env(home, base, media, out, a.time_scale)

        # The tool list, for the baseline servers.
        s = Stdio([a.mcp], env)
        s.init()
        tools = s.send("tools/list", {})["result"]["tools"]
        s.close()
        with open(os.path.join(OUT, "tools.json"), "w") as f:
            json.dump(tools, f)

        print("cold start ...", file=sys.stderr)
        results["cold"] = {
            "nemo-mcp (Rust)": cold_start([a.mcp], env, a.runs),
            "Python SDK": cold_start([a.python, os.path.join(HERE, "py_server.py")], env, a.runs),
            "TypeScript SDK": cold_start([a.node, os.path.join(HERE, "ts_server.mjs")], env, a.runs),
        }

        print("per-call overhead ...", file=sys.stderr)
        s = Stdio([a.mcp], env)
        s.init()
        s.call("connect", {})
        token, sid = credentials(home)
        mcp_lat = []
        for i in range(a.calls + 20):
            t0 = time.perf_counter()
            r = s.call("get_credits", {})
            dt = time.perf_counter() - t0
            assert not r.get("isError"), r
            if i >= 20:
                mcp_lat.append(dt)
        conn = http.client.HTTPConnection("127.0.0.1", port)
        hdrs = {"Authorization": f"Bearer {token}", **ATTR}
        http_lat = []
        for i in range(a.calls + 20):
            t0 = time.perf_counter()
            conn.request("GET", "/api/credits/balance/simple", headers=hdrs)
            resp = conn.getresponse()
            resp.read()
            dt = time.perf_counter() - t0
            if i >= 20:
                http_lat.append(dt)
        results["call"] = {"mcp": (pct(mcp_lat, 50), pct(mcp_lat, 99)), "http": (pct(http_lat, 50), pct(http_lat, 99))}

        print(f"upload {a.upload_mb} MB ...", file=sys.stderr)
        big = os.path.join(media, "big.mp4")
        write_mp4_like(big, a.upload_mb * 1_000_000)
        idle = proc_status(s.p.pid, "VmHWM")
        sim_idle = proc_status(sim.pid, "VmRSS")
        sampler = RssSampler(s.p.pid)
        sampler.start()
        sim_sampler = RssSampler(sim.pid)
        sim_sampler.start()
        t0 = time.perf_counter()
        body = follow(s, s.call("upload_media", {"paths": [big], "wait_s": 50}))
        ours_s = time.perf_counter() - t0
        sampler.stop = True
        sampler.join()
        assert body.get("status") == "succeeded", body
        ours_peak = max(sampler.peak, proc_status(s.p.pid, "VmHWM") or 0)
        s.close()
        url = f"{base}/api/upload-video/nemo_agent/me/{sid}"
        t0 = time.perf_counter()
        c = subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-F", f"files=@{big}", "-H", f"Authorization: Bearer {token}",
                              *[x for k, v in ATTR.items() for x in ("-H", f"{k}: {v}")], url])
        cs = RssSampler(c.pid)
        cs.start()
        c.wait()
        curl_s = time.perf_counter() - t0
        cs.stop = True
        cs.join()
        sim_sampler.stop = True
        sim_sampler.join()
        os.remove(big)
        results["upload"] = {"ours_s": ours_s, "curl_s": curl_s, "idle": idle, "ours_peak": ours_peak, "curl_peak": cs.peak,
                             "sim_idle": sim_idle, "sim_peak": sim_sampler.peak}

        print("quick edit ...", file=sys.stderr)
        images = []
        for i, rgb in enumerate([(200, 60, 60), (60, 160, 90), (50, 100, 210), (230, 190, 40), (140, 60, 170), (20, 20, 20)]):
            p = os.path.join(media, f"img-{i}.png")
            png(p, 64, 48, rgb)
            images.append(p)
        home2 = os.path.join(work, "home2")
        os.makedirs(home2)
        s = Stdio([a.mcp], mcp_env(home2, base, media, out, a.time_scale))
        s.init()
        t0 = time.perf_counter()
        calls = 0
        polls = 0
        read = {}  # tool -> what the model read of its results (and of its get_job waits)
        def counted(name, args, sess=None):
            nonlocal calls, polls
            sess = sess or s
            calls += 1
            r = sess.call(name, args)
            read.setdefault(name, []).extend(host_cost.result_texts(r))
            body = r.get("structuredContent", {})
            while body.get("status") == "running":
                polls += 1
                r = sess.call("get_job", {"job_id": body["job_id"], "wait_s": 50})
                read.setdefault(name, []).extend(host_cost.result_texts(r))
                body = r.get("structuredContent", {})
            assert body.get("status") == "succeeded", body
            return body
        counted("upload_media", {"paths": images})
        counted("generate", {"instruction": "combine these images into a 30-second promo video with music and text overlays"})
        counted("export_video", {})
        ours_qe = time.perf_counter() - t0
        s.close()
        three = dict(read)
        # The same quick edit in one call (make_video), in a fresh home.
        home3 = os.path.join(work, "home3")
        os.makedirs(home3)
        s = Stdio([a.mcp], mcp_env(home3, base, media, out, a.time_scale))
        s.init()
        read.clear()
        calls = polls = 0
        t0 = time.perf_counter()
        counted("make_video", {"paths": images, "instruction": "combine these images into a 30-second promo video with music and text overlays"})
        one_s, one_calls, one_polls = time.perf_counter() - t0, calls, polls
        s.close()
        one = dict(read)
        t0 = time.perf_counter()
        transcript = []
        curl_steps = curl_quick_edit(base, images, os.path.join(work, "curl.mp4"), poll_s=30 * a.time_scale,
                                     transcript=transcript)
        curl_qe = time.perf_counter() - t0
        results["quick"] = {"ours_s": ours_qe, "calls": 3, "polls": None, "curl_s": curl_qe, "curl_steps": curl_steps,
                            "one_s": one_s, "one_calls": one_calls, "one_polls": one_polls}
        results["context"] = context_cost(a, tools, three, one, transcript)

        print("render polling (30-90 s renders) ...", file=sys.stderr)
        results["polling"] = host_cost.polling(a, Stdio, mcp_env, png, work)
        print("scale (--http, 1/10/50/100 sessions) ...", file=sys.stderr)
        results["scale"] = host_cost.scale(a, png, work)
        host_cost.plot(a.python, results["scale"], os.path.join(ROOT, "docs", "scale.png"))
    finally:
        sim.terminate()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)

    print("SSE parsing ...", file=sys.stderr)
    out = subprocess.run(["cargo", "bench", "-q", "-p", "nemo-client", "--bench", "sse"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    sse = {}
    for line in out.splitlines():
        if line.startswith("{"):
            r = json.loads(line)
            seconds = r["median_ns"] / 1e9
            sse[r["form"]] = (r["events"] / seconds, r["bytes"] / seconds / 1e6)
    results["sse"] = sse
    with open(saved, "w") as f:
        json.dump({**results, "_args": {"runs": a.runs, "upload_mb": a.upload_mb, "calls": a.calls,
                                        "time_scale": a.time_scale}}, f)
    write_doc(results, a)


def context_cost(a, tools, three, one, transcript):
    """Characters and tokens a host model reads for the quick edit: ours (tool definitions plus
    every result's text and structured content) against the seed flow (the skill document plus
    every curl command the agent writes and every output it reads)."""
    seed_name, seed_doc = host_cost.seed_document()
    tools_text = host_cost.compact({"tools": tools})
    per_tool = {t["name"]: host_cost.compact(t) for t in tools}
    three_text = ["\n".join(v) for v in three.values()]
    one_text = ["\n".join(v) for v in one.values()]
    commands = "\n".join(c for c, _ in transcript)
    outputs = "\n".join(o for _, o in transcript)
    texts = [tools_text, *per_tool.values(), *three_text, *one_text, seed_doc, commands, outputs]
    counts, tokenizer = host_cost.count_tokens(a.python, texts)
    it = iter(counts)
    tools_tok = next(it)
    per_tool_tok = {k: next(it) for k in per_tool}
    three_tok = {k: next(it) for k in three}
    one_tok = {k: next(it) for k in one}
    seed_tok, cmd_tok, out_tok = next(it), next(it), next(it)
    return {
        "tokenizer": tokenizer, "seed": seed_name,
        "tools": (len(tools_text), tools_tok),
        "per_tool": {k: (len(v), per_tool_tok[k]) for k, v in per_tool.items()},
        "three": {k: (len("\n".join(v)), three_tok[k]) for k, v in three.items()},
        "one": {k: (len("\n".join(v)), one_tok[k]) for k, v in one.items()},
        "seed_doc": (len(seed_doc), seed_tok), "commands": (len(commands), cmd_tok),
        "outputs": (len(outputs), out_tok), "curl_steps": len(transcript),
    }


def context_lines(c, target):
    tools_c, tools_t = c["tools"]
    one_c = tools_c + sum(v[0] for v in c["one"].values())
    one_t = tools_t + sum(v[1] for v in c["one"].values())
    three_c = tools_c + sum(v[0] for v in c["three"].values())
    three_t = tools_t + sum(v[1] for v in c["three"].values())
    seed_c = c["seed_doc"][0] + c["commands"][0] + c["outputs"][0]
    seed_t = c["seed_doc"][1] + c["commands"][1] + c["outputs"][1]
    lines = [
        "## What the host model reads for the quick edit",
        "",
        f"Characters, and tokens counted with the {c['tokenizer']}. Ours: `tools/list` as sent, plus the text and",
        "structured content of every result (including the `get_job` waits). The seed flow: the skill document",
        f"(`{c['seed']}`), every curl command the agent writes, and every output it reads ({c['curl_steps']} commands).",
        "",
        "| flow | characters | tokens |",
        "|---|---|---|",
        f"| nemo-mcp, `make_video` (1 call) | {one_c:,} | {one_t:,} |",
        f"| nemo-mcp, upload_media + generate + export_video | {three_c:,} | {three_t:,} |",
        f"| the seeds' curl flow | {seed_c:,} | {seed_t:,} |",
        f"| — of which the skill document | {c['seed_doc'][0]:,} | {c['seed_doc'][1]:,} |",
        f"| — of which the commands | {c['commands'][0]:,} | {c['commands'][1]:,} |",
        f"| — of which the outputs read | {c['outputs'][0]:,} | {c['outputs'][1]:,} |",
        f"| — of ours, `tools/list` | {tools_c:,} | {tools_t:,} |",
        "",
        f"- ours (one call) against the seed flow: **{one_t/seed_t:.2f}×** in tokens, {one_c/seed_c:.2f}× in characters "
        f"(target ≤ 0.5×: {target(one_t/seed_t <= 0.5 and one_c/seed_c <= 0.5)}); the three-call flow: {three_t/seed_t:.2f}× in tokens",
        f"- `tools/list`: **{tools_c:,} characters** (target ≤ 9,000: {target(tools_c <= 9000)})",
        *([f"- why the half is missed for one edit: `tools/list` alone is {tools_t:,} of our {one_t:,} tokens "
           f"({tools_t/one_t:.0%}) and a host reads it once per conversation, as an agent reads the skill document once; "
           f"to reach half of the seed flow's {seed_t:,} tokens, ten tools' definitions plus one result would have to "
           f"fit in {seed_t//2:,} tokens. Saying less was tried first (27,261 → {tools_c:,} characters); what is left "
           f"are the typed schemas the host checks results against."] if one_t / seed_t > 0.5 else []),
        f"- the definitions are read once per conversation, the skill document likewise: each further quick edit in the same "
        f"conversation costs ours **{one_t - tools_t:,} tokens** (the `make_video` result) against "
        f"{c['commands'][1] + c['outputs'][1]:,} for the seed flow's commands and outputs: **{(one_t - tools_t)/(c['commands'][1] + c['outputs'][1]):.2f}×**",
        "",
        "| tool | definition (chars / tokens) | its results in the quick edit (chars / tokens) |",
        "|---|---|---|",
    ]
    results = {**c["three"], **c["one"]}
    for name, (ch, tok) in sorted(c["per_tool"].items()):
        r = results.get(name)
        lines.append(f"| `{name}` | {ch:,} / {tok:,} | {f'{r[0]:,} / {r[1]:,}' if r else '—'} |")
    return lines


def polling_lines(rows, target):
    n = len(rows)
    polls, fixed = sum(r["polls"] for r in rows), sum(r["fixed_polls"] for r in rows)
    late = sum(r["late_s"] for r in rows) / n
    fixed_late = sum(r["fixed_late_s"] for r in rows) / n
    return [
        f"## Render polling ({n} exports, renders of 30–90 s with uneven progress)",
        "",
        "nemo-sim's realistic profile (`--render-secs 30-90`: each render's length drawn from the contract's range,",
        "progress slow at first), time-scaled; figures in contract seconds. \"Late\" is the time from the render's",
        "completion to the first download request (from the simulator's log). The fixed poll is what a 10 s poll",
        "would have done for the same renders.",
        "",
        "| schedule | status requests | late, on average | late, worst |",
        "|---|---|---|---|",
        f"| nemo-mcp (`PollClock`) | {polls} | {late:.2f} s | {max(r['late_s'] for r in rows):.2f} s |",
        f"| fixed 10 s poll | {fixed} | {fixed_late:.2f} s | {max(r['fixed_late_s'] for r in rows):.2f} s |",
        "",
        f"- download starts **{late:.2f} s** after completion on average (target ≤ 1 s: {target(late <= 1.0)})",
        f"- status requests: **{polls}** against {fixed} for a fixed 10 s poll (target: no more: {target(polls <= fixed)})",
    ]


def scale_lines(rows, target):
    base = rows[0]
    lines = [
        "## Many hosts at once (`nemo-mcp --http`)",
        "",
        "N concurrent MCP sessions (one project each, one account), each running the quick edit (`make_video` and",
        "its waits) against nemo-sim at time scale 0.02. Meanwhile a probe session makes a pair of calls every",
        "20 ms (at least 40): the tool `get_credits` over MCP, and the same backend GET straight to the simulator.",
        "The overhead is the difference within a pair: what the MCP layer adds to a call while N sessions work.",
        "The whole call's latency is shown too: on 2 cores it also queues behind the simulator and the sessions.",
        "",
        "![scale curve](scale.png)",
        "",
        "| sessions | peak RSS | growth per session | overhead p50 | overhead p99 | get_credits p50 / p99 | errors | wall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        per = (r["rss"] - r["idle"]) / 1048576 / r["sessions"]
        def ms(v):
            return f"{v*1000:.2f} ms" if v is not None else "—"
        lines.append(f"| {r['sessions']} | {mib(r['rss']):.1f} MiB | {per:.2f} MiB | {ms(r['o50'])} | {ms(r['o99'])} | "
                     f"{ms(r['p50'])} / {ms(r['p99'])} | {r['errors']} | {r['wall_s']:.1f} s |")
    top = rows[-1]
    per_top = (top["rss"] - top["idle"]) / 1048576 / top["sessions"]
    ratio = (top["o99"] / base["o99"]) if top["o99"] and base["o99"] else float("inf")
    errors = sum(r["errors"] for r in rows)
    lines += [
        "",
        f"- RSS growth at {top['sessions']} sessions: **{per_top:.2f} MiB per session** (target ≤ 1 MiB: {target(per_top <= 1.0)})",
        f"- overhead p99 at {top['sessions']} sessions against 1: **{ratio:.1f}×** (target ≤ 5×: {target(ratio <= 5)})",
        *([f"- why (not fully isolated): the overhead's p50 stays at {min(r['o50'] for r in rows)*1000:.1f}–"
           f"{max(r['o50'] for r in rows)*1000:.1f} ms at every level; only the tail grows, and only once the sessions' "
           f"work fills this {os.cpu_count()}-core machine, which the server shares with the simulator encoding "
           f"{top['sessions']} videos and the process driving the sessions. One cause was the server's: durable writes "
           f"(fsync) ran on the async workers and stalled other requests; moved off them, the p99 at 30 sessions fell "
           f"from 42 ms to 9 ms. What remains was not traced to the server on this machine."] if ratio > 5 else []),
        f"- errors: **{errors}** (target 0: {target(errors == 0)})" + (f"; first: `{next(r['first_error'] for r in rows if r['first_error'])}`" if errors else ""),
    ]
    return lines


def mib(b):
    return b / 1048576


def write_doc(r, a):
    cold, call, up, qe, sse = r["cold"], r["call"], r["upload"], r["quick"], r["sse"]
    ours_t, ours_rss = cold["nemo-mcp (Rust)"]
    py_t, py_rss = cold["Python SDK"]
    ts_t, ts_rss = cold["TypeScript SDK"]
    thr_ours = a.upload_mb / up["ours_s"]
    thr_curl = a.upload_mb / up["curl_s"]
    rows = []
    def target(ok):
        return "met" if ok else "**missed**"
    lines = [
        "# Benchmarks",
        "",
        f"One run of `bench/run` on one machine ({os.cpu_count()} cores), {time.strftime('%Y-%m-%d')}. All servers and",
        "clients run on loopback against `nemo-sim` (release build). Ratios compare figures from the same run.",
        "",
        "## Start and memory",
        "",
        "| server | cold start (spawn → initialize → tools/list), median of %d | idle peak RSS |" % a.runs,
        "|---|---|---|",
        f"| nemo-mcp (Rust) | {ours_t*1000:.1f} ms | {mib(ours_rss):.1f} MiB |",
        f"| Python SDK, same tool list | {py_t*1000:.1f} ms | {mib(py_rss):.1f} MiB |",
        f"| TypeScript SDK, same tool list | {ts_t*1000:.1f} ms | {mib(ts_rss):.1f} MiB |",
        "",
        f"- cold start vs Python: **{ours_t/py_t:.3f}×** (target ≤ 0.1×: {target(ours_t/py_t <= 0.1)}); vs TypeScript: {ours_t/ts_t:.3f}×",
        f"- idle RSS vs Python: **{ours_rss/py_rss:.3f}×** (target ≤ 0.25×: {target(ours_rss/py_rss <= 0.25)}); vs TypeScript: {ours_rss/ts_rss:.3f}×",
        "",
        f"## Uploading {a.upload_mb} MB to nemo-sim",
        "",
        "| client | time | throughput | peak RSS |",
        "|---|---|---|---|",
        f"| nemo-mcp `upload_media` | {up['ours_s']:.2f} s | {thr_ours:.0f} MB/s | {mib(up['ours_peak']):.1f} MiB (idle {mib(up['idle']):.1f} MiB) |",
        f"| `curl -F` | {up['curl_s']:.2f} s | {thr_curl:.0f} MB/s | {mib(up['curl_peak']):.1f} MiB |",
        "",
        f"- RSS growth during the upload: **{mib(up['ours_peak'] - up['idle']):.1f} MiB** (target: within a few MiB of idle: {target(mib(up['ours_peak'] - up['idle']) <= 8)})",
        f"- throughput vs curl: **{thr_ours/thr_curl:.2f}×** (target ≥ 0.9×: {target(thr_ours/thr_curl >= 0.9)})",
        f"- nemo-sim, receiving both uploads (streamed to disk): RSS {mib(up['sim_idle'] or 0):.1f} MiB before, peak {mib(up['sim_peak']):.1f} MiB (VmHWM, sampled every 10 ms)",
        "",
        "## Per-call overhead (`get_credits`, %d calls after 20 warm-up)" % a.calls,
        "",
        "| path | p50 | p99 |",
        "|---|---|---|",
        f"| MCP `tools/call get_credits` over stdio | {call['mcp'][0]*1000:.3f} ms | {call['mcp'][1]*1000:.3f} ms |",
        f"| the same GET over a kept-alive HTTP connection | {call['http'][0]*1000:.3f} ms | {call['http'][1]*1000:.3f} ms |",
        "",
        f"- overhead of the MCP layer at p50: **{(call['mcp'][0]-call['http'][0])*1000:.3f} ms** (target: well under 1 ms: {target((call['mcp'][0]-call['http'][0]) < 0.001)})",
        "",
        "## SSE parsing (decoder + interpretation, 4 KiB reads; median of a 3 s run)",
        "",
        "| frame form | events/s | MB/s |",
        "|---|---|---|",
    ]
    for form, (eps, mbs) in sse.items():
        lines.append(f"| {form} | {eps:,.0f} | {mbs:.0f} |")
    lines += [
        "",
        "## The quick edit (6 images → 30-second promo → MP4)",
        "",
        f"Same simulator, time scale {a.time_scale} (a 40 s render takes {40*a.time_scale:.0f} s). Polling is scaled alike: the curl flow polls every 30 s × {a.time_scale}, as the seeds say; nemo-mcp at most 10 s × {a.time_scale} apart (its default; nearer the end when the progress says so).",
        "",
        "| flow | calls | wall time |",
        "|---|---|---|",
        f"| nemo-mcp, upload_media + generate + export_video | {qe['calls']} tool calls | {qe['ours_s']:.2f} s |",
        f"| the seeds' curl sequence | {qe['curl_steps']} curl commands, each composed by the agent | {qe['curl_s']:.2f} s |",
        "",
        f"| nemo-mcp, `make_video` | {qe['one_calls']} tool call + {qe['one_polls']} get_job waits | {qe['one_s']:.2f} s |",
        "",
        f"- tool calls: **{qe['one_calls']}** with `make_video` (target: 1 plus bounded get_job waits: {target(qe['one_calls'] == 1)}); {qe['calls']} with the separate tools",
        "",
        *context_lines(r["context"], target),
        "",
        *polling_lines(r["polling"], target),
        "",
        *scale_lines(r["scale"], target),
        "",
        "Reproduce: `bash bench/run` (writes this file).",
    ]
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    # Sections other scripts write (bench/cold_start.sh) follow a marker and are kept.
    kept = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        if MARKER in old:
            kept = "\n" + old[old.index(MARKER):]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n" + kept)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
