"""What a host pays beyond speed: the context a model reads for the quick edit (against the
seeds' curl flow), render polling against a realistic render profile, and the cost of many
concurrent MCP sessions over --http. Used by bench.py; standard library only, except the
tokenizer and the plot, which run in the bench virtualenv (--python)."""

import glob
import http.client
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(os.path.dirname(ROOT), "shared")


def compact(v):
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def result_texts(result):
    """What a model reads of one tool result: its text blocks and its structured content."""
    out = [c.get("text", "") for c in result.get("content", []) if c.get("type") == "text"]
    if "structuredContent" in result:
        out.append(compact(result["structuredContent"]))
    return out


def seed_document():
    """The skill document an agent reads in the seed flow (the first seed; the others are alike)."""
    seeds = sorted(glob.glob(os.path.join(SHARED, "seeds", "*.txt")))
    if not seeds:
        raise RuntimeError(f"no seeds under {SHARED}/seeds")
    with open(seeds[0], encoding="utf-8") as f:
        return os.path.basename(seeds[0]), f.read()


def count_tokens(python, texts):
    """Token counts per text with a real tokenizer if the venv has one (the Claude tokenizer
    bundled with anthropic<0.39), else chars/4. Returns (counts, tokenizer name)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False)
        path = f.name
    code = (
        "import json,os,sys\n"
        "texts=json.load(open(sys.argv[1],encoding='utf-8'))\n"
        "try:\n"
        "  import anthropic\n"
        "  from tokenizers import Tokenizer\n"
        "  t=Tokenizer.from_file(os.path.join(os.path.dirname(anthropic.__file__),'tokenizer.json'))\n"
        "  print(json.dumps({'name':'Claude tokenizer (anthropic '+anthropic.__version__+', tokenizers)',"
        "'counts':[len(t.encode(x).ids) for x in texts]}))\n"
        "except Exception as e:\n"
        "  print(json.dumps({'name':'chars/4 (no tokenizer: '+type(e).__name__+')','counts':[len(x)//4 for x in texts]}))\n"
    )
    try:
        r = subprocess.run([python, "-c", code, path], capture_output=True, check=True, text=True)
        v = json.loads(r.stdout)
        return v["counts"], v["name"]
    finally:
        os.remove(path)


# ---- render polling ----------------------------------------------------------------------

def sim_json(base, path):
    with urllib.request.urlopen(base + path) as r:
        return json.load(r)


def polling(a, stdio_cls, mcp_env, png, work, exports=12):
    """Exports against a nemo-sim whose renders take 30–90 s (time-scaled) with uneven
    progress. For each render: status requests, and the time from its completion to the first
    download request, in contract seconds; and what a fixed 10 s poll would have needed."""
    from bench import free_port, wait_port  # noqa: E402 (shared helpers)
    ts = a.time_scale
    port = free_port()
    sim = subprocess.Popen([a.sim, "--port", str(port), "--time-scale", str(ts), "--builtin-renderer",
                            "--render-secs", "30-90", "--data-dir", os.path.join(work, "sim-poll")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_port(port)
        home, media, out = (os.path.join(work, f"poll-{d}") for d in ("home", "media", "out"))
        for d in (home, media, out):
            os.makedirs(d)
        img = os.path.join(media, "a.png")
        png(img, 64, 48, (200, 60, 60))
        env = mcp_env(home, base, media, out, ts)
        env["NEMO_RENDER_POLL_MS"] = str(int(10000 * ts))  # the default (10 s), scaled
        s = stdio_cls([a.mcp], env)
        s.init()
        r = s.call("make_video", {"paths": [img], "instruction": "combine into a 30 second video", "export": False,
                                  "wait_s": 50})
        assert r["structuredContent"]["status"] == "succeeded", r
        for _ in range(exports):
            body = s.call("export_video", {"wait_s": 50})["structuredContent"]
            while body["status"] == "running":
                body = s.call("get_job", {"job_id": body["job_id"], "wait_s": 50})["structuredContent"]
            assert body["status"] == "succeeded", body
        s.close()
        log = sim_json(base, "/_sim/log")
        renders = {r["id"]: r for r in sim_json(base, "/_sim/renders")}
    finally:
        sim.terminate()
        sim.wait()
    rows = []
    for rid, r in renders.items():
        submitted = min(e["at_ms"] for e in log if e["method"] == "POST" and e["path"] == "/api/render/proxy/lambda"
                        and (e.get("body") or {}).get("id") == rid)
        status_path = f"/api/render/proxy/lambda/{rid}"
        polls = sum(1 for e in log if e["method"] == "GET" and e["path"] == status_path)
        done = r["completed_ms"]
        download = min(e["at_ms"] for e in log if e["at_ms"] >= done and rid in e["path"] and e["path"] != status_path)
        total_s = (done - submitted) / 1000 / ts
        rows.append({"render_s": total_s, "polls": polls, "late_s": (download - done) / 1000 / ts,
                     "fixed_polls": math.ceil(total_s / 10), "fixed_late_s": math.ceil(total_s / 10) * 10 - total_s})
    return rows


# ---- many sessions over --http -----------------------------------------------------------

class HttpSession:
    def __init__(self, port, token, name):
        self.port, self.token, self.sid, self.next_id = port, token, None, 0
        init = self.rpc("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                       "clientInfo": {"name": name, "version": "0"}})
        assert "result" in init, init
        self.rpc("notifications/initialized", None, notify=True)

    def rpc(self, method, params, notify=False):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        if not notify:
            self.next_id += 1
            msg["id"] = self.next_id
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                   "Authorization": f"Bearer {self.token}"}
        if self.sid:
            headers["Mcp-Session-Id"] = self.sid
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
        conn.request("POST", "/mcp", body=json.dumps(msg), headers=headers)
        resp = conn.getresponse()
        self.sid = self.sid or resp.getheader("mcp-session-id")
        body = resp.read().decode()
        conn.close()
        if resp.status >= 400:
            raise RuntimeError(f"{method}: HTTP {resp.status} {body[:200]}")
        if notify:
            return None
        try:
            return json.loads(body)
        except ValueError:
            for line in body.splitlines():
                if line.startswith("data:"):
                    try:
                        v = json.loads(line[5:])
                    except ValueError:
                        continue
                    if "result" in v or "error" in v:
                        return v
        raise RuntimeError(f"{method}: no answer in {body[:200]!r}")

    def call(self, name, args):
        r = self.rpc("tools/call", {"name": name, "arguments": args})
        if "error" in r:
            raise RuntimeError(f"{name}: {r['error']}")
        return r["result"]


def backend_token(home):
    with open(os.path.join(home, ".config", "nemo-mcp", "credentials.json")) as f:
        return json.load(f)["token"]


def direct_credits(port, token):
    """The backend call get_credits makes, straight to the simulator (the no-MCP baseline)."""
    from bench import ATTR  # noqa: E402
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    t0 = time.perf_counter()
    conn.request("GET", "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}", **ATTR})
    r = conn.getresponse()
    r.read()
    dt = time.perf_counter() - t0
    conn.close()
    if r.status != 200:
        raise RuntimeError(f"direct GET: HTTP {r.status}")
    return dt


def scale(a, png, work, levels=(1, 10, 50, 100), min_probes=40):
    """nemo-mcp --http with N concurrent MCP sessions, each running the quick edit (make_video
    and its waits). Meanwhile a probe session makes pairs of calls every 20 ms: the tool
    `get_credits` over MCP, and the same backend GET straight to the simulator. The overhead is
    the difference within a pair: what the MCP layer adds to a call while N sessions work."""
    from bench import free_port, wait_port, proc_status, RssSampler, pct  # noqa: E402
    ts = 0.02
    port, mport = free_port(), free_port()
    sim = subprocess.Popen([a.sim, "--port", str(port), "--time-scale", str(ts), "--builtin-renderer",
                            "--starting-credits", "1000000", "--data-dir", os.path.join(work, "sim-scale")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    home, media, out = (os.path.join(work, f"scale-{d}") for d in ("home", "media", "out"))
    for d in (home, media, out):
        os.makedirs(d)
    imgs = []
    for i, rgb in enumerate([(200, 60, 60), (60, 160, 90)]):
        p = os.path.join(media, f"s{i}.png")
        png(p, 64, 48, rgb)
        imgs.append(p)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": home, "NEMO_API_URL": f"http://127.0.0.1:{port}",
           "NEMO_WEB_URL": f"http://127.0.0.1:{port}", "NEMO_ALLOWED_DIRS": media, "NEMO_OUTPUT_DIR": out,
           "NEMO_RENDER_POLL_MS": str(int(10000 * ts)), "NEMO_LOG": "warn"}
    token_file = os.path.join(home, "mcp-token")
    rows = []
    try:
        wait_port(port)
        srv = subprocess.Popen([a.mcp, "--http", f"127.0.0.1:{mport}", "--token-file", token_file], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(mport)
            with open(token_file) as f:
                token = f.read().strip()
            probe = HttpSession(mport, token, "probe")
            probe.call("get_credits", {})  # the account exists from here on
            btoken = backend_token(home)
            idle = proc_status(srv.pid, "VmRSS")
            for n in levels:
                sampler = RssSampler(srv.pid)
                sampler.start()
                errors = []
                t0 = time.perf_counter()
                # The sessions run in another process, so that their threads never hold up the
                # probe (one interpreter lock).
                load = subprocess.Popen([sys.executable, os.path.abspath(__file__), "sessions", str(mport), token,
                                         str(n), *imgs], stdout=subprocess.PIPE, text=True)
                lat, over = [], []
                while load.poll() is None or len(lat) < min_probes:
                    t1 = time.perf_counter()
                    r = probe.call("get_credits", {})
                    mcp = time.perf_counter() - t1
                    if r.get("isError"):
                        errors.append(f"probe: {r}")
                    direct = direct_credits(port, btoken)
                    lat.append(mcp)
                    over.append(mcp - direct)
                    time.sleep(0.02)
                out_text, _ = load.communicate()
                errors.extend(json.loads(out_text or "[]"))
                wall = time.perf_counter() - t0
                sampler.stop = True
                sampler.join()
                peak = max(sampler.peak, proc_status(srv.pid, "VmRSS") or 0)
                rows.append({"sessions": n, "rss": peak, "idle": idle, "p50": pct(lat, 50), "p99": pct(lat, 99),
                             "o50": pct(over, 50), "o99": pct(over, 99), "probes": len(lat),
                             "errors": len(errors), "wall_s": wall, "first_error": errors[0] if errors else None})
                print(f"  {n} sessions: peak RSS {peak/1048576:.1f} MiB, overhead p99 {pct(over, 99)*1000:.2f} ms, "
                      f"errors {len(errors)}", file=sys.stderr)
        finally:
            srv.terminate()
            srv.wait()
    finally:
        sim.terminate()
        sim.wait()
    return rows


def plot(python, rows, path):
    """The scale curve as a PNG (matplotlib in the bench venv)."""
    code = (
        "import json,sys\n"
        "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
        "rows=json.load(open(sys.argv[1]))\n"
        "n=[r['sessions'] for r in rows]\n"
        "fig,ax=plt.subplots(1,2,figsize=(10,4))\n"
        "ax[0].plot(n,[r['rss']/1048576 for r in rows],'o-',label='peak RSS')\n"
        "ax[0].plot(n,[r['idle']/1048576+r['sessions'] for r in rows],'--',label='target: idle + 1 MiB/session')\n"
        "ax[0].set_xlabel('concurrent MCP sessions');ax[0].set_ylabel('MiB');ax[0].legend();ax[0].set_title('nemo-mcp --http memory')\n"
        "ax[1].plot(n,[r['o50']*1000 for r in rows],'o-',label='overhead p50')\n"
        "ax[1].plot(n,[r['o99']*1000 for r in rows],'o-',label='overhead p99')\n"
        "ax[1].plot(n,[r['p99']*1000 for r in rows],':',label='get_credits p99 (whole call)')\n"
        "ax[1].axhline(rows[0]['o99']*5000,ls='--',color='gray',label='target: 5x overhead p99 at 1 session')\n"
        "ax[1].set_xlabel('concurrent MCP sessions');ax[1].set_ylabel('ms');ax[1].legend();ax[1].set_title('MCP tool-call overhead under load')\n"
        "fig.tight_layout();fig.savefig(sys.argv[2],dpi=90)\n"
    )
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(rows, f)
        data = f.name
    try:
        subprocess.run([python, "-c", code, data, path], check=True)
    finally:
        os.remove(data)


def run_sessions(port, token, n, imgs):
    """`host_cost.py sessions PORT TOKEN N IMG...`: N concurrent sessions each running the quick
    edit; prints the errors as JSON."""
    errors, lock = [], threading.Lock()

    def one(i):
        try:
            s = HttpSession(port, token, f"bench-{n}-{i}")
            body = s.call("make_video", {"paths": imgs, "instruction": "combine these images into a 10 second video",
                                         "wait_s": 40})["structuredContent"]
            while body.get("status") == "running":
                body = s.call("get_job", {"job_id": body["job_id"], "wait_s": 40})["structuredContent"]
            if body.get("status") != "succeeded":
                raise RuntimeError(f"quick edit: {body}")
        except Exception as e:  # counted, reported
            with lock:
                errors.append(str(e)[:200])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(errors))


if __name__ == "__main__" and len(sys.argv) > 4 and sys.argv[1] == "sessions":
    run_sessions(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5:])
