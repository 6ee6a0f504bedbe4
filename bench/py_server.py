"""A minimal MCP server with the official Python SDK, listing the same tools as nemo-mcp
(loaded from tools.json): the baseline for cold start and memory."""
import asyncio
import json
import os
import sys

import mcp.server.stdio
import mcp_types as types
from mcp.server.lowlevel import Server

TOOLS = [types.Tool.model_validate(t) for t in json.load(open(os.path.join(os.path.dirname(__file__), "out", "tools.json")))]


async def list_tools(ctx, params):
    return types.ListToolsResult(tools=TOOLS)


async def call_tool(ctx, params):
    return types.CallToolResult(content=[types.TextContent(type="text", text="not implemented")], is_error=True)


server = Server("py-baseline", on_list_tools=list_tools, on_call_tool=call_tool)


async def main():
    async with mcp.server.stdio.stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


asyncio.run(main())
