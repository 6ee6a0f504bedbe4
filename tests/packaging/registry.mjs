// A tiny npm registry on 127.0.0.1 serving the tarballs of target/dist: one packument per
// package (its one version), and the tarballs. Enough for `npx -y --registry URL nemo-mcp`.
// Usage: node registry.mjs DIST_DIR PORT_FILE  (writes the port it listens on to PORT_FILE)
import { createServer } from "node:http";
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const [dist, portFile] = process.argv.slice(2);
const packages = new Map();
for (const file of readdirSync(dist).filter((f) => f.endsWith(".tgz"))) {
  const bytes = readFileSync(join(dist, file));
  const manifest = JSON.parse(
    execFileSync("tar", ["-xzOf", join(dist, file), "package/package.json"], { encoding: "utf8" }),
  );
  packages.set(manifest.name, { manifest, file, bytes });
}

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://localhost");
  const base = `http://127.0.0.1:${server.address().port}`;
  const name = decodeURIComponent(url.pathname.slice(1));
  const tarball = [...packages.values()].find((p) => url.pathname === `/-/${p.file}`);
  if (tarball) {
    res.writeHead(200, { "content-type": "application/octet-stream" });
    return res.end(tarball.bytes);
  }
  const pkg = packages.get(name);
  if (!pkg) {
    res.writeHead(404, { "content-type": "application/json" });
    return res.end(JSON.stringify({ error: "not found" }));
  }
  const { manifest, file, bytes } = pkg;
  const version = {
    ...manifest,
    _id: `${manifest.name}@${manifest.version}`,
    dist: {
      tarball: `${base}/-/${file}`,
      shasum: createHash("sha1").update(bytes).digest("hex"),
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
    },
  };
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      name: manifest.name,
      "dist-tags": { latest: manifest.version },
      versions: { [manifest.version]: version },
    }),
  );
});
server.listen(0, "127.0.0.1", () => writeFileSync(portFile, String(server.address().port)));
