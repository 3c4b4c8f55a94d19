// Helpers of the server tests: start `portcullis run --server` in process or `opa run --server`
// as a process on a free loopback port, send requests, and reduce answers to what must be equal
// between the two (status, JSON body) with the parts that legitimately differ taken out (timings,
// ids, metrics values, versions, the compiled AST of policies; see docs/server.md).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { startServer, loadConfig, Logger, type RunningServer, type ServerOptions } from "../../src/server/index.ts";
import type { DiffRequest } from "./diff-requests.ts";

export const OPA = process.env.OPA_BIN ?? join(homedir(), "go", "bin", "opa");
export const HAVE_OPA = existsSync(OPA);

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface Started {
  base: string;
  stop(): Promise<void>;
  server?: RunningServer;
}

/** Options for an in-process test server on a free loopback port: quiet, no auth, 1 worker; `over` replaces any. */
export function testServerOptions(paths: string[], over: Partial<ServerOptions> = {}): ServerOptions {
  return {
    paths,
    bundleMode: false,
    watch: false,
    addrs: ["127.0.0.1:0"],
    diagnosticAddrs: [],
    regoVersion: "v1",
    config: loadConfig({ id: "t", version: "t" }),
    logger: new Logger("error", "json", () => undefined),
    authentication: "off",
    authorization: "off",
    shutdownGracePeriod: 1,
    requestTimeoutMs: 30000,
    workers: 1,
    networkBuiltins: false,
    ...over,
  };
}

export async function startPortcullis(paths: string[], opts: { workers?: number; timeoutMs?: number; sets?: string[]; authz?: boolean; token?: boolean; watch?: boolean; log?: (s: string) => void; logLevel?: "debug" | "info" | "error" } = {}): Promise<Started> {
  const server = await startServer(
    testServerOptions(paths, {
      watch: opts.watch ?? false,
      config: loadConfig({ sets: opts.sets ?? [], id: "test-id", version: "test" }),
      logger: new Logger(opts.logLevel ?? (opts.log ? "info" : "error"), "json", opts.log ?? (() => undefined)),
      authentication: opts.token ? "token" : "off",
      authorization: opts.authz ? "basic" : "off",
      requestTimeoutMs: opts.timeoutMs ?? 30000,
      workers: opts.workers ?? 1,
    }),
  );
  return { base: `http://${server.addresses[0]}`, stop: () => server.close(), server };
}

export async function startOPA(paths: string[], extra: string[] = []): Promise<Started> {
  const port = await freePort();
  const child: ChildProcess = spawn(OPA, ["run", "--server", "--addr", `127.0.0.1:${port}`, "--log-level", "error", ...extra, ...paths], { stdio: ["ignore", "ignore", "pipe"] });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(`${base}/health`);
      if (r.status === 200 || r.status === 500) break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    base,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export async function send(base: string, r: DiffRequest): Promise<Answer> {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let body: string | Uint8Array | undefined = r.body;
  if (r.gzip && body !== undefined) {
    body = new Uint8Array(gzipSync(body));
    headers["Content-Encoding"] = "gzip";
  }
  const res = await fetch(base + r.path, { method: r.method, headers, body: body as string | undefined });
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", body: await res.text() };
}

/** What must be equal between OPA and Portcullis. */
export interface Normal {
  status: number;
  body: unknown;
}

/** Prometheus metric families that both servers must expose. */
const REQUIRED_METRICS = ["http_request_duration_seconds"];

export function normalize(a: Answer, fixtureDir: string, path: string): Normal {
  const p = path.split("?")[0];
  if (p === "/metrics" && a.status === 200) {
    return { status: a.status, body: { metrics_present: REQUIRED_METRICS.filter((m) => a.body.includes(`# TYPE ${m} `)) } };
  }
  if (p === "/" && a.contentType.startsWith("text/html")) return { status: a.status, body: "<index page>" };
  const text = a.body.split(fixtureDir).join("<fixtures>").split(fixtureDir.replace(/^\/+/, "")).join("<fixtures>");
  if (!a.contentType.includes("json")) return { status: a.status, body: text };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { status: a.status, body: text };
  }
  // GET /v1/policies lists in the store's order (Go map order in OPA): compare sorted by id.
  if (p === "/v1/policies" && v !== null && typeof v === "object" && Array.isArray((v as { result?: unknown }).result)) {
    (v as { result: { id: string }[] }).result.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
  return { status: a.status, body: scrub(v, p) };
}

function scrub(v: unknown, path: string): unknown {
  if (Array.isArray(v)) return v.map((x) => scrub(x, path));
  if (v === null || typeof v !== "object") return v;
  const o = { ...(v as Record<string, unknown>) };
  if ("metrics" in o) o.metrics = "<metrics>";
  if ("decision_id" in o) o.decision_id = "<id>";
  if (typeof o.provenance === "object" && o.provenance !== null) o.provenance = { ...(o.provenance as object), version: "<version>", build_commit: "<vcs>", build_timestamp: "<ts>", build_hostname: "<host>" };
  if (path.startsWith("/v1/policies") && "ast" in o) o.ast = "<ast>";
  // data.system.version names the server's own version
  if (path.startsWith("/v1/data/system") && typeof o.result === "object" && o.result !== null && "version" in (o.result as object)) {
    const r = { ...(o.result as Record<string, unknown>) };
    if (typeof r.version === "object" && r.version !== null) r.version = { ...(r.version as object), version: "<version>" };
    o.result = r;
  }
  if (path === "/v1/config" && typeof o.result === "object" && o.result !== null) {
    const r = { ...(o.result as Record<string, unknown>) };
    if (typeof r.labels === "object" && r.labels !== null) r.labels = { ...(r.labels as object), id: "<id>", version: "<version>" };
    o.result = r;
  }
  for (const k of Object.keys(o)) if (k !== "provenance" && k !== "metrics") o[k] = scrub(o[k], path);
  // OPA lists conflicts found in its rule tree in Go's map order, different from run to run.
  if (typeof o.message === "string" && /^\d+ errors occurred:\n/.test(o.message)) {
    const [head, ...lines] = o.message.split("\n");
    o.message = [head, ...lines.sort()].join("\n");
  }
  // OPA lists some compile errors (unsafe variables) in a different order from run to run.
  if (Array.isArray(o.errors)) o.errors = [...o.errors].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  return o;
}

/** Normalized answers to a request sequence. */
export async function run(base: string, reqs: DiffRequest[], fixtureDir: string): Promise<Normal[]> {
  const out: Normal[] = [];
  for (const r of reqs) out.push(normalize(await send(base, r), fixtureDir, r.path));
  return out;
}

/** A recorded differential: OPA's normalized answers to a request sequence, kept in the repository. */
export interface Recording {
  opa: string;
  requests: { method: string; path: string }[];
  answers: Normal[];
}

function describeDiff(reqs: DiffRequest[], i: number, want: Normal, got: Normal): string {
  const r = reqs[i];
  return `#${i} ${r.method} ${r.path}${r.body !== undefined ? ` body=${r.body.slice(0, 80)}` : ""}\n  opa:        ${JSON.stringify(want)}\n  portcullis: ${JSON.stringify(got)}`;
}

/** Indices whose answers differ (as descriptions). */
export function differences(reqs: DiffRequest[], want: Normal[], got: Normal[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < reqs.length; i++) {
    if (JSON.stringify(want[i]) !== JSON.stringify(got[i])) out.push(describeDiff(reqs, i, want[i], got[i]));
  }
  return out;
}

/**
 * Run a sequence against a live OPA (when installed) and return its answers; with
 * PORTCULLIS_RECORD=1 they are written to `file` first.
 */
export async function liveOPA(file: string, paths: string[], reqs: DiffRequest[], fixtureDir: string, opaArgs: string[] = []): Promise<{ live: Normal[]; recorded: Recording }> {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const opa = await startOPA(paths, opaArgs);
  let live: Normal[];
  try {
    live = await run(opa.base, reqs, fixtureDir);
  } finally {
    await opa.stop();
  }
  if (process.env.PORTCULLIS_RECORD === "1") {
    const rec: Recording = { opa: "1.19.0", requests: reqs.map((r) => ({ method: r.method, path: r.path.split(fixtureDir).join("<fixtures>") })), answers: live };
    writeFileSync(file, JSON.stringify(rec, null, 1) + "\n");
  }
  return { live, recorded: JSON.parse(readFileSync(file, "utf8")) as Recording };
}
