"""The benchmark harness: measures nemo-mcp side by side with the alternatives in one run on one
machine and writes docs/benchmarks.md. Run through bench/run (which builds and installs what
this needs). Standard library only: the timings must not depend on an MCP client library.

Figures:
  cold start      spawn -> initialize answered -> tools/list answered (median of --runs)
  idle RSS        peak RSS after tools/list (VmHWM)
  upload          500 MB through upload_media vs `curl -F` to the same endpoint: time and peak RSS
  per-call        tools/call get_credits over stdio vs the same GET over a kept-alive HTTP connection
  SSE parsing     criterion estimates (cargo bench -p nemo-client --bench sse)
  quick edit      tool calls and wall time through nemo-mcp vs the seeds' curl sequence
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(HERE, "out")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} never opened")


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
    # Our default render poll (5 s) scaled like the simulator's durations and the curl flow's
    # 30 s poll, so that the quick-edit comparison is like for like.
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "NEMO_API_URL": sim_url, "NEMO_WEB_URL": sim_url,
           "NEMO_RENDER_POLL_MS": str(int(5000 * time_scale)), "NEMO_LOG": "warn"}
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


def png(path, w, h, rgb):
    import struct
    import zlib
    raw = b"".join(b"\0" + bytes(rgb) * w for _ in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def curl_quick_edit(base, images, out_path, poll_s):
    """The seeds' flow, one curl per step, as the skill documents tell an agent to do it."""
    steps = 0
    def curl(*args):
        nonlocal steps
        steps += 1
        r = subprocess.run(["curl", "-s", "--fail-with-body", *args], capture_output=True, check=True)
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
    a = ap.parse_args()
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
        def counted(name, args):
            nonlocal calls, polls
            calls += 1
            body = s.call(name, args).get("structuredContent", {})
            while body.get("status") == "running":
                polls += 1
                body = s.call("get_job", {"job_id": body["job_id"], "wait_s": 50}).get("structuredContent", {})
            assert body.get("status") == "succeeded", body
            return body
        counted("upload_media", {"paths": images})
        counted("generate", {"instruction": "combine these images into a 30-second promo video with music and text overlays"})
        counted("export_video", {})
        ours_qe = time.perf_counter() - t0
        s.close()
        t0 = time.perf_counter()
        curl_steps = curl_quick_edit(base, images, os.path.join(work, "curl.mp4"), poll_s=30 * a.time_scale)
        curl_qe = time.perf_counter() - t0
        results["quick"] = {"ours_s": ours_qe, "calls": calls, "polls": polls, "curl_s": curl_qe, "curl_steps": curl_steps}
    finally:
        sim.terminate()
        sim.wait()
        shutil.rmtree(work, ignore_errors=True)

    print("SSE parsing (criterion) ...", file=sys.stderr)
    subprocess.run(["cargo", "bench", "-q", "-p", "nemo-client", "--bench", "sse", "--", "--warm-up-time", "1", "--measurement-time", "3"],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    sse = {}
    crit = os.path.join(ROOT, "target", "criterion")
    for form in ["adk_text", "adk_tool_call", "simple_text", "comment_heartbeat", "json_heartbeat", "multiline_data"]:
        d = os.path.join(crit, f"sse_bytes_{form}", "parse", "new")
        with open(os.path.join(d, "estimates.json")) as f:
            ns = json.load(f)["median"]["point_estimate"]
        with open(os.path.join(d, "benchmark.json")) as f:
            nbytes = json.load(f)["throughput"]["Bytes"]
        sse[form] = (2000 / (ns / 1e9), nbytes / (ns / 1e9) / 1e6)
    results["sse"] = sse
    write_doc(results, a)


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
        "## SSE parsing (decoder + interpretation, 4 KiB reads; criterion median)",
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
        f"Same simulator, time scale {a.time_scale} (a 40 s render takes {40*a.time_scale:.0f} s). Polling is scaled alike: the curl flow polls every 30 s × {a.time_scale}, as the seeds say; nemo-mcp every 5 s × {a.time_scale}, its default.",
        "",
        "| flow | calls | wall time |",
        "|---|---|---|",
        f"| nemo-mcp | {qe['calls']} tool calls + {qe['polls']} get_job waits | {qe['ours_s']:.2f} s |",
        f"| the seeds' curl sequence | {qe['curl_steps']} curl commands, each composed by the agent | {qe['curl_s']:.2f} s |",
        "",
        f"- tool calls: **{qe['calls']}** (target ≤ 3 plus bounded get_job waits: {target(qe['calls'] <= 3)})",
        "",
        "Reproduce: `bash bench/run` (writes this file).",
    ]
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
