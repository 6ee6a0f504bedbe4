"""Launch the server as the host asked and keep a copy of every JSON-RPC message, both ways:
`tap.py <log.jsonl> <server> [args...]`. stdout carries only what the server wrote."""

import json
import os
import signal
import subprocess
import sys
import threading
import time

LOG, ARGV = sys.argv[1], sys.argv[2:]
lock = threading.Lock()
START = time.time()


def keep(direction, line, key="line"):
    with lock, open(LOG, "a", encoding="utf-8") as f:
        f.write(json.dumps({"t": round(time.time() - START, 3), "dir": direction, key: line.decode("utf-8", "replace").rstrip("\n")}) + "\n")


child = subprocess.Popen(ARGV, stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def to_server():
    for line in sys.stdin.buffer:
        keep("host->server", line)
        try:
            child.stdin.write(line)
            child.stdin.flush()
        except (BrokenPipeError, ValueError):
            break
    keep("host->server", b"stdin closed", "event")
    try:
        child.stdin.close()
    except OSError:
        pass


def stop(signum, _frame):
    # The host ends the server with a signal: pass it on, so no server outlives its host.
    keep("host->server", f"signal {signum}".encode(), "event")
    child.send_signal(signum)


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
threading.Thread(target=to_server, daemon=True).start()
for line in child.stdout:
    keep("server->host", line)
    sys.stdout.buffer.write(line)
    sys.stdout.buffer.flush()
code = child.wait()
keep("server->host", f"server exited: {code}".encode(), "event")
sys.exit(code)
