"""Several clients on one `nemo-mcp --http`, driven by the official Python MCP SDK in both
protocol eras, each making a video at the same time (issue 44). Run:
python http_clients.py <nemo-mcp binary> <nemo-sim binary>

Checks: two 2026-07-28 clients (no MCP session; each in the workspace `connect` hands it) and two
2025-11-25 clients (each in its MCP session) make a video each, concurrently; each timeline holds
only its own media; each `list_jobs` only its own jobs; a sessionless call without a workspace is
refused with `workspace_required`. Counted on nemo-sim's side: four paid messages, 200 credits."""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import urllib.request

import httpx2
from common import free_port, png, wait_port
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

PROMO = "combine these images into a 10-second promo video with music"








def structured(r):
    return getattr(r, "structured_content", None) or getattr(r, "structuredContent", None) or {}


def is_error(r):
    return bool(getattr(r, "is_error", None) or getattr(r, "isError", None))


async def one_client(url, token, era, name, photo):
    """One client making one video; what it saw."""
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    async with streamable_http_client(url, http_client=http) as streams:
        read, write = streams[0], streams[1]
        async with ClientSession(read, write) as s:
            ws = {}
            if era == "2026-07-28":
                found = await s.discover()
                assert "2026-07-28" in found.supported_versions, found
                refused = await s.call_tool("list_jobs", {})
                assert is_error(refused) and structured(refused)["code"] == "workspace_required", refused
                c = await s.call_tool("connect", {})
                ws = {"workspace": structured(c)["workspace"]}
            else:
                await s.initialize()

            async def call(tool, args):
                r = await s.call_tool(tool, {**args, **ws})
                body = structured(r)
                assert not is_error(r), f"{name} {tool}: {body}"
                while body.get("status") == "running":
                    r = await s.call_tool("get_job", {"job_id": body["job_id"], "wait_s": 20, **ws})
                    body = structured(r)
                return body

            made = await call("make_video", {"instruction": PROMO, "paths": [photo]})
            assert made["status"] == "succeeded", (name, made)
            timeline = await call("get_timeline", {})
            jobs = (await call("list_jobs", {}))["jobs"]
            return {"name": name, "timeline": json.dumps(timeline), "jobs": [j["job_id"] for j in jobs],
                    "path": made["result"].get("path")}


async def main(server_bin, sim_bin):
    sim_port, port = free_port(), free_port()
    sim = subprocess.Popen([sim_bin, "--port", str(sim_port), "--time-scale", "0.02", "--builtin-renderer"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = None
    try:
        wait_port(sim_port)
        with tempfile.TemporaryDirectory() as home:
            media = os.path.join(home, "media")
            os.makedirs(media)
            token_file = os.path.join(home, "token")
            env = {**os.environ, "HOME": home, "NEMO_API_URL": f"http://127.0.0.1:{sim_port}",
                   "NEMO_WEB_URL": f"http://127.0.0.1:{sim_port}", "NEMO_ALLOWED_DIRS": media,
                   "NEMO_OUTPUT_DIR": os.path.join(home, "out"), "NEMO_RENDER_POLL_MS": "50"}
            env.pop("NEMO_TOKEN", None)
            server = subprocess.Popen([server_bin, "--http", f"127.0.0.1:{port}", "--token-file", token_file],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_port(port)
            token = open(token_file).read().strip()
            url = f"http://127.0.0.1:{port}/mcp"
            clients = [("2026-07-28", "new-a"), ("2026-07-28", "new-b"), ("2025-11-25", "old-a"), ("2025-11-25", "old-b")]
            photos = {}
            for i, (_, name) in enumerate(clients):
                photos[name] = os.path.join(media, f"{name}-photo.png")
                png(photos[name], 64, 48, (40 * i + 30, 200 - 40 * i, 90))
            # One account for every client (one server is one user's): its token made by a first
            # call, then enough credits for four edits.
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
            async with streamable_http_client(url, http_client=http) as streams:
                async with ClientSession(streams[0], streams[1]) as s:
                    await s.initialize()
                    await s.call_tool("get_credits", {})
            req = urllib.request.Request(f"http://127.0.0.1:{sim_port}/_sim/credits", method="POST",
                                         data=json.dumps({"available": 1000}).encode(),
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(req).read()
            seen = await asyncio.gather(*(one_client(url, token, era, name, photos[name]) for era, name in clients))
            for s in seen:
                others = [n for _, n in clients if n != s["name"]]
                for o in others:
                    assert f"{o}-photo" not in s["timeline"], (s["name"], "sees", o, s["timeline"])
                assert s["path"], s
            all_jobs = [j for s in seen for j in s["jobs"]]
            assert len(all_jobs) == len(set(all_jobs)), "a job listed by two clients"
            charges = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/charges"))
            log = json.load(urllib.request.urlopen(f"http://127.0.0.1:{sim_port}/_sim/log"))
            messages = [r for r in log if r.get("path", "").endswith("/run_sse")]
            credits = sum(c[1] if isinstance(c, list) else c.get("credits", 0) for c in charges)
            print(f"four clients (two per era) on one --http server: {len(messages)} paid messages, {credits} credits")
            assert len(messages) == 4, messages
            assert credits == 200, charges
    finally:
        if server:
            server.kill()
        sim.kill()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
