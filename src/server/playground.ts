// `portcullis playground`'s web server: serves the files of the browser playground (built by
// scripts/browser-bundle.ts into dist/playground/) on a local address, and nothing else. The
// page evaluates in the browser; this server receives no policy, input or data. Only GET and
// HEAD of the directory's own files (read once at start, so a request never touches the disk);
// every answer carries the page's Content-Security-Policy (no connections after load); each
// request has a deadline.

import { createServer, type Server } from "node:http";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".json": "application/json",
};

/** The Content-Security-Policy of the page (also in its <meta>): its own files, then no connection. */
export const PLAYGROUND_CSP = "default-src 'self'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'none'; form-action 'none'; frame-ancestors 'none'";

/** Largest file served (the bundle is a few MB); a larger one is refused at start. */
export const MAX_FILE_BYTES = 32 * 1024 * 1024;
/** Each request's deadline, in milliseconds. */
export const REQUEST_TIMEOUT_MS = 10_000;

export class PlaygroundError extends Error {}

interface Asset {
  body: Buffer;
  type: string;
}

/** The files of a built playground directory, read into memory; a PlaygroundError when it is not one. */
export function readPlayground(dir: string): Map<string, Asset> {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    throw new PlaygroundError(`${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (e as Error).message}`);
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const ext = name.slice(name.lastIndexOf("."));
    const type = TYPES[ext];
    const path = join(dir, name);
    if (!type || !statSync(path).isFile()) continue;
    const size = statSync(path).size;
    if (size > MAX_FILE_BYTES) throw new PlaygroundError(`${path}: ${size} bytes, more than the ${MAX_FILE_BYTES} served`);
    assets.set(`/${name}`, { body: readFileSync(path), type });
  }
  for (const need of ["/index.html", "/page.js", "/worker.js"]) {
    if (!assets.has(need)) throw new PlaygroundError(`${dir} is not a built playground (no ${need.slice(1)}): run \`npm run build\`, or give --dir`);
  }
  return assets;
}

export interface RunningPlayground {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Serve `assets` on host:port (port 0: any free port). */
export function servePlayground(assets: Map<string, Asset>, host: string, port: number, log: (line: string) => void): Promise<RunningPlayground> {
  const server = createServer((req, res) => {
    res.setTimeout(REQUEST_TIMEOUT_MS, () => res.destroy());
    const path = (req.url ?? "/").split("?")[0].split("#")[0];
    const asset = assets.get(path === "/" ? "/index.html" : path);
    const headers = { "Content-Security-Policy": PLAYGROUND_CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache" };
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { ...headers, Allow: "GET, HEAD", "Content-Type": "text/plain; charset=utf-8" }).end("method not allowed\n");
      log(`${req.method} ${path}: 405`);
      return;
    }
    if (!asset) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
      log(`${req.method} ${path}: 404`);
      return;
    }
    res.writeHead(200, { ...headers, "Content-Type": asset.type, "Content-Length": asset.body.length });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address();
      const actual = typeof addr === "object" && addr ? addr.port : port;
      resolve({
        server,
        port: actual,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
