"""The registry entry and SHA256SUMS against the built artifacts: each package's identifier
names a file in target/dist (npm and PyPI by package name and version, a bundle by its release
URL), each hash is the file's, one version everywhere."""

import hashlib
import json
import sys
import tarfile
import zipfile
from pathlib import Path

dist = Path(sys.argv[1])
server = json.loads((dist / "server.json").read_text())
version = server["version"]
sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
problems = []

listed = {}
for line in (dist / "SHA256SUMS").read_text().splitlines():
    digest, name = line.split("  ", 1)
    listed[name] = digest
    if sha(dist / name) != digest:
        problems.append(f"SHA256SUMS: {name} does not match")
artifacts = {p.name for p in dist.iterdir() if p.name not in ("SHA256SUMS", "server.json")}
if artifacts != set(listed):
    problems.append(f"SHA256SUMS lists {sorted(listed)}, dist holds {sorted(artifacts)}")

kinds = set()
for p in server["packages"]:
    kinds.add(p["registryType"])
    if p.get("version") != version:
        problems.append(f"{p['identifier']}: version {p.get('version')} != {version}")
    if p["registryType"] == "npm":
        tgz = dist / f"{p['identifier']}-{version}.tgz"
        if not tgz.is_file():
            problems.append(f"npm {p['identifier']}: no {tgz.name}")
        else:
            with tarfile.open(tgz) as t:
                pkg = json.load(t.extractfile("package/package.json"))
            if (pkg["name"], pkg["version"]) != (p["identifier"], version):
                problems.append(f"{tgz.name} is {pkg['name']}@{pkg['version']}")
            for dep, v in pkg.get("optionalDependencies", {}).items():
                if v != version or not (dist / f"{dep}-{version}.tgz").is_file():
                    problems.append(f"{tgz.name}: optional dependency {dep}@{v} not built")
    elif p["registryType"] == "pypi":
        wheels = [w for w in dist.glob(f"{p['identifier'].replace('-', '_')}-{version}-*.whl")]
        if not wheels:
            problems.append(f"pypi {p['identifier']}: no wheel")
        for w in wheels:
            meta = zipfile.ZipFile(w).read(f"nemo_mcp-{version}.dist-info/METADATA").decode()
            if f"Name: {p['identifier']}\n" not in meta or f"Version: {version}\n" not in meta:
                problems.append(f"{w.name}: METADATA names another package or version")
    elif p["registryType"] == "mcpb":
        prefix = f"https://github.com/nemo-mcp/nemo-mcp/releases/download/v{version}/"
        name = p["identifier"].removeprefix(prefix)
        f = dist / name
        if not p["identifier"].startswith(prefix) or not f.is_file():
            problems.append(f"mcpb {p['identifier']}: not a file the release uploads")
        elif p.get("fileSha256") != sha(f):
            problems.append(f"mcpb {name}: fileSha256 is not the file's")
        else:
            m = json.loads(zipfile.ZipFile(f).read("manifest.json"))
            if m["version"] != version:
                problems.append(f"{name}: manifest version {m['version']}")
if kinds != {"npm", "pypi", "mcpb"}:
    problems.append(f"server.json lists {sorted(kinds)}")
if len(server["description"]) > 100:
    problems.append("description over 100 characters")
for p in problems:
    print(f"dist: {p}", file=sys.stderr)
if problems:
    sys.exit(1)
print(f"dist: {len(server['packages'])} packages, {len(listed)} files, all hashes and names match v{version}")
