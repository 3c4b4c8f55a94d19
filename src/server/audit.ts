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
import { WorkerPool } from "./workerpool.ts";
import { workerModule } from "./pool.ts";
import { reviewItems, type AuditEvaluator, type AuditItem, type AuditOutcome } from "../gatekeeper/audit/audit.ts";
import { auditSnapshot } from "../gatekeeper/audit/policy.ts";
import type { Obj } from "../gatekeeper/yaml.ts";
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

// ---- the audit's worker pool ----------------------------------------------------------------

/** The policy of one audit run, sent to every audit worker when the run starts. */
export interface AuditPoolState {
  run: number;
  /** The Gatekeeper objects, when they changed since the last run (null: keep the compiled ones). */
  objects: GatekeeperObjects | null;
  /** data.inventory as it was when the run started (a copy: the workers never see later changes). */
  inventory: Obj;
  /** Run templates' K8sNativeValidation (CEL) code when they have some (--enable-k8s-native-validation). */
  k8sNativeValidation: boolean;
}

export interface AuditPoolRequest {
  run: number;
  items: AuditItem[];
  timeoutMs: number;
}

export type AuditPoolReply = { outcomes: AuditOutcome[] } | { error: string };

/**
 * Audit workers: each audit run sends its policy once (`prepare`), then pages of objects are
 * reviewed in batches on the workers (runAudit's `evaluator`). A worker that dies or misses its
 * deadline is replaced; its batches come back as review errors of the report.
 */
export class AuditPool {
  private run = 0;
  private sentObjects: GatekeeperObjects | null = null;
  /** What a replacement worker starts from: the current run's state, objects included. */
  private current: AuditPoolState;
  private inflight = 0;
  /** Objects sent to the workers (all runs). */
  objectsSent = 0;

  private constructor(
    private readonly pool: WorkerPool<AuditPoolRequest, AuditPoolReply, AuditPoolState>,
    private readonly k8sNativeValidation: boolean,
  ) {
    this.current = { run: 0, objects: null, inventory: {}, k8sNativeValidation };
  }

  get size(): number {
    return this.pool.size;
  }

  get replaced(): number {
    return this.pool.replaced;
  }

  /** Start `size` workers (0: review on the calling thread, through the same messages). */
  static async start(size: number, opts: { k8sNativeValidation?: boolean } = {}): Promise<AuditPool> {
    const k8sNativeValidation = opts.k8sNativeValidation !== false;
    let self: AuditPool | null = null;
    const pool = await WorkerPool.start<AuditPoolRequest, AuditPoolReply, AuditPoolState>(size, {
      file: workerModule("./audit-worker.mjs", "server/audit-worker.js", import.meta.url),
      workerData: () => ({ state: self ? self.current : { run: 0, objects: null, inventory: {}, k8sNativeValidation } }),
      failed: (message) => ({ error: `audit worker: ${message}` }),
      local: () => {
        let client: import("../gatekeeper/client.ts").Client | null = null;
        let run = 0;
        return {
          update: (u) => {
            if (u.objects) client = auditSnapshot(structuredClone(u.objects), { k8sNativeValidation: u.k8sNativeValidation }).client;
            client?.setInventoryDoc(structuredClone(u.inventory));
            run = u.run;
          },
          run: async (req, flag) => {
            if (!client || req.run !== run) return { error: "the audit worker holds another run" };
            return { outcomes: await reviewItems(client, req.items, req.timeoutMs, flag) };
          },
        };
      },
    });
    self = new AuditPool(pool, k8sNativeValidation);
    return self;
  }

  /**
   * The evaluator of one audit run on `objects` with this data.inventory. The inventory is
   * copied (structured clone) into every worker now: with --audit-from-cache, a snapshot of the
   * cache at the start of the run.
   */
  prepare(objects: GatekeeperObjects, inventory: Obj): AuditEvaluator {
    const run = ++this.run;
    const changed = objects !== this.sentObjects;
    this.sentObjects = objects;
    this.current = { run, objects, inventory, k8sNativeValidation: this.k8sNativeValidation };
    this.pool.update({ run, objects: changed ? objects : null, inventory, k8sNativeValidation: this.k8sNativeValidation });
    return {
      review: async (items, timeoutMs) => {
        // The worker stops each review at its own deadline; the pool replaces a worker silent
        // past the time everything in flight could take one after another.
        this.inflight += items.length;
        this.objectsSent += items.length;
        try {
          const reply = await this.pool.run({ run, items, timeoutMs }, Date.now() + this.inflight * timeoutMs);
          if ("error" in reply) throw new Error(reply.error);
          return reply.outcomes;
        } finally {
          this.inflight -= items.length;
        }
      },
    };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * Default size of the audit's pool: none (the main thread reviews). Each worker compiles the whole
 * policy again and holds a copy of data.inventory: one worker with the gatekeeper-library's 68
 * constraints adds ~110 MiB of peak RSS, past the audit's 300 MiB budget at 20,000 objects
 * (docs/audit.md, "Worker pool"); --audit-workers N trades that memory for throughput.
 */
export const DEFAULT_AUDIT_WORKERS = 0;

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
  /** Audit worker threads (default 0: review on the main thread); each holds its own compiled policy and inventory copy. */
  workers?: number;
  /** Run templates' K8sNativeValidation (CEL) code when they have some (default true). */
  k8sNativeValidation?: boolean;
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
  // The audit's own worker pool; when it cannot start, the audit reviews on the main thread.
  const workers = o.workers ?? DEFAULT_AUDIT_WORKERS;
  let pool: AuditPool | null = null;
  if (workers > 0) {
    try {
      pool = await AuditPool.start(workers, { k8sNativeValidation: o.k8sNativeValidation });
    } catch (e) {
      log.error("Audit workers did not start; auditing on the main thread.", { workers, err: (e as Error).message });
    }
  }
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
    k8sNativeValidation: o.k8sNativeValidation !== false,
    log: (level, msg, fields) => (level === "error" ? log.error(msg, fields) : log.info(msg, fields)),
    isLeader: () => elector.isLeader,
    evaluator: pool ? (objs, inventory) => pool.prepare(objs, inventory) : undefined,
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
  const metricsText = () =>
    manager.metricsText() +
    (sync?.metricsText() ?? "") +
    (pool ? `# HELP portcullis_audit_workers_replaced_total Audit workers replaced after missing a deadline or dying.\n# TYPE portcullis_audit_workers_replaced_total counter\nportcullis_audit_workers_replaced_total ${pool.replaced}\n` : "");
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
    await pool?.close();
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
  log.info("Audit running.", { interval_seconds: o.intervalSeconds, chunk_size: o.chunkSize, lease: o.leaseName, identity, metrics_port: metricsPort, workers: pool?.size ?? 0 });
  return { manager, metricsText, elector, metricsPort, healthPort, routes, stop };
}
