// The Gatekeeper-compatible validating webhook process (`portcullis controller
// --operation=webhook`): HTTPS on --port with /v1/admit, /v1/admitlabel and /v1/mutate (Gatekeeper
// mutation: src/gatekeeper/mutation/webhook.ts), /healthz and /readyz
// on --health-addr, Prometheus /metrics on --metrics-addr.
//
// - Policy comes from a PolicySource (state.ts). Each delivery goes to every worker of the
//   admission pool, which builds a new snapshot and swaps it in; requests already running finish
//   on the old one. The webhook port opens only after the source's initial sync, and /readyz
//   answers 200 from then on (before it, the API server's failurePolicy applies).
// - Evaluation never runs on the event loop: a WorkerPool of --max-serving-threads workers
//   (0: on the main thread, for embedding and tests).
// - Every request has a deadline: the API server's `?timeout=` (default 10s, the webhook
//   default) less a margin. Past it the answer is HTTP 500 with the eval_cancel_error text, so
//   the API server applies the webhook's failurePolicy, as it does when Gatekeeper's evaluation
//   is cancelled; no decision is ever made by a timed-out evaluation.
// - Bodies are limited to controller-runtime's 7 MB; a non-JSON content type is its 400.
// - Certificates: tls.crt/tls.key in --cert-dir, re-read when the files change (new connections
//   get the new certificate).
// - stop(): stop accepting, wait for the requests in flight (up to the drain timeout), close.

import https from "node:https";
import http from "node:http";
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import { WorkerPool, type CancelToken } from "../workerpool.ts";
import { workerModule } from "../pool.ts";
import { Metrics, type LabelledCounterSeries, type LabelledHistogramSeries } from "../metrics.ts";
import type { Logger } from "../log.ts";
import { splitHostPort } from "../server.ts";
import { parseDuration } from "../../gotext/duration.ts";
import { MAX_REQUEST_BYTES, badRequest, type WebhookOptions } from "../../gatekeeper/webhook.ts";
import { emptyObjects, type GatekeeperObjects, type PolicySource } from "../../gatekeeper/state.ts";
import type { SnapshotReport } from "../../gatekeeper/snapshot.ts";
import { AdmissionHandler, type AdmissionReply, type AdmissionRequest, type HandlerConfig, type PolicyUpdate, type ReportEvent } from "./handler.ts";

/** Gatekeeper's buckets for gatekeeper_validation_request_duration_seconds. */
export const VALIDATION_BUCKETS = [
  0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5,
  5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10,
];
/** Gatekeeper's buckets for gatekeeper_constraint_template_ingestion_duration_seconds. */
export const INGESTION_BUCKETS = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.2, 0.3, 0.4, 0.5, 1, 2, 3, 4, 5];
/** Gatekeeper's buckets for gatekeeper_mutator_ingestion_duration_seconds. */
export const MUTATOR_INGESTION_BUCKETS = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.007, 0.008, 0.009, 0.01, 0.02, 0.03, 0.04, 0.05];
/** Buckets of the opt-in per-constraint evaluation histogram. */
export const CONSTRAINT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** The API server's webhook timeout when the URL carries none (admissionregistration/v1 default). */
export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Reviews go to the first worker with fewer than this many in flight (one running, one waiting),
 * and spill to the next worker only beyond: measured on 2 CPUs, the gatekeeper-library's reviews
 * cost 1.7 ms of CPU on one warm worker against 2.1 ms spread over two, and p99 at 500 req/s fell
 * from 66 to 7 ms (docs/gatekeeper-webhook.md, "Packed dispatch").
 */
export const DEFAULT_PACK_BELOW = 2;
/** The longest timeout the API server allows a webhook (30 s). */
export const MAX_TIMEOUT_MS = 30_000;

/** Time kept back from the API server's timeout so the answer arrives before it gives up. */
export function deadlineMargin(timeoutMs: number): number {
  return Math.min(250, Math.max(20, timeoutMs / 10));
}

export interface WebhookServerOptions {
  /** Webhook address (HTTPS), host:port; port 0 picks one. */
  addr: string;
  /** Directory with tls.crt and tls.key (re-read when they change), or the PEMs themselves (--self-signed). */
  certDir: string | { cert: string; key: string };
  /** /metrics address (HTTP), or null for none. */
  metricsAddr: string | null;
  /** /healthz and /readyz address (HTTP), or null for none (they are also on the webhook port). */
  healthAddr: string | null;
  /** Worker threads (default: CPU count; 0: evaluate on the main thread). */
  threads?: number;
  /** Packed dispatch (workerpool.ts PoolSpec.packBelow); default DEFAULT_PACK_BELOW. */
  packBelow?: number;
  source: PolicySource;
  webhook: WebhookOptions;
  /** Which endpoints to serve: validation (/v1/admit, /v1/admitlabel), mutation (/v1/mutate). Default both. */
  endpoints?: { validation: boolean; mutation: boolean };
  metricsPerConstraint?: boolean;
  logger: Logger;
  /** Provider URLs may use http:// (tests only). */
  allowHTTPProviders?: boolean;
  /** Run templates' K8sNativeValidation (CEL) code when they have some (default true). */
  k8sNativeValidation?: boolean;
  /** Longest wait for requests in flight on stop() (default 30 s). */
  drainTimeoutMs?: number;
  /** Wall-clock budget (ms) of each new worker's warm-up while idle (gatekeeper/warmup.ts; default WARMUP_BUDGET_MS, 0: none). */
  warmupMs?: number;
  /** More endpoints on the metrics address (the audit's /v1/audit): path → handler. */
  routes?: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>;
  /** More metric families appended to /metrics (the audit's). */
  extraMetrics?: () => string;
}

export interface RunningWebhook {
  port: number;
  metricsPort: number | null;
  healthPort: number | null;
  metrics: Metrics;
  /** The latest snapshot report (status of templates, constraints, providers, Config). */
  report(): SnapshotReport | null;
  /** Requests being answered. */
  inFlight(): number;
  /** Stop accepting, drain in-flight requests, stop the source and the workers. */
  stop(): Promise<void>;
}

const JSON_HEADERS = { "Content-Type": "application/json" };
/** Paths whose query is read without URL's parser when it is only a plain `timeout=…`. */
const KNOWN_PATHS = new Set(["/v1/admit", "/v1/admitlabel", "/v1/mutate", "/healthz", "/readyz"]);
const PLAIN_TIMEOUT = /^timeout=([0-9A-Za-z.]+)$/;

/**
 * A request's path and `timeout` parameter, as URL's parser reads them: the API server's plain
 * `/v1/admit?timeout=3s` without building a URL, anything else through the parser.
 */
export function requestTarget(raw: string): { path: string; timeout: string | null } {
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  if (KNOWN_PATHS.has(path)) {
    if (q < 0) return { path, timeout: null };
    const m = PLAIN_TIMEOUT.exec(raw.slice(q + 1));
    if (m) return { path, timeout: m[1] };
  }
  const url = new URL(raw, "https://localhost");
  return { path: url.pathname, timeout: url.searchParams.get("timeout") };
}

export async function startWebhookServer(o: WebhookServerOptions): Promise<RunningWebhook> {
  const log = o.logger;
  const threads = o.threads ?? availableParallelism();
  const config: HandlerConfig = { webhook: o.webhook, allowHTTPProviders: o.allowHTTPProviders === true, k8sNativeValidation: o.k8sNativeValidation !== false, ...(o.warmupMs !== undefined ? { warmupMs: o.warmupMs } : {}) };

  // ---- TLS (first: a missing certificate is a usage error, before anything starts)
  const certDir = typeof o.certDir === "string" ? o.certDir : null;
  const inMemory = typeof o.certDir === "string" ? null : o.certDir;
  const readTLS = () => (certDir ? { cert: readFileSync(join(certDir, "tls.crt")), key: readFileSync(join(certDir, "tls.key")) } : { cert: Buffer.from(inMemory!.cert), key: Buffer.from(inMemory!.key) });
  let tls: { cert: Buffer; key: Buffer };
  try {
    tls = readTLS();
  } catch (e) {
    throw new Error(`--cert-dir ${certDir}: cannot read tls.crt and tls.key: ${(e as Error).message}`);
  }

  // ---- metrics
  const metrics = new Metrics(false);
  const requests = metrics.counter("gatekeeper_validation_request_count_total", "The number of requests that are routed to validation webhook");
  const durations = metrics.histogram("gatekeeper_validation_request_duration_seconds", "The response time in seconds", VALIDATION_BUCKETS);
  const ingestCount = metrics.counter("gatekeeper_constraint_template_ingestion_count_total", "Total number of constraint template ingestion actions");
  const ingestSeconds = metrics.histogram("gatekeeper_constraint_template_ingestion_duration_seconds", "Distribution of how long it took to ingest a constraint template in seconds", INGESTION_BUCKETS);
  const mutationRequests = metrics.counter("gatekeeper_mutation_request_count_total", "The number of requests that are routed to mutation webhook");
  const mutationDurations = metrics.histogram("gatekeeper_mutation_request_duration_seconds", "The response time in seconds", VALIDATION_BUCKETS);
  const mutatorIngestCount = metrics.counter("gatekeeper_mutator_ingestion_count_total", "Total number of Mutator ingestion actions");
  const mutatorIngestSeconds = metrics.histogram("gatekeeper_mutator_ingestion_duration_seconds", "The distribution of Mutator ingestion durations", MUTATOR_INGESTION_BUCKETS);
  const providerErrors = metrics.counter("gatekeeper_provider_error_count_total", "Total number of provider errors");
  const perSeconds = o.metricsPerConstraint ? metrics.histogram("portcullis_gatekeeper_constraint_evaluation_seconds", "Time spent evaluating one constraint in one admission review (opt-in: --metrics-per-constraint)", CONSTRAINT_BUCKETS) : null;
  const perViolations = o.metricsPerConstraint ? metrics.counter("portcullis_gatekeeper_constraint_violations_total", "Violations found by each constraint in admission reviews (opt-in: --metrics-per-constraint)") : null;
  let report: SnapshotReport | null = null;
  const statusCounts = <T extends { errors: unknown[] }>(xs: T[]): [Record<string, string>, number][] => [
    [{ status: "active" }, xs.filter((x) => x.errors.length === 0).length],
    [{ status: "error" }, xs.filter((x) => x.errors.length > 0).length],
  ];
  metrics.gaugeSet("gatekeeper_constraint_templates", "Number of observed constraint templates", () => statusCounts(report?.templates ?? []));
  metrics.gaugeSet("gatekeeper_providers", "Number of external data providers", () => statusCounts(report?.providers ?? []));
  metrics.gaugeSet("gatekeeper_mutators", "The current number of Mutator objects", () => statusCounts(report?.mutators ?? []));
  metrics.gaugeSet("gatekeeper_mutator_conflicting_count", "The current number of conflicting Mutator objects", () => [
    [{}, (report?.mutators ?? []).filter((m) => m.errors.some((e) => e.code === "schema_conflict")).length],
  ]);
  metrics.gaugeSet("gatekeeper_constraints", "Current number of known constraints", () => {
    const out: [Record<string, string>, number][] = [];
    for (const action of ["deny", "dryrun", "warn", "scoped"]) {
      for (const status of ["active", "error"]) {
        const n = (report?.constraints ?? []).filter((c) => c.enforcementAction.toLowerCase() === action && (c.errors.length === 0) === (status === "active")).length;
        out.push([{ enforcement_action: action, status }, n]);
      }
    }
    return out;
  });

  // ---- policy: versions delivered by the source, reports from the workers
  let version = 0;
  let lastTemplates = new Map<string, string>();
  const changedTemplates = new Map<number, Set<string>>();
  let lastMutators = new Map<string, string>();
  const changedMutators = new Map<number, Set<string>>();
  let lastConflicts = new Map<string, boolean>();
  // Every worker reports each version it built; the webhook is ready once all of them hold the
  // initial sync's snapshot.
  const reportsOf = new Map<number, number>();
  let readyVersion = -1;
  const gate: { open: (() => void) | null } = { open: null };
  const onReport = (e: ReportEvent) => {
    const n = (reportsOf.get(e.version) ?? 0) + 1;
    reportsOf.set(e.version, n);
    for (const v of [...reportsOf.keys()]) if (v < e.version - 16) reportsOf.delete(v);
    if (readyVersion >= 0 && e.version >= readyVersion && n >= Math.max(1, threads) && gate.open) {
      gate.open();
      gate.open = null;
    }
    if (report && e.version <= reportVersion) return; // take the first report of each version
    reportVersion = e.version;
    report = e.report;
    const changed = changedTemplates.get(e.version);
    for (const v of [...changedTemplates.keys()]) if (v <= e.version) changedTemplates.delete(v);
    for (const t of e.report.templates) {
      if (changed && !changed.has(t.name)) continue;
      const status = t.errors.length === 0 ? "active" : "error";
      ingestCount.inc({ status });
      ingestSeconds.observe({ status }, t.seconds);
    }
    const changedM = changedMutators.get(e.version);
    for (const v of [...changedMutators.keys()]) if (v <= e.version) changedMutators.delete(v);
    // Gatekeeper re-ingests a changed mutator and every mutator whose conflicts changed with it;
    // a mutator in conflict is ingested with status error.
    const conflictNow = new Map(e.report.mutators.map((m) => [`${m.kind}/${m.name}`, m.errors.some((x) => x.code === "schema_conflict")]));
    for (const m of e.report.mutators) {
      const key = `${m.kind}/${m.name}`;
      const conflictChanged = lastConflicts.has(key) && lastConflicts.get(key) !== conflictNow.get(key);
      if (changedM && !changedM.has(key) && !conflictChanged) continue;
      const status = m.errors.length > 0 ? "error" : "active";
      mutatorIngestCount.inc({ status });
      mutatorIngestSeconds.observe({ status }, m.seconds);
    }
    lastConflicts = conflictNow;
    for (const x of [...e.report.templates, ...e.report.constraints, ...e.report.providers, ...e.report.mutators, ...(e.report.config ? [e.report.config] : [])]) {
      if (x.errors.length) log.error("Gatekeeper object not loaded.", { kind: x.kind, name: x.name, errors: x.errors, policy_version: e.version });
    }
    if (e.version > 0) log.info("Policy snapshot loaded.", { policy_version: e.version, templates: e.report.templates.length, constraints: e.report.constraints.length, providers: e.report.providers.length, mutators: e.report.mutators.length });
  };
  let reportVersion = -1;
  const initial: PolicyUpdate = { version: 0, objects: emptyObjects() };
  let current = initial;
  const pool = await WorkerPool.start<AdmissionRequest, AdmissionReply, PolicyUpdate>(threads, {
    file: workerModule("./worker.mjs", "server/admission-worker.js", import.meta.url),
    workerData: () => ({ config, initial: current }),
    failed: (message) => ({ internal: true, metric: null, error: `admission ${message}`, version: -1, providerErrors: 0 }),
    local: () => {
      const h = new AdmissionHandler(config, current, (e) => onReport(e));
      return { update: (u) => h.update(u), run: (req, flag) => h.run(req, flag) };
    },
    onEvent: (e) => onReport(e as ReportEvent),
    packBelow: o.packBelow ?? DEFAULT_PACK_BELOW,
  });
  const deliver = (objs: GatekeeperObjects) => {
    version++;
    const names = new Map(objs.templates.map((t) => [String(t.metadata?.name ?? ""), JSON.stringify(t)]));
    changedTemplates.set(version, new Set([...names].filter(([n, j]) => lastTemplates.get(n) !== j).map(([n]) => n)));
    lastTemplates = names;
    const mnames = new Map((objs.mutators ?? []).map((m) => [`${String(m.kind ?? "")}/${String(m.metadata?.name ?? "")}`, JSON.stringify(m)]));
    changedMutators.set(version, new Set([...mnames].filter(([n, j]) => lastMutators.get(n) !== j).map(([n]) => n)));
    lastMutators = mnames;
    current = { version, objects: objs };
    pool.update(current);
  };

  // ---- requests
  let ready = false;
  let stopping = false;
  let inFlight = 0;
  let drained: (() => void) | null = null;

  const health = (path: string, res: http.ServerResponse): boolean => {
    if (path === "/healthz") {
      res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
      return true;
    }
    if (path === "/readyz") {
      if (ready && !stopping) res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" }).end("ok");
      else res.writeHead(500, { "Content-Type": "text/plain; charset=utf-8" }).end(stopping ? "shutting down" : "initial policy sync not finished");
      return true;
    }
    return false;
  };

  function finish(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = JSON_HEADERS): void {
    if (!res.headersSent && !res.destroyed) res.writeHead(status, headers).end(body);
  }

  // Request counts and durations of the admission endpoints: the series are bound once.
  const requestSeries = new Map<string, { count: LabelledCounterSeries; duration: LabelledHistogramSeries }>();
  const countAdmission = (dryRun: boolean, status: string, seconds: number) => {
    const key = `${dryRun}/${status}`;
    let s = requestSeries.get(key);
    if (!s) requestSeries.set(key, (s = { count: requests.series({ admission_dryrun: String(dryRun), admission_status: status }), duration: durations.bound({ admission_status: status }) }));
    s.count.inc();
    s.duration.observe(seconds);
  };

  /**
   * One admission request: the body read with a deadline and a size limit, the review run on a
   * worker, the worker's answer (already JSON text) written back. Calls `done` once, when the
   * request is answered or abandoned.
   */
  function admission(req: http.IncomingMessage, res: http.ServerResponse, path: string, timeoutParam: string | null, kind: "admit" | "label" | "mutate", done: () => void): void {
    const t0 = performance.now();
    let timeoutMs = DEFAULT_TIMEOUT_MS;
    if (timeoutParam !== null) {
      try {
        timeoutMs = Math.min(MAX_TIMEOUT_MS, Math.max(1, parseDuration(timeoutParam)));
      } catch {
        log.warn("Ignoring an invalid timeout parameter.", { timeout: timeoutParam });
      }
    }
    const deadline = Date.now() + timeoutMs - deadlineMargin(timeoutMs);
    if (req.method !== "POST") {
      finish(res, 405, JSON.stringify(badRequest(`method ${req.method} not allowed; use POST`, 405).review), { ...JSON_HEADERS, Allow: "POST" });
      return done();
    }
    const ct = (req.headers["content-type"] ?? "").split(";")[0].trim();
    if (ct !== "application/json") {
      req.resume();
      finish(res, 200, JSON.stringify(badRequest(`contentType=${req.headers["content-type"] ?? ""}, expected application/json`).review));
      return done();
    }
    const tooLarge = () => {
      // controller-runtime's answer; then the connection is closed.
      res.once("finish", () => req.destroy());
      finish(res, 200, JSON.stringify(badRequest(`request entity is too large; limit is ${MAX_REQUEST_BYTES} bytes`, 413).review), { ...JSON_HEADERS, Connection: "close" });
      done();
    };
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > MAX_REQUEST_BYTES) return tooLarge(); // without reading the body
    // One timer for the request: at the deadline it ends a body still arriving, or gives up
    // waiting for the worker 20 ms later (the answer is due whatever the worker does).
    let phase: "body" | "eval" | "done" = "body";
    let giveUp: (() => void) | null = null;
    let timer = setTimeout(
      () => {
        if (phase === "body") {
          phase = "done";
          req.destroy();
          done();
        } else if (phase === "eval") timer = setTimeout(() => giveUp?.(), 20);
      },
      Math.max(0, deadline - Date.now()),
    );
    let first: Buffer | null = null;
    let chunks: Buffer[] | null = null;
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        phase = "done";
        clearTimeout(timer);
        req.off("data", onData);
        req.pause();
        return tooLarge();
      }
      if (first === null) first = c;
      else (chunks ??= [first]).push(c);
    };
    req.on("data", onData);
    // the client went away before the body arrived: nothing to answer
    const gone = () => {
      if (phase !== "body") return;
      phase = "done";
      clearTimeout(timer);
      done();
    };
    req.once("error", gone);
    req.once("close", gone);
    req.once("end", () => {
      if (phase !== "body") return;
      phase = "eval";
      if (size === 0) {
        phase = "done";
        clearTimeout(timer);
        finish(res, 200, JSON.stringify(badRequest("request body is empty").review));
        return done();
      }
      const body = chunks ? Buffer.concat(chunks, size).toString("utf8") : first!.toString("utf8");
      const cancel: CancelToken = { cancelled: false, hooks: [] };
      res.once("close", () => {
        if (!res.writableFinished && !cancel.cancelled) {
          cancel.cancelled = true;
          for (const h of cancel.hooks) h();
        }
      });
      const settle = (r: AdmissionReply | null) => {
        if (phase !== "eval") return;
        phase = "done";
        clearTimeout(timer);
        try {
          reply(res, path, kind, timeoutMs, r, (performance.now() - t0) / 1000);
        } catch (e) {
          log.error("Admission request failed.", { err: e instanceof Error ? e.message : String(e) });
          finish(res, 500, "internal error\n", { "Content-Type": "text/plain; charset=utf-8" });
        }
        done();
      };
      giveUp = () => settle(null);
      pool.run({ path: kind, body, deadline, perConstraint: o.metricsPerConstraint === true }, deadline, cancel).then(settle, (e: unknown) => {
        if (phase !== "eval") return;
        phase = "done";
        clearTimeout(timer);
        log.error("Admission request failed.", { err: e instanceof Error ? e.message : String(e) });
        finish(res, 500, "internal error\n", { "Content-Type": "text/plain; charset=utf-8" });
        done();
      });
    });
  }

  /** Write the answer of a review (null: none before the deadline) and count it. */
  function reply(res: http.ServerResponse, path: string, kind: "admit" | "label" | "mutate", timeoutMs: number, reply: AdmissionReply | null, seconds: number): void {
    if (reply === null || reply.deadline) {
      const msg = `eval_cancel_error: caller cancelled query execution: the review did not finish within the request's deadline (${timeoutMs} ms timeout less a ${deadlineMargin(timeoutMs)} ms margin)`;
      log.error("Admission review past its deadline; the webhook's failurePolicy applies.", { path, err: reply?.error ?? msg, duration_seconds: seconds });
      if (kind === "mutate") {
        mutationRequests.inc({ mutation_status: "success" });
        mutationDurations.observe({ mutation_status: "success" }, seconds);
      } else countAdmission(false, "error", seconds);
      return finish(res, 500, msg + "\n", { "Content-Type": "text/plain; charset=utf-8" });
    }
    if (reply.providerErrors > 0) providerErrors.inc({}, reply.providerErrors);
    if (reply.internal || reply.body === undefined) {
      log.error("Admission review failed.", { path, err: reply.error ?? "no answer" });
      return finish(res, 500, `internal error: ${reply.error ?? "no answer"}\n`, { "Content-Type": "text/plain; charset=utf-8" });
    }
    if (reply.mutationMetric) {
      mutationRequests.inc({ mutation_status: reply.mutationMetric.status });
      mutationDurations.observe({ mutation_status: reply.mutationMetric.status }, seconds);
    }
    if (reply.metric) countAdmission(reply.metric.dryRun, reply.metric.status, seconds);
    if (reply.constraints && perSeconds && perViolations) {
      for (const c of reply.constraints) {
        perSeconds.observe({ constraint_kind: c.kind, constraint: c.name }, c.seconds);
        if (c.violations > 0) perViolations.inc({ constraint_kind: c.kind, constraint: c.name }, c.violations);
      }
    }
    if (reply.error) log.info("Admission request refused or failed.", { path, err: reply.error });
    if (log.enabled("debug")) log.debug("Admission review answered.", { path, duration_seconds: seconds, policy_version: reply.version });
    finish(res, 200, reply.body);
  }

  const validation = o.endpoints?.validation ?? true;
  const mutation = o.endpoints?.mutation ?? true;
  const settled = () => {
    inFlight--;
    if (inFlight === 0 && drained) drained();
  };
  const webhookHandler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const { path, timeout } = requestTarget(req.url ?? "/");
    if (health(path, res)) return;
    const kind = validation && path === "/v1/admit" ? "admit" : validation && path === "/v1/admitlabel" ? "label" : mutation && path === "/v1/mutate" ? "mutate" : null;
    if (!kind) {
      req.resume();
      return finish(res, 404, "404 page not found\n", { "Content-Type": "text/plain; charset=utf-8" });
    }
    inFlight++;
    let once = false;
    const done = () => {
      if (once) return;
      once = true;
      settled();
    };
    try {
      admission(req, res, path, timeout, kind, done);
    } catch (e) {
      log.error("Admission request failed.", { err: e instanceof Error ? e.message : String(e) });
      finish(res, 500, "internal error\n", { "Content-Type": "text/plain; charset=utf-8" });
      done();
    }
  };

  // ---- listeners
  const listen = (server: http.Server | https.Server, addr: string) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      const { host, port } = splitHostPort(addr);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve((server.address() as { port: number }).port);
      });
    });
  const side = (metricsToo: boolean, healthToo: boolean) =>
    http.createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      if (healthToo && health(path, res)) return;
      if (metricsToo && path === "/metrics") {
        res.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }).end(
          metrics.text() + (o.extraMetrics?.() ?? "") + `# HELP portcullis_admission_workers_replaced_total Admission workers replaced after missing a deadline or dying.\n# TYPE portcullis_admission_workers_replaced_total counter\nportcullis_admission_workers_replaced_total ${pool.replaced}\n# HELP portcullis_admission_pending Admission reviews waiting for or running on a worker.\n# TYPE portcullis_admission_pending gauge\nportcullis_admission_pending ${pool.pending()}\n`,
        );
        return;
      }
      const route = metricsToo ? o.routes?.[path] : undefined;
      if (route) return route(req, res);
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("404 page not found\n");
    });
  const sideServers: http.Server[] = [];
  let metricsPort: number | null = null;
  let healthPort: number | null = null;
  try {
    if (o.metricsAddr !== null && o.healthAddr !== null && o.metricsAddr === o.healthAddr) {
      const s = side(true, true);
      sideServers.push(s);
      metricsPort = healthPort = await listen(s, o.metricsAddr);
    } else {
      if (o.metricsAddr !== null) {
        const s = side(true, false);
        sideServers.push(s);
        metricsPort = await listen(s, o.metricsAddr);
      }
      if (o.healthAddr !== null) {
        const s = side(false, true);
        sideServers.push(s);
        healthPort = await listen(s, o.healthAddr);
      }
    }
  } catch (e) {
    for (const s of sideServers) s.close();
    await pool.close();
    throw e;
  }

  // ---- initial sync (delivered, and built by every worker), then the webhook port
  try {
    const built = new Promise<void>((resolve) => (gate.open = resolve));
    await o.source.start(deliver);
    readyVersion = version;
    if (gate.open && (reportsOf.get(version) ?? 0) >= Math.max(1, threads)) {
      gate.open();
      gate.open = null;
    }
    await built;
  } catch (e) {
    for (const s of sideServers) s.close();
    await pool.close();
    throw e;
  }
  const server = https.createServer({ ...tls, maxHeaderSize: 64 * 1024 }, webhookHandler);
  server.requestTimeout = MAX_TIMEOUT_MS + 5000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 30_000;
  let port: number;
  try {
    port = await listen(server, o.addr);
  } catch (e) {
    await o.source.stop();
    for (const s of sideServers) s.close();
    await pool.close();
    throw e;
  }
  ready = true;
  log.info("Webhook serving.", { addr: o.addr, port, threads, metrics_port: metricsPort, health_port: healthPort });

  let certTimer: ReturnType<typeof setTimeout> | null = null;
  const reloadCert = () => {
    if (certTimer) clearTimeout(certTimer);
    certTimer = setTimeout(() => {
      certTimer = null;
      try {
        const t = readTLS();
        server.setSecureContext({ ...t });
        log.info("TLS certificate reloaded.", { cert_dir: certDir });
      } catch (e) {
        log.error("Failed to reload the TLS certificate; serving the previous one.", { err: (e as Error).message });
      }
    }, 100);
  };
  // Watch the directory: cert-manager and kubelet replace files by renaming (..data symlinks).
  let certWatch: FSWatcher | null = certDir ? watch(certDir, () => reloadCert()) : null;
  certWatch?.on("error", (e) => log.error("Certificate directory watch failed.", { err: e.message }));

  let stopped: Promise<void> | null = null;
  return {
    port,
    metricsPort,
    healthPort,
    metrics,
    report: () => report,
    inFlight: () => inFlight,
    stop() {
      if (stopped) return stopped;
      stopping = true;
      stopped = (async () => {
        certWatch?.close();
        certWatch = null;
        if (certTimer) clearTimeout(certTimer);
        const closed = new Promise<void>((r) => server.close(() => r()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await new Promise<void>((resolve) => {
            drained = resolve;
            setTimeout(resolve, o.drainTimeoutMs ?? 30_000).unref();
          });
        }
        server.closeAllConnections();
        await closed;
        await o.source.stop();
        for (const s of sideServers) {
          s.closeAllConnections();
          await new Promise<void>((r) => s.close(() => r()));
        }
        await pool.close();
        log.info("Webhook stopped.", {});
      })();
      return stopped;
    },
  };
}
