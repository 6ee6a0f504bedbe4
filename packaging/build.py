"""Package prebuilt nemo-mcp binaries for every channel: npm tarballs (a launcher and one
package per platform), wheels (the binary as the script), MCPB bundles (real ZIPs made by
`mcpb pack`), the raw binaries, SHA256SUMS and the registry's server.json, all into one folder.
Run through `packaging/build.sh`; `--help` lists the options.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "pypi"))
sys.path.insert(0, str(HERE / "mcpb"))
from manifest import BUNDLE_OS, bundle_manifest  # noqa: E402
from wheel import glibc_floor, make_wheel  # noqa: E402

REPO = "https://github.com/nemo-mcp/nemo-mcp"
# Platforms as Node names them (`process.platform-process.arch`): npm packages and wheels.
PLATFORMS = {
    "linux-x64": {"os": "linux", "cpu": "x64", "libc": "glibc", "wheel": "manylinux_{glibc}_x86_64"},
    "linux-arm64": {"os": "linux", "cpu": "arm64", "libc": "glibc", "wheel": "manylinux_{glibc}_aarch64"},
    "darwin-x64": {"os": "darwin", "cpu": "x64", "wheel": "macosx_10_12_x86_64"},
    "darwin-arm64": {"os": "darwin", "cpu": "arm64", "wheel": "macosx_11_0_arm64"},
    "win32-x64": {"os": "win32", "cpu": "x64", "wheel": "win_amd64"},
}
# MCPB bundles: the manifest can choose per OS but not per CPU, so one per platform, macOS
# universal (the `darwin` binary is made with lipo by the release workflow).
BUNDLES = ["linux-x64", "linux-arm64", "darwin", "win32-x64"]


def say(msg: str) -> None:
    print(f"packaging: {msg}", file=sys.stderr)


def die(msg: str) -> None:
    say(f"error: {msg}")
    sys.exit(1)


def exe_name(key: str) -> str:
    return "nemo-mcp.exe" if key.startswith("win32") else "nemo-mcp"


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text()
    section = text.split("[workspace.package]", 1)[1].split("\n[", 1)[0]
    m = re.search(r'^version\s*=\s*"([^"]+)"', section, re.M)
    if not m:
        die("no version in [workspace.package] of Cargo.toml")
    return m.group(1)


def check_versions(version: str, binaries: dict, stubs: set) -> None:
    """One version everywhere: the workspace's, in the card, the server.json template, each
    crate (by `version.workspace`) and what each real binary says of itself."""
    card = json.loads((ROOT / "mcp-manifest.json").read_text())
    template = json.loads((ROOT / "server.json").read_text())
    for what, v in [("mcp-manifest.json", card.get("version")), ("server.json", template.get("version"))]:
        if v != version:
            die(f"{what} has version {v}, the workspace {version}")
    for toml in sorted((ROOT / "crates").glob("*/Cargo.toml")):
        if "version.workspace = true" not in toml.read_text():
            die(f"{toml.relative_to(ROOT)} does not take the workspace's version")
    for key, path in binaries.items():
        if key in stubs or not os.access(path, os.X_OK):
            continue
        try:
            out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30)
        except OSError:
            continue  # another platform's binary: the release workflow checks it there
        if out.returncode == 0 and out.stdout.split() != ["nemo-mcp", version]:
            die(f"{path} says {out.stdout.strip()!r}, the workspace {version}")


def stub_binary(work: Path, key: str) -> Path:
    """A stand-in for a platform this machine cannot build for (tests of the packaging)."""
    p = work / "stubs" / key / exe_name(key)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(f"#!/bin/sh\necho 'nemo-mcp stub for {key}' >&2\nexit 1\n")
    p.chmod(0o755)
    return p


def tool(name: str) -> str:
    for d in [ROOT / ".ci/.node/node_modules/.bin", *os.environ.get("PATH", "").split(os.pathsep)]:
        p = Path(d) / name
        if p.is_file() and os.access(p, os.X_OK):
            return str(p)
    die(f"`{name}` is needed (npm install @anthropic-ai/mcpb / npm)")
    return ""


def write_json(path: Path, value: dict) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n")


def npm_pack(pkg_dir: Path, out: Path) -> Path:
    r = subprocess.run(
        [tool("npm"), "pack", "--json", "--pack-destination", str(out)],
        cwd=pkg_dir, capture_output=True, text=True,
    )
    if r.returncode != 0:
        die(f"npm pack {pkg_dir.name}: {r.stderr.strip()}")
    return out / json.loads(r.stdout)[0]["filename"]


def npm_packages(version: str, binaries: dict, work: Path, out: Path) -> list:
    readme = (HERE / "npm" / "README.md").read_text()
    made = []
    for key, p in PLATFORMS.items():
        d = work / "npm" / key
        (d / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(binaries[key], d / "bin" / exe_name(key))
        (d / "bin" / exe_name(key)).chmod(0o755)
        pkg = {
            "name": f"nemo-mcp-{key}", "version": version,
            "description": f"The nemo-mcp binary for {key} (installed by the nemo-mcp package)",
            "license": "MIT OR Apache-2.0", "repository": {"type": "git", "url": f"git+{REPO}.git"},
            "os": [p["os"]], "cpu": [p["cpu"]], "files": ["bin"], "preferUnplugged": True,
        }
        if "libc" in p:
            pkg["libc"] = [p["libc"]]
        write_json(d / "package.json", pkg)
        (d / "README.md").write_text(f"# nemo-mcp-{key}\n\nThe `nemo-mcp` binary for {key}. Install `nemo-mcp` instead.\n")
        made.append(npm_pack(d, out))
    d = work / "npm" / "nemo-mcp"
    shutil.copytree(HERE / "npm" / "nemo-mcp", d, dirs_exist_ok=True)
    (d / "lib").mkdir(exist_ok=True)
    shutil.copy2(HERE / "launcher" / "run.js", d / "lib" / "run.js")
    names = {key: f"nemo-mcp-{key}" for key in PLATFORMS}
    (d / "lib" / "platforms.js").write_text(
        "// Generated by packaging/build.py: the package holding each platform's binary.\n"
        f"module.exports = {{ PLATFORMS: {json.dumps(names, indent=2)} }};\n"
    )
    (d / "bin" / "nemo-mcp.js").chmod(0o755)
    (d / "README.md").write_text(readme)
    write_json(d / "package.json", {
        "name": "nemo-mcp", "version": version,
        "description": "An MCP server that makes and edits videos with NemoVideo",
        "license": "MIT OR Apache-2.0", "homepage": REPO,
        "repository": {"type": "git", "url": f"git+{REPO}.git"},
        "keywords": ["mcp", "modelcontextprotocol", "video", "nemovideo"],
        "bin": {"nemo-mcp": "bin/nemo-mcp.js"}, "files": ["bin", "lib"],
        "engines": {"node": ">=16"},
        "optionalDependencies": {n: version for n in names.values()},
    })
    made.insert(0, npm_pack(d, out))
    return made


def wheels(version: str, binaries: dict, out: Path) -> list:
    readme = (HERE / "npm" / "README.md").read_text()
    made = []
    for key, p in PLATFORMS.items():
        floor = glibc_floor(binaries[key]) or (2, 17)
        tag = p["wheel"].format(glibc=f"{floor[0]}_{floor[1]}")
        made.append(make_wheel(binaries[key], version, tag, exe_name(key), out, readme,
                               "MIT OR Apache-2.0", REPO))
    return made


def bundles(version: str, binaries: dict, work: Path, out: Path) -> list:
    card = json.loads((ROOT / "mcp-manifest.json").read_text())
    made = []
    for key in BUNDLES:
        d = work / "mcpb" / key
        (d / "server" / "bin").mkdir(parents=True, exist_ok=True)
        exe = exe_name(key)
        shutil.copy2(binaries[key], d / "server" / "bin" / exe)
        (d / "server" / "bin" / exe).chmod(0o755)
        shutil.copy2(HERE / "mcpb" / "launch.js", d / "server" / "launch.js")
        shutil.copy2(HERE / "launcher" / "run.js", d / "server" / "run.js")
        # The agent skill, as the binary serves it over MCP (skills/nemovideo/SKILL.md).
        (d / "skills" / "nemovideo").mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "skills" / "nemovideo" / "SKILL.md", d / "skills" / "nemovideo" / "SKILL.md")
        write_json(d / "manifest.json", bundle_manifest(card, version, key))
        target = out / f"nemo-mcp-{version}-{key}.mcpb"
        r = subprocess.run([tool("mcpb"), "pack", str(d), str(target)], capture_output=True, text=True)
        if r.returncode != 0 or not target.is_file():
            die(f"mcpb pack {key}: {r.stdout.strip()} {r.stderr.strip()}")
        made.append(target)
    return made


def raw_binaries(version: str, binaries: dict, out: Path) -> list:
    made = []
    for key in [*PLATFORMS, "darwin"]:
        suffix = ".exe" if key.startswith("win32") else ""
        target = out / f"nemo-mcp-{version}-{key}{suffix}"
        shutil.copy2(binaries[key], target)
        target.chmod(0o755)
        made.append(target)
    return made


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def server_json(version: str, out: Path, bundle_files: list) -> dict:
    """The registry entry: the template's words, and a package per channel whose identifier is
    what the release uploads (a bundle's is its download URL, with its hash)."""
    template = json.loads((ROOT / "server.json").read_text())
    env = next(p["environmentVariables"] for p in template["packages"] if p["registryType"] == "npm")
    if not 1 <= len(template["description"]) <= 100:
        die(f"server.json: the description is {len(template['description'])} characters (1-100)")
    stdio = {"type": "stdio"}
    packages = [
        {"registryType": "npm", "identifier": "nemo-mcp", "version": version,
         "runtimeHint": "npx", "transport": stdio, "environmentVariables": env},
        {"registryType": "pypi", "identifier": "nemo-mcp", "version": version,
         "runtimeHint": "uvx", "transport": stdio, "environmentVariables": env},
    ]
    for f in bundle_files:
        packages.append({
            "registryType": "mcpb",
            "identifier": f"{REPO}/releases/download/v{version}/{f.name}",
            "version": version, "fileSha256": sha256(f), "transport": stdio,
        })
    template["version"] = version
    template["packages"] = packages
    return template


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", action="append", default=[], metavar="PLATFORM=PATH",
                    help=f"a prebuilt binary; platforms: {', '.join([*PLATFORMS, 'darwin'])}")
    ap.add_argument("--stub-missing", action="store_true",
                    help="stand-ins for the platforms not given (tests of the packaging only)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    version = workspace_version()
    binaries, stubs = {}, set()
    for spec in args.binary:
        key, _, path = spec.partition("=")
        if key not in [*PLATFORMS, "darwin"] or not Path(path).is_file():
            die(f"--binary {spec}: expected PLATFORM=PATH to an existing file")
        binaries[key] = Path(path)
    out = args.out
    work = out / ".work"
    shutil.rmtree(out, ignore_errors=True)
    work.mkdir(parents=True)
    for key in [*PLATFORMS, "darwin"]:
        if key not in binaries:
            if not args.stub_missing:
                die(f"no binary for {key} (give --binary {key}=PATH, or --stub-missing in tests)")
            binaries[key], _ = stub_binary(work, key), stubs.add(key)
    check_versions(version, binaries, stubs)
    made = npm_packages(version, binaries, work, out)
    made += wheels(version, binaries, out)
    bundle_files = bundles(version, binaries, work, out)
    made += bundle_files + raw_binaries(version, binaries, out)
    sums = "".join(f"{sha256(f)}  {f.name}\n" for f in sorted(made))
    (out / "SHA256SUMS").write_text(sums)
    write_json(out / "server.json", server_json(version, out, bundle_files))
    shutil.rmtree(work)
    for f in sorted(out.iterdir()):
        say(f"{f.stat().st_size:>12,}  {f.name}")
    if stubs:
        say(f"stand-ins, not real binaries: {', '.join(sorted(stubs))}")


if __name__ == "__main__":
    main()
