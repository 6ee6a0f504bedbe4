#!/usr/bin/env bash
# The player view's benchmark, one run, written to its section of docs/benchmarks.md:
# export result → playable <video> for a 10 MB and a 40 MB export (stdio, the TypeScript client,
# AppBridge, Debian's chromium), piece reads against reading the file, and the storyboard of 10
# photos. Needs chromium, ffmpeg and node >= 22 (tests/apps installs its packages).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
cargo build --release -q -p nemo-mcp -p nemo-sim
cargo build --release -q -p nemo-mcp --example storyboard
[ -d tests/apps/node_modules/puppeteer-core ] ||
  (cd tests/apps && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error --no-package-lock >/dev/null)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
node tests/apps/host.mjs target/release/nemo-mcp target/release/nemo-sim "$WORK" --bench
STORY=$(target/release/examples/storyboard)
MARKER="<!-- written by bench/player.sh -->"
{
echo "$MARKER"
echo "## The player view and previews (\`bash bench/player.sh\`)"
echo
echo "One run on this $(nproc)-core machine, release build, nemo-sim rendering 10-second 1080p H.264"
echo "exports with ffmpeg at a constant bitrate. The time runs from the host handing the export's"
echo "tool result to the view until its \`<video>\` can play (\`readyState\` ≥ 3, size known): the view"
echo "reads every piece through \`tools/call\` (AppBridge → the TypeScript client → stdio) and joins"
echo "them into a \`data:\` URI that Chromium decodes. Goal: ≤ 2 s for 10 MB."
echo
cat "$WORK/player-bench.md"
echo
echo "The storyboard (\`cargo run --release --example storyboard\`): first time (every photo decoded,"
echo "JPEGs at 1/8 scale in the decoder, on all cores) and again (decoded tiles cached). Goal: ≤ 100 ms and ≤ 200 KB."
echo
echo "| photos | first | again (median of 20) | storyboard | size | tiles with their picture |"
echo "|---|---|---|---|---|---|"
echo "$STORY"
} > "$WORK/section.md"
python3 bench/section.py docs/benchmarks.md "$WORK/section.md" "$MARKER"
cat "$WORK/section.md"
