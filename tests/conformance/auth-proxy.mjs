// A loopback proxy that adds `Authorization: Bearer <token>` to every request, for clients that
// cannot send headers (the official conformance suite). Usage:
//   node auth-proxy.mjs <listen port> <upstream http://127.0.0.1:PORT> <token file>
import http from "node:http";
import { readFileSync } from "node:fs";

const [port, upstream, tokenFile] = process.argv.slice(2);
const token = readFileSync(tokenFile, "utf8").trim();
const target = new URL(upstream);

http
  .createServer((req, res) => {
    const headers = { ...req.headers, authorization: `Bearer ${token}`, host: target.host };
    const up = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    up.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  })
  .listen(Number(port), "127.0.0.1");
