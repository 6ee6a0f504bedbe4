// The host side of the MCP Apps bridge as the page needs it, bundled by esbuild for the
// browser: the official AppBridge and its postMessage transport.
import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

globalThis.NemoHost = { AppBridge, PostMessageTransport };
