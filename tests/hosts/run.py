"""The quick edit through real hosts installed from npm, each driven by a scripted model on
loopback (model.py), with nemo-sim as the backend and the built nemo-mcp as the server:

    python run.py <nemo-mcp> <nemo-sim> <hosts bin folder> claude codex [gemini]

Per host it checks: the MP4 exists in the output folder; the server exits with its host; what reached the model after the first
(running) result named the next step, so the model could call get_job with the job's id; the
model was told the job succeeded; no JSON-RPC error went either way between host and server; the
backend got one paid instruction. Hosts are configured from `examples/hosts/`, as a user would.
Prints one JSON line per host: tool definition and result sizes as the model saw them."""

import html
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from common import free_port, png, wait_port  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PROMO = "combine these images into a 30-second promo video with music and text overlays"
PROMPT = "Make a 30-second promo video from my product photos with music and text overlays."
SERVER_NAME = "nemovideo"  # as the README's examples name it








def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def server_env(port, out, media, home):
    return {
        "NEMO_API_URL": f"http://127.0.0.1:{port}",
        "NEMO_WEB_URL": f"http://127.0.0.1:{port}",
        "NEMO_OUTPUT_DIR": out,
        "NEMO_ALLOWED_DIRS": media,
        "NEMO_STATE_DIR": os.path.join(home, "nemo-state"),
        "NEMO_RENDER_POLL_MS": "50",
        "NEMO_PROGRESS_INTERVAL_MS": "200",
    }


def launched(entry, tap_cmd, env):
    """An example's server entry as written, its command swapped for the built binary (through
    the tap) and the test's environment added to its own."""
    entry = dict(entry)
    entry["command"], entry["args"] = tap_cmd[0], tap_cmd[1:]
    entry["env"] = dict(entry.get("env", {}), **env)
    return entry


def configure_claude(home, work, tap_cmd, env, model_port):
    """examples/hosts/claude-code.sh's `claude mcp add`, as a --mcp-config file; `claude -p`
    with the tools allowed by server name, as the example's comment says."""
    config = {"mcpServers": {SERVER_NAME: {"type": "stdio", "command": tap_cmd[0], "args": tap_cmd[1:], "env": env}}}
    path = os.path.join(home, "mcp.json")
    with open(path, "w") as f:
        json.dump(config, f)
    host_env = {
        "ANTHROPIC_BASE_URL": f"http://127.0.0.1:{model_port}",
        "ANTHROPIC_API_KEY": "sk-ant-scripted",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "MCP_TIMEOUT": "60000",
    }
    with open(os.path.join(ROOT, "examples", "hosts", "claude-code.sh")) as f:
        allowed = re.search(r'--allowedTools "([^"]+)"', f.read()).group(1)
    argv = ["claude", "-p", PROMPT, "--mcp-config", path, "--strict-mcp-config",
            "--allowedTools", allowed, "--output-format", "json", "--max-turns", "60"]
    return argv, host_env


def configure_codex(home, work, tap_cmd, env, model_port):
    """examples/hosts/codex-config.toml as written, with the command swapped for the built
    binary (through the tap) and the test's environment; the model provider points at model.py."""
    with open(os.path.join(ROOT, "examples", "hosts", "codex-config.toml"), "rb") as f:
        example = tomllib.load(f)
    table = launched(example["mcp_servers"][SERVER_NAME], tap_cmd, env)
    codex_home = os.path.join(home, ".codex")
    os.makedirs(codex_home, exist_ok=True)
    lines = [
        'model = "scripted"',
        'model_provider = "scripted"',
        'check_for_update_on_startup = false',
        '[model_providers.scripted]',
        'name = "scripted"',
        f'base_url = "http://127.0.0.1:{model_port}/v1"',
        'wire_api = "responses"',
        'env_key = "SCRIPTED_API_KEY"',
        f'[mcp_servers.{SERVER_NAME}]',
    ]
    for key, value in table.items():
        lines.append(f"{key} = {toml_value(value)}")
    with open(os.path.join(codex_home, "config.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
    host_env = {"CODEX_HOME": codex_home, "SCRIPTED_API_KEY": "sk-scripted"}
    argv = ["codex", "exec", "--skip-git-repo-check", "--json", PROMPT]
    return argv, host_env


def configure_copilot(home, work, tap_cmd, env, model_port):
    """examples/hosts/copilot-mcp-config.json as written (`~/.copilot/mcp-config.json`), with the
    command swapped for the built binary (through the tap) and the test's environment; headless
    with no GitHub login through Copilot's own "bring your own key" provider, pointed at
    model.py (Anthropic's API)."""
    with open(os.path.join(ROOT, "examples", "hosts", "copilot-mcp-config.json")) as f:
        example = json.load(f)
    server = launched(example["mcpServers"][SERVER_NAME], tap_cmd, env)
    config_dir = os.path.join(home, ".copilot")
    os.makedirs(config_dir, exist_ok=True)
    with open(os.path.join(config_dir, "mcp-config.json"), "w") as f:
        json.dump({"mcpServers": {SERVER_NAME: server}}, f)
    host_env = {
        "COPILOT_PROVIDER_BASE_URL": f"http://127.0.0.1:{model_port}",
        "COPILOT_PROVIDER_TYPE": "anthropic",
        "COPILOT_PROVIDER_API_KEY": "sk-ant-scripted",
        "COPILOT_MODEL": "claude-sonnet-4",
        "COPILOT_AUTO_UPDATE": "false",
    }
    argv = ["copilot", "-p", PROMPT, "--allow-all-tools", "--allow-all-mcp-server-instructions",
            "--disable-builtin-mcps", "--no-color"]
    return argv, host_env


def configure_gemini(home, work, tap_cmd, env, model_port):
    settings_dir = os.path.join(home, ".gemini")
    os.makedirs(settings_dir, exist_ok=True)
    settings = {
        "mcpServers": {SERVER_NAME: {"command": tap_cmd[0], "args": tap_cmd[1:], "env": env, "trust": True,
                                     "timeout": 90000}},
        "security": {"auth": {"selectedType": "gemini-api-key"}},
        "privacy": {"usageStatisticsEnabled": False},
        "telemetry": {"enabled": False},
        "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
    }
    with open(os.path.join(settings_dir, "settings.json"), "w") as f:
        json.dump(settings, f)
    host_env = {"GEMINI_API_KEY": "scripted", "GOOGLE_GEMINI_BASE_URL": f"http://127.0.0.1:{model_port}",
                "GEMINI_CLI_TRUST_WORKSPACE": "true"}
    argv = ["gemini", "-p", PROMPT, "--yolo", "--output-format", "json"]
    return argv, host_env


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def configure_claude_legacy(home, work, tap_cmd, env, model_port):
    """Claude Code in the older protocol era (`initialize`), as users who set
    MCP_PROTOCOL_NEGOTIATION=legacy, or older versions, run it."""
    argv, host_env = configure_claude(home, work, tap_cmd, env, model_port)
    return argv, dict(host_env, MCP_PROTOCOL_NEGOTIATION="legacy")


CONFIGURE = {"claude": configure_claude, "claude-legacy": configure_claude_legacy, "codex": configure_codex,
             "gemini": configure_gemini, "claude-confirm": configure_claude, "copilot": configure_copilot}
# Runs whose server has spending confirmation on: in `claude -p` nobody can answer Claude Code's
# own per-call question (`anthropic/requiresUserInteraction`), so the paid call must be refused
# by the host before it reaches the server, and nothing is spent.
CONFIRMING = {"claude-confirm"}


# A host run with the skill installed where that host loads skills from disk
# (`nemo-mcp skill install --host …`): `claude+skill`, `codex+skill`, `gemini+skill`,
# `copilot+skill`.
SKILL_HOSTS = {"claude": "claude-code", "codex": "codex", "gemini": "gemini", "copilot": "copilot"}


def run_host(host, server_bin, sim_bin, bin_dir):
    skill = host.endswith("+skill")
    host = host.removesuffix("+skill")
    home = tempfile.mkdtemp(prefix=f"host-{host}{'-skill' if skill else ''}-")
    if skill:
        env = {"HOME": home, "CODEX_HOME": os.path.join(home, ".codex"), "PATH": os.environ.get("PATH", "")}
        done = subprocess.run([server_bin, "skill", "install", "--host", SKILL_HOSTS[host]], env=env,
                              capture_output=True, text=True, check=True)
        assert done.stdout.strip().endswith("nemovideo/SKILL.md"), done
    media, out, work = (os.path.join(home, d) for d in ("media", "out", "work"))
    for d in (media, out, work):
        os.makedirs(d)
    paths = []
    for i, rgb in enumerate([(200, 60, 60), (60, 160, 90), (50, 100, 210), (230, 190, 40), (140, 60, 170)]):
        paths.append(os.path.join(media, f"product-{i + 1}.png"))
        png(paths[-1], 64, 48, rgb)
    sim_port, model_port = free_port(), free_port()
    model_log, tap_log = os.path.join(home, "model.jsonl"), os.path.join(home, "wire.jsonl")
    procs = [
        subprocess.Popen([sim_bin, "--port", str(sim_port), "--time-scale", "0.05", "--builtin-renderer"],
                         stdout=subprocess.DEVNULL, stderr=open(os.path.join(home, "sim.log"), "w")),
        subprocess.Popen([sys.executable, os.path.join(HERE, "model.py"), str(model_port), model_log, PROMO, *paths],
                         stdout=subprocess.DEVNULL),
    ]
    try:
        wait_port(sim_port)
        wait_port(model_port)
        tap_cmd = [sys.executable, os.path.join(HERE, "tap.py"), tap_log, os.path.abspath(server_bin)]
        server = server_env(sim_port, out, media, home)
        if host in CONFIRMING:
            server["NEMO_CONFIRM_SPENDING"] = "1"
        argv, host_env = CONFIGURE[host](home, work, tap_cmd, server, model_port)
        env = {"PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""), "HOME": home, "TERM": "dumb",
               "NO_COLOR": "1", "CI": "1", **host_env}
        start = time.time()
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, timeout=600)
        seconds = round(time.time() - start, 1)
        with open(os.path.join(home, "host.out"), "wb") as f:
            f.write(done.stdout + b"\n--- stderr ---\n" + done.stderr)
        if host in CONFIRMING:
            return check_refused(host, home, out, model_log, tap_log, sim_port, done, seconds)
        result = check(host, home, out, model_log, tap_log, sim_port, done, seconds)
        bodies = [json.dumps(b["body"], ensure_ascii=False) for b in read_jsonl(model_log + ".bodies")]
        result["largest_request_chars"] = max((len(b) for b in bodies), default=0)
        if skill:
            # What the host sends its model names the skill (its description, or its text once loaded).
            with open(os.path.join(ROOT, "skills", "nemovideo", "SKILL.md"), encoding="utf-8") as f:
                description = next(l for l in f if l.startswith("description:"))[len("description:"):].strip()
            # Copilot CLI lists skills as XML, its text escaped (`server&apos;s`).
            forms = {description[:60], html.escape(description[:60], quote=True).replace("&#x27;", "&apos;")}
            assert any(f in b for f in forms for b in bodies), f"{host}+skill: the skill never reached the model"
            result["host"] = f"{host}+skill"
            result["skill_reaches_model"] = True
        return result
    finally:
        for p in procs:
            p.terminate()
            p.wait()


def check(host, home, out, model_log, tap_log, sim_port, done, seconds):
    where = f"{host} (everything kept in {home})"
    entries = read_jsonl(model_log)
    saw = [e for e in entries if "model_saw" in e]
    offered = [e["tools"] for e in entries if "tools" in e]
    assert done.returncode == 0, f"{where}: exit {done.returncode}: {done.stderr[-2000:]!r}"
    assert offered, f"{where}: the host never offered tools to the model"
    assert saw, f"{where}: no tool result reached the model"
    first = saw[0]["model_saw"]
    assert "get_job" in first and "running" in first, f"{where}: the running result did not name the next step: {first[:800]}"
    mp4 = [f for f in os.listdir(out) if f.endswith(".mp4")]
    assert len(mp4) == 1, f"{where}: {os.listdir(out)}"
    assert os.path.join(out, mp4[0]) in saw[-1]["model_saw"], f"{where}: the model never read where the video is"
    # The frames reach every model: their JPEG's path (beside the MP4) in what it read, for a
    # model whose host passes no image to open with its own image viewer.
    frames = os.path.join(out, mp4[0][:-len(".mp4")] + ".frames.jpg")
    assert os.path.isfile(frames), f"{where}: no frames beside the video: {os.listdir(out)}"
    assert frames in saw[-1]["model_saw"], f"{where}: the model never read where the frames are: {saw[-1]['model_saw'][:1500]}"
    # No result the model got was cut (hosts mark a cut result in their own words).
    cut = [e["model_saw"][-300:] for e in saw if any(m in e["model_saw"].lower() for m in ("truncated", "[output cut", "…[cut"))]
    assert not cut, f"{where}: a result was cut: {cut[:2]}"
    stuck = [e for e in entries if "STUCK" in json.dumps(e)]
    assert not stuck, f"{where}: {stuck}"
    with open(os.path.join(out, mp4[0]), "rb") as f:
        assert f.read(8)[4:8] == b"ftyp", where
    events = [w["event"] for w in read_jsonl(tap_log) if "event" in w]
    # The server ends with its host: it said so, or (a host that kills the whole process tree
    # right after its signal, as Copilot CLI does) no process of this run's server is left.
    exited = any(e.startswith("server exited") for e in events) or not servers_left(home)
    assert exited, f"{where}: the server outlived its host: {events}"
    wire = [w for w in read_jsonl(tap_log) if "line" in w]
    errors = []
    for w in wire:
        try:
            msg = json.loads(w["line"])
        except ValueError:
            errors.append(w)
            continue
        if isinstance(msg, dict) and "error" in msg:
            errors.append(w)
    assert not errors, f"{where}: JSON-RPC errors on the wire: {errors[:5]}"
    first_msg = json.loads(wire[0]["line"]) if wire else {}
    log = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/log").read())
    sent = [e for e in log if e["path"].endswith("/run_sse") and e.get("turn_started")]
    assert len(sent) == 1, f"{where}: {len(sent)} paid instructions reached the backend"
    # Money, counted where it is spent: one turn charged, once.
    charges = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/charges").read())
    charged = sum(c["credits"] for c in charges)
    assert len(charges) == 1 and charged > 0, f"{where}: charges {charges}"
    tool_defs = tool_definition_chars(home)
    bodies = [json.dumps(b["body"]) for b in read_jsonl(model_log + ".bodies")]
    instructions = any("NemoVideo makes and edits videos" in b for b in bodies)
    return {"host": host, "seconds": seconds, "era": first_msg.get("method"),
            "model_requests": sum(1 for e in entries if "request" in e),
            "tool_calls": len(saw), "mp4": mp4[0], "result_chars": [len(e["model_saw"]) for e in saw],
            "tool_definition_chars": tool_defs, "instructions_reach_model": instructions,
            "paid_messages": len(sent), "credits_charged": charged}


def servers_left(home, wait_s=3.0):
    """Whether a process of this run's server (its state folder in `home`) still runs, after
    giving it `wait_s` to end (Linux: read from /proc)."""
    marker = f"NEMO_STATE_DIR={os.path.join(home, 'nemo-state')}".encode()
    deadline = time.time() + wait_s
    while True:
        alive = []
        for pid in (p for p in os.listdir("/proc") if p.isdigit()):
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    if marker in f.read().split(b"\0"):
                        alive.append(pid)
            except OSError:
                continue
        if not alive or time.time() > deadline:
            return alive
        time.sleep(0.1)


def check_refused(host, home, out, model_log, tap_log, sim_port, done, seconds):
    where = f"{host} (everything kept in {home})"
    assert done.returncode == 0, f"{where}: exit {done.returncode}: {done.stderr[-2000:]!r}"
    saw = [e for e in read_jsonl(model_log) if "model_saw" in e]
    assert saw and "permission" in saw[0]["model_saw"].lower(), f"{where}: the model was not told: {saw}"
    calls = [w for w in read_jsonl(tap_log) if '"tools/call"' in w.get("line", "")]
    assert not calls, f"{where}: a paid call reached the server without anyone agreeing: {calls[:1]}"
    log = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/log").read())
    sent = [e for e in log if e["path"].endswith("/run_sse")]
    assert not sent and not os.listdir(out), f"{where}: {len(sent)} instructions sent, {os.listdir(out)}"
    charges = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/charges").read())
    assert not charges, f"{where}: charged {charges} with nothing sent"
    return {"host": host, "seconds": seconds, "refused_by_host": saw[0]["model_saw"], "paid_messages": 0,
            "credits_charged": 0}


def tool_definition_chars(home):
    """The characters of our tool definitions as the host sent them to its model: the largest
    over the requests (Claude Code loads them lazily, so that is the ones loaded by then)."""
    def ours(value):
        if isinstance(value, dict):
            if SERVER_NAME in str(value.get("name", "")):
                return len(json.dumps(value))
            return sum(ours(v) for v in value.values())
        if isinstance(value, list):
            return sum(ours(v) for v in value)
        return 0

    return max((ours(b["body"].get("tools")) for b in read_jsonl(os.path.join(home, "model.jsonl.bodies"))), default=0)


if __name__ == "__main__":
    server_bin, sim_bin, bin_dir, *hosts = sys.argv[1:]
    failed = False
    for host in hosts:
        try:
            print(json.dumps(run_host(host, server_bin, sim_bin, os.path.abspath(bin_dir))), flush=True)
        except Exception as e:  # report every host, then fail
            failed = True
            print(f"FAILED {host}: {e}", file=sys.stderr, flush=True)
    sys.exit(1 if failed else 0)
