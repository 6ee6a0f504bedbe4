"""An MCP `initialize` + `tools/list` through a command line (npx, uvx, a bundle's command):
first with the official Python SDK, then by hand, to check that stdout carries only JSON-RPC.
Usage: python handshake.py EXPECTED_TOOLS_JSON -- COMMAND [ARGS...]
Prints the tool names; exits non-zero on any failure.
"""

import asyncio
import json
import os
import subprocess
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def with_sdk(cmd: list[str]) -> list[str]:
    params = StdioServerParameters(command=cmd[0], args=cmd[1:], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = await session.list_tools()
            return [t.name for t in tools.tools]


def by_hand(cmd: list[str]) -> None:
    """Every line the server writes to stdout must be a JSON-RPC 2.0 message."""
    msgs = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "handshake", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdin and p.stdout
    for m in msgs:
        p.stdin.write((json.dumps(m) + "\n").encode())
    p.stdin.flush()
    seen = 0
    while True:
        line = p.stdout.readline()
        if not line:
            raise SystemExit("stdout closed before the tools/list answer")
        msg = json.loads(line)  # anything else on stdout fails here
        assert msg.get("jsonrpc") == "2.0", line
        seen += 1
        if msg.get("id") == 2:
            assert "tools" in msg["result"], msg
            break
    p.stdin.close()
    rest = p.stdout.read()
    p.wait(timeout=30)
    for line in rest.splitlines():
        assert json.loads(line).get("jsonrpc") == "2.0", line
    print(f"stdout: {seen} JSON-RPC line(s), nothing else; exit {p.returncode}")


def main() -> None:
    expected = json.loads(sys.argv[1])
    cmd = sys.argv[sys.argv.index("--") + 1:]
    names = asyncio.run(with_sdk(cmd))
    print("tools/list:", ", ".join(names))
    if expected and sorted(names) != sorted(expected):
        raise SystemExit(f"tools differ: {sorted(names)} != {sorted(expected)}")
    by_hand(cmd)


if __name__ == "__main__":
    main()
