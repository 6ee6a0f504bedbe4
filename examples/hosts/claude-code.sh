#!/usr/bin/env sh
# Add nemo-mcp to Claude Code (user scope). Long renders finish as background jobs, so the
# default tool timeout is enough; raise MCP_TOOL_TIMEOUT only if you pass wait_s above 55.
claude mcp add nemovideo --scope user \
  --env NEMO_OUTPUT_DIR="$HOME/Videos/NemoVideo" \
  -- nemo-mcp
