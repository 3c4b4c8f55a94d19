// OPA's status plugin (config key `status`): a snapshot of the server's state in OPA's
// UpdateRequestV1 shape — `labels`, `bundles` (per bundle: name, active_revision,
// last_successful_activation, type, size, last_successful_download, last_successful_request,
// last_request, code, message, errors, http_code), `decision_logs` (code, message, http_code of
// the last upload) and `plugins` (each plugin's state) — answered by GET /v1/status, written as a
// console line (`Status Log`, type openpolicyagent.org/status) and uploaded as JSON by
// `POST {service.url}/status[/partition_name]` on each change (a bundle download attempt, a
// plugin state change, a decision log upload). Uploads are serialised: changes arriving during
// an upload are sent once it ends, with the newest snapshot. A failed upload is retried with
// exponential backoff (100 ms doubling, capped at 60 s) until it succeeds or a newer change is
// sent. Each upload has the service's response_header_timeout_seconds as its deadline.
// OPA's `metrics.prometheus` part (Go runtime metrics) has no equivalent and is left out.

import { STATUS_CODES } from "node:http";
import type { ServiceConfig } from "./bundleconfig.ts";
import { BundleConfigError } from "./bundleconfig.ts";
import type { BundlePlugin, BundleStatus } from "./bundleplugin.ts";
import type { DecisionLogger } from "./decisionlog.ts";
import type { Logger } from "./log.ts";

export interface StatusConfig {
  console: boolean;
  service?: ServiceConfig;
  partitionName: string;
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

const KEYS = ["service", "partition_name", "console", "prometheus", "plugin", "trigger"];

/** The `status` section; undefined when absent or when it enables nothing (as OPA: no plugin then). */
export function parseStatusConfig(raw: unknown, services: Map<string, ServiceConfig>): StatusConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) throw new BundleConfigError("status: want an object");
  for (const k of Object.keys(raw)) {
    if (!KEYS.includes(k)) throw new BundleConfigError(`status.${k} is not supported by portcullis run (supported: service, partition_name, console, trigger)`);
  }
  const str = (k: string): string => {
    const v = raw[k];
    if (v === undefined || v === null) return "";
    if (typeof v !== "string") throw new BundleConfigError(`status.${k}: want a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const bool = (k: string): boolean => {
    const v = raw[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== "boolean") throw new BundleConfigError(`status.${k}: want a boolean, got ${JSON.stringify(v)}`);
    return v;
  };
  let serviceName = str("service");
  const partitionName = str("partition_name");
  const consoleOn = bool("console");
  const prometheus = bool("prometheus");
  const plugin = raw.plugin;
  if (plugin === undefined && serviceName === "" && services.size === 0 && !consoleOn && !prometheus) return undefined;
  // Portcullis has no custom plugins, so every plugin name is unknown (OPA's error for one).
  if (plugin !== undefined && plugin !== null) throw new BundleConfigError(`invalid plugin name ${JSON.stringify(String(plugin))} in status`);
  if (prometheus) throw new BundleConfigError("status.prometheus is not supported by portcullis run: OPA's status counters are not exported on /metrics (docs/server.md)");
  if (serviceName === "" && services.size > 0 && !consoleOn) serviceName = [...services.keys()][0];
  else if (serviceName !== "" && !services.has(serviceName)) throw new BundleConfigError(`invalid service name ${JSON.stringify(serviceName)} in status`);
  const trigger = str("trigger");
  if (trigger !== "" && trigger !== "periodic") {
    if (trigger === "manual" || trigger === "immediate") throw new BundleConfigError(`invalid status config: trigger mode mismatch: periodic and ${trigger} (hint: check discovery configuration)`);
    throw new BundleConfigError(`invalid status config: invalid trigger mode ${JSON.stringify(trigger)} (want "periodic", "manual" or "immediate")`);
  }
  return { console: consoleOn, service: serviceName === "" ? undefined : services.get(serviceName), partitionName };
}

/** Go's zero time.Time and RFC 3339 with nanoseconds (trailing zeros dropped), in UTC. */
function goTime(d: Date | undefined): string {
  if (!d) return "0001-01-01T00:00:00Z";
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f === "" ? "Z" : `.${f}Z`));
}

function bundleJSON(s: BundleStatus): Obj {
  // OPA's bundle.Status field order; omitempty fields only when set
  const o: Obj = { name: s.name };
  if (s.activeRevision) o.active_revision = s.activeRevision;
  o.last_successful_activation = goTime(s.lastSuccessfulActivation);
  if (s.size !== undefined && s.size > 0) {
    o.type = "snapshot";
    o.size = s.size;
  }
  o.last_successful_download = goTime(s.lastSuccessfulDownload);
  o.last_successful_request = goTime(s.lastSuccessfulRequest);
  o.last_request = goTime(s.lastRequest);
  if (s.code) o.code = s.code;
  if (s.message) o.message = s.message;
  if (s.errors && s.errors.length > 0) o.errors = [...s.errors];
  if (s.code && s.httpCode !== undefined && s.httpCode !== 200 && s.httpCode !== 304) o.http_code = s.httpCode;
  return o;
}

const sorted = (o: Record<string, unknown>): Obj => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

export type ChangeReason = "bundle" | "plugin" | "decision log";

const MAX_BACKOFF_MS = 60_000;

export class StatusPlugin {
  private uploading = false;
  private pending: ChangeReason | undefined;
  private retries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private started = false;
  private lastPlugins = "";
  /** Bundles appear once the bundle plugin has reported (OPA: after its first status update). */
  private bundlesReported = false;
  /** Counts for tests. */
  readonly stats = { uploads: 0, failures: 0 };

  constructor(
    private readonly cfg: StatusConfig,
    private readonly labels: Record<string, string>,
    private readonly sources: { bundles?: BundlePlugin; decisionLogs?: DecisionLogger },
    private readonly log: Logger,
  ) {}

  private plugins(): Obj {
    const p: Obj = {};
    if (this.sources.bundles) p.bundle = { state: this.sources.bundles.ready() ? "OK" : "NOT_READY" };
    if (this.sources.decisionLogs) p.decision_logs = { state: "OK" };
    p.discovery = { state: "OK" };
    p.status = { state: this.started && !this.stopped ? "OK" : "NOT_READY" };
    return p;
  }

  /** The status document (what GET /v1/status answers in `result`). */
  snapshot(): Obj {
    const out: Obj = { labels: sorted(this.labels) };
    const bundles = this.bundlesReported ? this.sources.bundles?.statuses() : undefined;
    if (bundles && bundles.length > 0) out.bundles = Object.fromEntries(bundles.sort((a, b) => (a.name < b.name ? -1 : 1)).map((s) => [s.name, bundleJSON(s)]));
    if (this.sources.decisionLogs) {
      const d = this.sources.decisionLogs.uploadStatus;
      const o: Obj = {};
      if (d.code) o.code = d.code;
      if (d.message) o.message = d.message;
      if (d.httpCode !== undefined) o.http_code = d.httpCode;
      out.decision_logs = o;
    }
    out.plugins = this.plugins();
    return out;
  }

  start(): void {
    this.log.info("Starting status reporter.", { plugin: "status" });
    this.started = true;
    this.changed("plugin");
  }

  /** A source changed: log and upload the new snapshot (serialised; coalesced while an upload runs). */
  changed(reason: ChangeReason): void {
    if (reason === "bundle") this.bundlesReported = true;
    if (this.stopped || !this.started) return;
    // a bundle activation may change a plugin's state: OPA reports that as a plugin update
    const plugins = JSON.stringify(this.plugins());
    if (reason !== "plugin" && plugins !== this.lastPlugins && this.lastPlugins !== "") {
      this.lastPlugins = plugins;
      this.changed("plugin");
    }
    this.lastPlugins = plugins;
    if (this.uploading) {
      this.pending = reason;
      return;
    }
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    void this.oneShot(reason);
  }

  private async oneShot(reason: ChangeReason): Promise<void> {
    this.uploading = true;
    const snap = this.snapshot();
    if (this.cfg.console) this.log.info("Status Log", { ...snap, type: "openpolicyagent.org/status" });
    let ok = true;
    if (this.cfg.service) {
      try {
        await this.post(this.cfg.service, snap);
        this.stats.uploads++;
        this.retries = 0;
      } catch (e) {
        ok = false;
        this.stats.failures++;
        this.log.error(`${(e as Error).message}.`, { plugin: "status" });
      }
    }
    if (ok) this.log.info(`Status update sent successfully in response to ${reason} update.`, { plugin: "status" });
    this.uploading = false;
    if (this.stopped) return;
    const next = this.pending;
    this.pending = undefined;
    if (next) {
      void this.oneShot(next);
    } else if (!ok) {
      const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(this.retries++, 20)) * (0.8 + Math.random() * 0.4);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (!this.uploading && !this.stopped) void this.oneShot(reason);
      }, delay);
    }
  }

  private async post(svc: ServiceConfig, doc: Obj): Promise<void> {
    const headers: Record<string, string> = { ...svc.headers, "Content-Type": "application/json" };
    const url = `${svc.url}/status${this.cfg.partitionName === "" ? "" : `/${this.cfg.partitionName.replace(/^\/+/, "")}`}`;
    let res: Response;
    try {
      res = await svc.transport.send(url, { method: "POST", headers, body: JSON.stringify(doc), signal: AbortSignal.timeout(svc.responseHeaderTimeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      throw new Error(`status update failed: ${(e as Error).message}${cause ? `: ${cause.message}` : ""}`);
    }
    await res.body?.cancel();
    if (res.status < 200 || res.status >= 300) throw new Error(`status update failed, server replied with HTTP ${res.status} ${STATUS_CODES[res.status] ?? ""}`.trimEnd());
  }

  /** Stop: one last upload when a change is unsent (an upload failed or one was pending). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.log.info("Stopping status reporter.", { plugin: "status" });
    const unsent = this.retryTimer !== undefined || this.pending !== undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.stopped = true;
    const end = Date.now() + 5000;
    while (this.uploading && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    if (unsent && this.cfg.service) {
      try {
        await this.post(this.cfg.service, this.snapshot());
        this.stats.uploads++;
        this.log.info("Final status update sent successfully.", { plugin: "status" });
      } catch (e) {
        this.stats.failures++;
        this.log.error(`${(e as Error).message}.`, { plugin: "status" });
      }
    }
  }
}
