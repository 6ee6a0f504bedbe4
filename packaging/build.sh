#!/usr/bin/env bash
# The one packaging command: takes the release binary (built if missing) and writes every
# artifact into target/dist/ (or $CARGO_TARGET_DIR/dist/): npm tarballs, wheels, MCPB bundles,
# the raw binaries, SHA256SUMS and server.json. The release workflow passes each platform's
# binary with --binary PLATFORM=PATH; tests of the packaging add --stub-missing for the
# platforms this machine cannot build.
#
#   bash packaging/build.sh [--binary PLATFORM=PATH]... [--stub-missing]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
case "$TARGET" in /*) ;; *) TARGET=$ROOT/$TARGET ;; esac

host=""
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) host=linux-x64 ;;
  Linux-aarch64) host=linux-arm64 ;;
esac
args=("$@")
if [ -n "$host" ] && [[ " $* " != *" --binary $host="* ]]; then
  if [ ! -x "$TARGET/release/nemo-mcp" ]; then
    echo "packaging: building the release binary" >&2
    (cd "$ROOT" && cargo build --release --locked -p nemo-mcp >&2)
  fi
  args+=(--binary "$host=$TARGET/release/nemo-mcp")
fi
exec python3 "$ROOT/packaging/build.py" --out "$TARGET/dist" "${args[@]}"
