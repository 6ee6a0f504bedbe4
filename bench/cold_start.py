"""Cold start, spawn → `tools/list` answered, for several ways of starting the server, in one
run, interleaved so that each sees the same machine. Prints a Markdown table (median, p90, and
the median minus the bare binary's).
Usage: python cold_start.py RUNS NAME=COMMAND... (COMMAND split on spaces)
"""

import json
import statistics
import subprocess
import sys
import time

MSGS = b"".join(json.dumps(m).encode() + b"\n" for m in [
    {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
])


def once(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert p.stdin and p.stdout
    p.stdin.write(MSGS)
    p.stdin.flush()
    while True:
        line = p.stdout.readline()
        if not line:
            raise SystemExit(f"{cmd}: no tools/list answer")
        if json.loads(line).get("id") == 2:
            break
    elapsed = time.perf_counter() - t0
    p.stdin.close()
    p.wait(timeout=30)
    return elapsed * 1000


def main() -> None:
    runs = int(sys.argv[1])
    ways = [a.split("=", 1) for a in sys.argv[2:]]
    for _, cmd in ways:  # warm the caches (npx, uv) once, untimed
        once(cmd.split())
    times = {name: [] for name, _ in ways}
    for _ in range(runs):
        for name, cmd in ways:
            times[name].append(once(cmd.split()))
    base = statistics.median(times[ways[0][0]])
    print(f"| start | median ms | p90 ms | added to {ways[0][0]} (median) |")
    print("|---|---|---|---|")
    for name, _ in ways:
        t = sorted(times[name])
        med = statistics.median(t)
        p90 = t[int(0.9 * (len(t) - 1))]
        print(f"| {name} | {med:.1f} | {p90:.1f} | {med - base:+.1f} |")


if __name__ == "__main__":
    main()
