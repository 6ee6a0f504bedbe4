#!/usr/bin/env bash
# The official MCP conformance suite against `nemo-mcp --http` (on nemo-sim), through a proxy
# that adds the bearer token (the suite cannot send headers). Usage: run.sh <nemo-mcp> <nemo-sim>
set -euo pipefail
MCP_BIN=$1 SIM_BIN=$2
HERE=$(cd "$(dirname "$0")" && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
SIM_PORT=$(free_port) MCP_PORT=$(free_port) PROXY_PORT=$(free_port)
CHOME=$(mktemp -d)
"$SIM_BIN" --port "$SIM_PORT" --time-scale 0.02 --builtin-renderer 2>/dev/null & SIM=$!
trap 'kill $SIM ${MCP:-} ${PROXY:-} 2>/dev/null || true' EXIT
wait_port "$SIM_PORT"
HOME=$CHOME NEMO_API_URL="http://127.0.0.1:$SIM_PORT" "$MCP_BIN" --http "127.0.0.1:$MCP_PORT" \
  --token-file "$CHOME/token" 2>"$CHOME/server.log" & MCP=$!
wait_port "$MCP_PORT"
node "$HERE/auth-proxy.mjs" "$PROXY_PORT" "http://127.0.0.1:$MCP_PORT" "$CHOME/token" & PROXY=$!
wait_port "$PROXY_PORT"
conformance server --url "http://127.0.0.1:$PROXY_PORT/mcp" \
  --expected-failures "$HERE/expected-failures.yml" 2>&1 |
  grep -vE '^(Running client scenario|=== Running scenario|$)'
