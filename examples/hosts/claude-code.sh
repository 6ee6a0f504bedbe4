#!/usr/bin/env sh
# Add nemo-mcp to Claude Code (user scope), run by npx from npm (no Rust needed; `uvx nemo-mcp`
# works the same way). Long renders finish as background jobs, so the default tool timeout is
# enough; raise MCP_TOOL_TIMEOUT only if you pass wait_s above 55.
claude mcp add nemovideo --scope user \
  --env NEMO_OUTPUT_DIR="$HOME/Videos/NemoVideo" \
  -- npx -y nemo-mcp

# Non-interactive (`claude -p`) asks nobody, so the tools it may call are named up front:
#   claude -p "make a 10-second video from ~/Pictures/a.jpg" \
#     --allowedTools "mcp__nemovideo__make_video,mcp__nemovideo__get_job"
# With NEMO_CONFIRM_SPENDING=1 Claude Code asks before every paid call, even in bypass modes; in
# `claude -p` nobody can answer, so paid calls are refused there (nothing is spent). Leave it off
# for `-p` and cap spending with NEMO_MAX_CREDITS_PER_DAY instead.
