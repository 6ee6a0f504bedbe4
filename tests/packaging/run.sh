#!/usr/bin/env bash
# Install and start nemo-mcp the ways hosts do, offline, from what `packaging/build.sh` made:
# npx from a local npm registry, uvx from the wheels, the MCPB bundle as Claude Desktop launches
# it; and check server.json against the registry's schema and the artifacts.
# Usage: tests/packaging/run.sh NODE_MODULES PYTHON SIM_BINARY   (after packaging/build.sh)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NM=$1 PY=$2 SIM=$3
DIST=${CARGO_TARGET_DIR:-$ROOT/target}/dist
VERSION=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$DIST/server.json")
TOOLS=$(python3 -c 'import json,sys; print(json.dumps([t["name"] for t in json.load(open(sys.argv[1]))["tools"]]))' "$ROOT/mcp-manifest.json")
WORK=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
say() { printf -- '--- %s\n' "$*"; }

say "a local npm registry serving target/dist"
node "$ROOT/tests/packaging/registry.mjs" "$DIST" "$WORK/port" &
PIDS+=($!)
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
REGISTRY="http://127.0.0.1:$(cat "$WORK/port")"
export npm_config_cache="$WORK/npm-cache" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

say "npx -y nemo-mcp --version"
OUT=$(cd "$WORK" && npx -y --registry "$REGISTRY" nemo-mcp --version)
echo "$OUT"
test "$OUT" = "nemo-mcp $VERSION"

say "initialize + tools/list through npx, official Python SDK; stdout only JSON-RPC"
(cd "$WORK" && HOME="$WORK/home-npx" "$PY" "$ROOT/tests/packaging/handshake.py" "$TOOLS" -- \
  npx -y --registry "$REGISTRY" nemo-mcp)

say "installed without optional dependencies: a clear message on stderr, nothing on stdout"
mkdir -p "$WORK/omit" && (cd "$WORK/omit" && npm init -y >/dev/null &&
  npm install --registry "$REGISTRY" --omit=optional --no-package-lock nemo-mcp >/dev/null)
set +e
(cd "$WORK/omit" && ./node_modules/.bin/nemo-mcp --version >"$WORK/omit.out" 2>"$WORK/omit.err")
CODE=$?
set -e
cat "$WORK/omit.err"
test "$CODE" -ne 0
test ! -s "$WORK/omit.out"
grep -q "nemo-mcp-linux-x64, which holds the nemo-mcp binary" "$WORK/omit.err"
grep -q -- "--omit=optional" "$WORK/omit.err"

say "uvx --offline --no-index --find-links target/dist nemo-mcp"
UVX=$(dirname "$PY")/uvx
export UV_CACHE_DIR="$WORK/uv-cache"
OUT=$("$UVX" --offline --no-index --find-links "$DIST" nemo-mcp --version)
echo "$OUT"
test "$OUT" = "nemo-mcp $VERSION"
(cd "$WORK" && HOME="$WORK/home-uvx" "$PY" "$ROOT/tests/packaging/handshake.py" "$TOOLS" -- \
  "$UVX" --offline --no-index --find-links "$DIST" nemo-mcp)

say "MCPB: mcpb unpack keeps the execute bit"
BUNDLE="$DIST/nemo-mcp-$VERSION-linux-x64.mcpb"
python3 -c 'import sys,zipfile; zipfile.ZipFile(sys.argv[1]).testzip() is None or sys.exit("bad zip")' "$BUNDLE"
"$NM/.bin/mcpb" unpack "$BUNDLE" "$WORK/bundle" >/dev/null
ls -l "$WORK/bundle/server/bin/nemo-mcp"
test -x "$WORK/bundle/server/bin/nemo-mcp"
# The agent skill ships in the bundle, byte for byte what the binary serves.
cmp "$WORK/bundle/skills/nemovideo/SKILL.md" "$ROOT/skills/nemovideo/SKILL.md"
"$WORK/bundle/server/bin/nemo-mcp" skill show | cmp - "$ROOT/skills/nemovideo/SKILL.md"

say "MCPB: launched as Claude Desktop does (getMcpConfigForManifest, user_config empty)"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SIM" --port "$PORT" --time-scale 0.02 --builtin-renderer 2>/dev/null &
PIDS+=($!)
for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/"$PORT") 2>/dev/null && break; sleep 0.05; done
mkdir -p "$WORK/home-mcpb"
node "$ROOT/tests/packaging/mcpb_launch.mjs" "$NM" "$WORK/bundle" "$WORK/home-mcpb" "http://127.0.0.1:$PORT"

say "MCPB: unpacked without the execute bit, the entry point still starts the server"
chmod a-x "$WORK/bundle/server/bin/nemo-mcp"
rm -rf "$WORK/home-mcpb" && mkdir -p "$WORK/home-mcpb"
node "$ROOT/tests/packaging/mcpb_launch.mjs" "$NM" "$WORK/bundle" "$WORK/home-mcpb" "http://127.0.0.1:$PORT"
test -x "$WORK/bundle/server/bin/nemo-mcp"

say "server.json: the registry's schema, and every identifier and hash against target/dist"
SCHEMA="$ROOT/../shared/schemas/server.schema-2025-12-11.json"
"$(dirname "$PY")/check-jsonschema" --schemafile "$SCHEMA" "$DIST/server.json" "$ROOT/server.json"
python3 "$ROOT/tests/packaging/check_dist.py" "$DIST"
