"""The bundle's `manifest.json`, generated from the design card `mcp-manifest.json`: the
workspace's version and the one platform the bundle holds a binary for. The card itself names
the Node entry point (`server/launch.js`) that starts the binary shipped beside it, giving it
back its execute bit if a host unpacked it without one.
"""

import copy

# The bundle's host OS (`process.platform`) for each bundle key.
BUNDLE_OS = {"linux-x64": "linux", "linux-arm64": "linux", "darwin": "darwin", "win32-x64": "win32"}


def bundle_manifest(card: dict, version: str, bundle: str) -> dict:
    server = card.get("server", {})
    if server.get("type") != "node" or server.get("entry_point") != "server/launch.js":
        raise SystemExit("mcp-manifest.json: the server must be {type: node, entry_point: server/launch.js}")
    m = copy.deepcopy(card)
    m["version"] = version
    m.setdefault("compatibility", {})["platforms"] = [BUNDLE_OS[bundle]]
    return m
