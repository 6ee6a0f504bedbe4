#!/usr/bin/env bash
# Cold start through each channel against the bare binary, in one run (docs/benchmarks.md):
# the npm launcher (as installed by npm), npx (cached), uvx (cached), and the artifacts' sizes.
# Needs `bash packaging/build.sh` first, node and npm, and uv in .ci/.venv.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIST=${CARGO_TARGET_DIR:-$ROOT/target}/dist
RUNS=${RUNS:-30}
WORK=$(mktemp -d)
trap 'kill $REG 2>/dev/null || true; rm -rf "$WORK"' EXIT
node "$ROOT/tests/packaging/registry.mjs" "$DIST" "$WORK/port" & REG=$!
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
R="http://127.0.0.1:$(cat "$WORK/port")"
export npm_config_cache="$WORK/npm" UV_CACHE_DIR="$WORK/uv" HOME="$WORK/home"
mkdir -p "$WORK/app" "$HOME" && (cd "$WORK/app" && npm init -y >/dev/null && npm install --registry "$R" nemo-mcp >/dev/null)
UVX="$ROOT/.ci/.venv/bin/uvx"
mcpb unpack "$DIST/nemo-mcp-$(jq -r .version "$DIST/server.json" 2>/dev/null || python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["version"])' "$DIST/server.json")-linux-x64.mcpb" "$WORK/bundle" >/dev/null
DOC="$ROOT/docs/benchmarks.md"
MARKER="<!-- written by bench/cold_start.sh -->"
{
echo "$MARKER"
echo "## Starting through npm, PyPI and MCPB (\`bash bench/cold_start.sh\`)"
echo
echo "Cold start, spawn → \`tools/list\` answered, $RUNS runs each, interleaved, on this $(nproc)-core machine:"
echo
python3 "$ROOT/bench/cold_start.py" "$RUNS" \
  "binary=$ROOT/target/release/nemo-mcp" \
  "npm launcher=$WORK/app/node_modules/.bin/nemo-mcp" \
  "npx -y (cached)=npx -y --registry $R nemo-mcp" \
  "uvx (cached)=$UVX --offline --no-index --find-links $DIST nemo-mcp" \
  "MCPB entry point (node server/launch.js)=node $WORK/bundle/server/launch.js"
echo
echo "- goal: the npm launcher and uvx each add at most 60 ms to the bare binary. \`npx -y\` itself"
echo "  adds npm's package resolution on every start (it asks the registry each time), whatever the"
echo "  package; \`npm install -g nemo-mcp\` and a host config of \`nemo-mcp\` avoid it."
echo
echo "Artifact sizes (\`bash packaging/build.sh --stub-missing\`: Linux x64 real, the other platforms stand-ins of a few bytes):"
echo
echo "| artifact | bytes |"
echo "|---|---|"
for f in "$DIST"/*; do echo "| $(basename "$f") | $(stat -c %s "$f") |"; done
} > "$WORK/section.md"
python3 "$ROOT/bench/section.py" "$DOC" "$WORK/section.md" "$MARKER"
cat "$WORK/section.md"
