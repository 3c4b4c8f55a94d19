// GET /v1/audit: the complete report of the last audit (docs/audit.md). JSON by default,
// newline-delimited JSON with `Accept: application/x-ndjson`; streamed from the report file
// with backpressure, within a deadline. 503 (Retry-After) until an audit has completed.
import type { IncomingMessage, ServerResponse } from "node:http";
import http from "node:http";
import { hostname } from "node:os";
import { KubeClient } from "../kube/index.ts";
import { AuditManager, streamReport, type LastAudit } from "../gatekeeper/audit/manager.ts";
import { LeaseElector } from "../gatekeeper/audit/lease.ts";
import { InventorySync } from "../gatekeeper/audit/sync.ts";
import { clusterPolicy } from "../gatekeeper/audit/kubelister.ts";
import type { GatekeeperObjects, PolicySource } from "../gatekeeper/state.ts";
import type { Logger } from "./log.ts";
import { splitHostPort } from "./server.ts";

export const AUDIT_PATH = "/v1/audit";
/** Longest time one report download may take (a slow reader is cut off), ms. */
export const AUDIT_STREAM_DEADLINE_MS = 5 * 60_000;

export interface AuditEndpointLog {
  error(msg: string, fields: Record<string, unknown>): void;
}

function wantsNDJSON(req: IncomingMessage): boolean {
  const accept = String(req.headers.accept ?? "");
  return /application\/(x-)?ndjson|application\/jsonl/i.test(accept);
}

function fail(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(code, { "Content-Type": "application/json", ...headers }).end(JSON.stringify({ code, message }) + "\n");
}

/** Answer a request for the last report. */
export async function serveAuditReport(req: IncomingMessage, res: ServerResponse, last: LastAudit | null, log?: AuditEndpointLog, deadlineMs = AUDIT_STREAM_DEADLINE_MS): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") return fail(res, 405, `method ${req.method} not allowed`, { Allow: "GET, HEAD" });
  if (!last) return fail(res, 503, "no audit has completed yet", { "Retry-After": "10" });
  const ndjson = wantsNDJSON(req);
  const headers = {
    "Content-Type": ndjson ? "application/x-ndjson" : "application/json",
    "X-Audit-Id": last.summary.auditId,
    "Cache-Control": "no-store",
  };
  if (req.method === "HEAD") {
    res.writeHead(200, headers).end();
    return;
  }
  const deadline = Date.now() + deadlineMs;
  let started = false;
  try {
    await streamReport(last.reportPath, ndjson ? "ndjson" : "json", async (chunk) => {
      if (res.destroyed) throw new Error("client went away");
      if (Date.now() > deadline) throw new Error(`report download past its ${deadlineMs} ms deadline`);
      if (!started) {
        res.writeHead(200, headers);
        started = true;
      }
      if (!res.write(chunk)) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error(`report download past its ${deadlineMs} ms deadline`)), Math.max(0, deadline - Date.now()));
          const done = () => {
            clearTimeout(t);
            res.off("close", gone);
            resolve();
          };
          const gone = () => {
            clearTimeout(t);
            res.off("drain", done);
            reject(new Error("client went away"));
          };
          res.once("drain", done);
          res.once("close", gone);
        });
      }
    });
    if (!started) res.writeHead(200, headers);
    res.end();
  } catch (e) {
    const msg = (e as Error).message;
    log?.error("Audit report not served.", { path: AUDIT_PATH, err: msg });
    // The report was replaced under us before we opened it: ask again.
    if (!started) fail(res, (e as NodeJS.ErrnoException).code === "ENOENT" ? 503 : 500, (e as NodeJS.ErrnoException).code === "ENOENT" ? "the report is being replaced; retry" : msg, { "Retry-After": "1" });
    else res.destroy();
  }
}

// ---- the controller's audit operation ------------------------------------------------------


export interface AuditProcessOptions {
  /** The cluster to audit (--kubeconfig, else in-cluster / $KUBECONFIG). */
  kubeconfig?: string;
  /** Where the policy comes from; without it, the cluster's ConstraintTemplates and constraints are read at each audit (as Gatekeeper's audit lists them). */
  source?: PolicySource;
  /** The source is already started by the webhook: read its deliveries only (TeeSource). */
  sourceShared?: boolean;
  intervalSeconds: number;
  chunkSize: number;
  violationsLimit: number;
  matchKindOnly: boolean;
  fromCache: boolean;
  reportFile?: string;
  leaseName: string;
  leaseNamespace?: string;
  /** The operations of this process (status.byPod[].operations). */
  operations: string[];
  logger: Logger;
  /** Serve /metrics, /v1/audit, /healthz and /readyz here (audit without the webhook), or null. */
  metricsAddr?: string | null;
  healthAddr?: string | null;
}

/** A PolicySource that remembers the last delivery (the audit reads what the webhook gets). */
export class TeeSource implements PolicySource {
  latest: GatekeeperObjects | null = null;
  constructor(private readonly inner: PolicySource) {}
  start(onChange: (objs: GatekeeperObjects) => void): Promise<void> {
    return this.inner.start((objs) => {
      this.latest = objs;
      onChange(objs);
    });
  }
  stop(): Promise<void> {
    return this.inner.stop();
  }
}

export interface RunningAudit {
  manager: AuditManager;
  /** The audit's metrics (and the sync's, when it syncs). */
  metricsText(): string;
  elector: LeaseElector;
  metricsPort: number | null;
  healthPort: number | null;
  /** /v1/audit for a server of the host's. */
  routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void>;
  stop(): Promise<void>;
}

export async function startAuditProcess(o: AuditProcessOptions): Promise<RunningAudit> {
  const log = o.logger;
  const kube = await KubeClient.connect({ kubeconfig: o.kubeconfig });
  const identity = process.env.POD_NAME || hostname();
  const tee = o.source ? (o.source instanceof TeeSource ? o.source : new TeeSource(o.source)) : null;
  if (tee && !o.sourceShared) await tee.start(() => {});
  // Watched referential data when the audit reads it as its object source (--audit-from-cache).
  const sync = o.fromCache ? new InventorySync(kube, { log: (level, msg, fields) => (level === "error" ? log.error(msg, fields) : log.info(msg, fields)) }) : undefined;
  const manager = new AuditManager({
    kube,
    sync,
    policy: tee ? () => tee.latest : () => clusterPolicy(kube),
    intervalMs: o.intervalSeconds * 1000,
    chunkSize: o.chunkSize,
    violationsLimit: o.violationsLimit,
    matchKindOnly: o.matchKindOnly,
    fromCache: o.fromCache,
    reportFile: o.reportFile,
    podId: identity,
    operations: o.operations,
    log: (level, msg, fields) => (level === "error" ? log.error(msg, fields) : log.info(msg, fields)),
    isLeader: () => elector.isLeader,
  });
  const elector = new LeaseElector(kube, {
    name: o.leaseName,
    namespace: o.leaseNamespace || process.env.POD_NAMESPACE || kube.namespace,
    identity,
    onStartedLeading: () => log.info("Leading the audit.", { lease: o.leaseName, identity }),
    onStoppedLeading: () => log.info("No longer leading the audit.", { lease: o.leaseName, identity }),
    onError: (e) => log.error("Audit leader election failed.", { err: (e as Error).message }),
  });
  elector.start();
  manager.start();
  const metricsText = () => manager.metricsText() + (sync?.metricsText() ?? "");
  const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = { [AUDIT_PATH]: (req: IncomingMessage, res: ServerResponse) => void serveAuditReport(req, res, manager.last, log) };
  const servers: http.Server[] = [];
  const listen = (addr: string, handler: http.RequestListener) =>
    new Promise<number>((resolve, reject) => {
      const s = http.createServer(handler);
      servers.push(s);
      s.requestTimeout = 10 * 60_000;
      s.once("error", reject);
      const { host, port } = splitHostPort(addr);
      s.listen(port, host, () => resolve((s.address() as { port: number }).port));
    });
  const side = (metrics: boolean, health: boolean): http.RequestListener => (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (health && (path === "/healthz" || path === "/readyz")) return void res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
    if (metrics && path === "/metrics") return void res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(metricsText());
    if (metrics && routes[path]) return routes[path](req, res);
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
  };
  let metricsPort: number | null = null;
  let healthPort: number | null = null;
  const stop = async () => {
    await manager.stop();
    await sync?.stop();
    await elector.stop();
    if (tee && !o.sourceShared) await tee.stop();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  };
  try {
    if (o.metricsAddr && o.healthAddr && o.metricsAddr === o.healthAddr) metricsPort = healthPort = await listen(o.metricsAddr, side(true, true));
    else {
      if (o.metricsAddr) metricsPort = await listen(o.metricsAddr, side(true, false));
      if (o.healthAddr) healthPort = await listen(o.healthAddr, side(false, true));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  log.info("Audit running.", { interval_seconds: o.intervalSeconds, chunk_size: o.chunkSize, lease: o.leaseName, identity, metrics_port: metricsPort });
  return { manager, metricsText, elector, metricsPort, healthPort, routes, stop };
}
