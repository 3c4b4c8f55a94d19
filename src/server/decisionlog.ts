// Decision logs (OPA's decision_logs plugin): one event per decision of the data APIs, in OPA's
// shape (labels, decision_id, bundles, path, input, result, erased, masked, requested_by,
// timestamp, metrics, req_id), after the `drop` policy (data.system.log.drop: true drops the
// event) and the `mask` policy (data.system.log.mask: JSON pointers under /input or /result to
// erase, or {op: remove|upsert, path, value} objects), both evaluated with the event as input.
// Events go to the console (`console: true`: one log line at info, "Decision Log") and/or a
// service: kept in a bounded buffer (buffer_size_limit_events; the oldest are dropped and
// counted), uploaded as gzipped JSON arrays of at most upload_size_limit_bytes by
// `POST {url}/{resource}` every min..max_delay_seconds; a failed upload keeps the events and
// retries with exponential backoff (capped at max_delay_seconds). Documents keep their number
// literals (src/bundle/rawjson.ts). Every upload has a deadline.

import { gzipSync } from "node:zlib";
import { randomUUID } from "node:crypto";
import { STATUS_CODES } from "node:http";
import { parseRaw, writeRaw, rawToValue, RawNumber, type Raw, type RawObject } from "../bundle/index.ts";
import type { ServiceConfig } from "./bundleconfig.ts";
import { BundleConfigError } from "./bundleconfig.ts";
import type { Logger } from "./log.ts";

export interface DecisionLogConfig {
  console: boolean;
  service?: ServiceConfig;
  resource: string;
  minDelayMs: number;
  maxDelayMs: number;
  uploadSizeLimitBytes: number;
  bufferSizeLimitEvents: number;
  maskDecision: string[];
  dropDecision: string[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

function num(v: unknown, key: string, dflt: number, min: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < min) throw new BundleConfigError(`${key}: want a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return v;
}

/** The `decision_logs` section; undefined when absent. */
export function parseDecisionLogConfig(raw: unknown, services: Map<string, ServiceConfig>): DecisionLogConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) throw new BundleConfigError("decision_logs: want an object");
  for (const k of Object.keys(raw)) {
    if (!["console", "service", "resource", "reporting", "mask_decision", "drop_decision", "partition_name"].includes(k)) {
      throw new BundleConfigError(`decision_logs.${k} is not supported by portcullis run (supported: console, service, resource, partition_name, reporting, mask_decision, drop_decision)`);
    }
  }
  const consoleOn = raw.console === true;
  let serviceName = typeof raw.service === "string" ? raw.service : "";
  if (serviceName === "" && !consoleOn && services.size > 0) serviceName = [...services.keys()][0];
  const service = serviceName === "" ? undefined : services.get(serviceName);
  if (serviceName !== "" && !service) throw new BundleConfigError(`invalid decision_log config: service name "${serviceName}" not found`);
  if (!consoleOn && !service) throw new BundleConfigError("invalid decision_log config: a service or console: true is required");
  const rep = isObj(raw.reporting) ? raw.reporting : {};
  for (const k of Object.keys(rep)) {
    if (!["min_delay_seconds", "max_delay_seconds", "upload_size_limit_bytes", "buffer_size_limit_events", "buffer_type"].includes(k)) {
      throw new BundleConfigError(`decision_logs.reporting.${k} is not supported by portcullis run (supported: min_delay_seconds, max_delay_seconds, upload_size_limit_bytes, buffer_size_limit_events)`);
    }
  }
  if (rep.buffer_type !== undefined && rep.buffer_type !== "event") throw new BundleConfigError('decision_logs.reporting.buffer_type: only "event" is supported by portcullis run');
  const minS = num(rep.min_delay_seconds, "decision_logs.reporting.min_delay_seconds", 300, 0);
  const maxS = num(rep.max_delay_seconds, "decision_logs.reporting.max_delay_seconds", 600, 0);
  if (minS > maxS) throw new BundleConfigError("invalid decision_log config: minimum polling interval is greater than maximum polling interval");
  const pathOf = (v: unknown, key: string, dflt: string) => {
    const s = v === undefined ? dflt : v;
    if (typeof s !== "string") throw new BundleConfigError(`decision_logs.${key}: want a string`);
    return s.split("/").filter((p) => p !== "");
  };
  let resource = typeof raw.resource === "string" ? raw.resource : "/logs";
  if (typeof raw.partition_name === "string" && raw.partition_name !== "") resource = `/logs/${raw.partition_name}`;
  return {
    console: consoleOn,
    service,
    resource,
    minDelayMs: minS * 1000,
    maxDelayMs: maxS * 1000,
    uploadSizeLimitBytes: num(rep.upload_size_limit_bytes, "decision_logs.reporting.upload_size_limit_bytes", 32768, 1),
    bufferSizeLimitEvents: num(rep.buffer_size_limit_events, "decision_logs.reporting.buffer_size_limit_events", 10000, 1),
    maskDecision: pathOf(raw.mask_decision, "mask_decision", "/system/log/mask"),
    dropDecision: pathOf(raw.drop_decision, "drop_decision", "/system/log/drop"),
  };
}

/** What the server knows of a decision. */
export interface Decision {
  decisionId: string;
  path: string;
  /** JSON text of the input (absent: none). */
  input?: string;
  /** JSON text of the result (absent: undefined). */
  result?: string;
  requestedBy: string;
  reqId: number;
  metrics: Record<string, number>;
  bundles: { name: string; revision: string }[];
  /** The decision's error (an evaluation error; v0: an undefined document), as OPA logs it. */
  error?: { code: string; message: string; location?: { file: string; row: number; col: number } };
}

/** Evaluate a policy path with an input (JSON text) on the server; the value's JSON text, or undefined. */
export type PolicyEval = (path: string[], input: string) => Promise<string | undefined>;

export class DecisionLogger {
  private buffer: string[] = [];
  private dropped = 0;
  private retries = 0;
  private timer: NodeJS.Timeout | undefined;
  private uploading: Promise<void> | undefined;
  private stopped = false;
  /** Counts for tests and metrics. */
  /** The last upload's outcome as OPA's status plugin reports it (empty after a success). */
  readonly uploadStatus: { code?: string; message?: string; httpCode?: number } = {};
  /** Called when uploadStatus changes (the status plugin listens). */
  onChange: (() => void) | undefined;
  readonly stats = { logged: 0, droppedByPolicy: 0, droppedBuffer: 0, uploads: 0, uploadFailures: 0, chunks: 0 };

  constructor(
    private readonly cfg: DecisionLogConfig,
    private readonly labels: Record<string, string>,
    private readonly evaluate: PolicyEval,
    private readonly log: Logger,
  ) {}

  static newDecisionId(): string {
    return randomUUID();
  }

  start(): void {
    if (this.cfg.service) this.schedule(this.nextDelay());
  }

  private nextDelay(): number {
    if (this.retries > 0) return Math.min(this.cfg.maxDelayMs, Math.max(this.cfg.minDelayMs, 50) * 2 ** Math.min(this.retries, 20));
    return this.cfg.minDelayMs + Math.random() * (this.cfg.maxDelayMs - this.cfg.minDelayMs);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().then(() => this.schedule(this.nextDelay()));
    }, ms);
  }

  /** Record one decision (asynchronous: the answer is not held back by logging). */
  async record(d: Decision): Promise<void> {
    try {
      const event = this.event(d);
      const text = writeRaw(event);
      if (this.cfg.dropDecision.length > 0) {
        const drop = await this.evaluate(this.cfg.dropDecision, text);
        if (drop === "true") {
          this.stats.droppedByPolicy++;
          return;
        }
      }
      let final = event;
      if (this.cfg.maskDecision.length > 0) {
        const mask = await this.evaluate(this.cfg.maskDecision, text);
        if (mask !== undefined) final = this.mask(event, parseRaw(mask));
      }
      this.stats.logged++;
      if (this.cfg.console) {
        // logrus prints the event's fields; an error as its text (code: message)
        const fields: Record<string, unknown> = { ...(rawToValue(final) as Record<string, unknown>), type: "openpolicyagent.org/decision_logs" };
        const err = final.get("error");
        if (err instanceof Map) {
          const l = err.get("location");
          const at = l instanceof Map ? `${String(l.get("file"))}:${String((l.get("row") as RawNumber).text)}: ` : "";
          fields.error = `${at}${String(err.get("code"))}: ${String(err.get("message"))}`;
        }
        this.log.info("Decision Log", fields);
      }
      if (this.cfg.service) {
        if (this.buffer.length >= this.cfg.bufferSizeLimitEvents) {
          this.buffer.shift();
          this.dropped++;
          this.stats.droppedBuffer++;
        }
        this.buffer.push(eventJSON(final));
      }
    } catch (e) {
      this.log.error("Failed to log decision.", { err: (e as Error).message });
    }
  }

  private event(d: Decision): RawObject {
    const e: RawObject = new Map();
    e.set("labels", new Map(Object.entries(this.labels).sort(([a], [b]) => (a < b ? -1 : 1))));
    e.set("decision_id", d.decisionId);
    if (d.bundles.length > 0) e.set("bundles", new Map(d.bundles.map((b) => [b.name, new Map([["revision", b.revision]])] as [string, Raw])));
    e.set("path", d.path);
    if (d.input !== undefined) e.set("input", parseRaw(d.input));
    if (d.result !== undefined) e.set("result", parseRaw(d.result));
    if (d.error) {
      const err: RawObject = new Map([["code", d.error.code], ["message", d.error.message]]);
      const l = d.error.location;
      if (l) err.set("location", new Map<string, Raw>([["file", l.file], ["row", new RawNumber(String(l.row))], ["col", new RawNumber(String(l.col))]]));
      e.set("error", err);
    }
    e.set("requested_by", d.requestedBy);
    e.set("timestamp", goTimestamp(new Date()));
    e.set("metrics", new Map(Object.entries(d.metrics).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, new RawNumber(String(v))] as [string, Raw])));
    e.set("req_id", new RawNumber(String(d.reqId)));
    return e;
  }

  /** OPA's mask rules over the event; invalid rules are logged and skipped. */
  private mask(event: RawObject, rules: Raw): RawObject {
    if (!Array.isArray(rules)) {
      this.log.error("Failed to mask decision log event.", { err: `unexpected rule format ${writeRaw(rules)}` });
      return event;
    }
    const out = cloneRaw(event) as RawObject;
    const erased: string[] = [];
    const masked: string[] = [];
    for (const r of rules) {
      let op = "remove";
      let path: string;
      let value: Raw = null;
      if (typeof r === "string") path = r;
      else if (r instanceof Map) {
        const o = r.get("op");
        const p = r.get("path");
        if (typeof o === "string") op = o;
        if (typeof p !== "string") {
          this.log.error("Failed to mask decision log event.", { err: "invalid \"path\" value" });
          continue;
        }
        path = p;
        value = r.get("value") ?? null;
      } else continue;
      const parts = path.startsWith("/") ? path.slice(1).split("/").map(decodePart) : [];
      if (!path.startsWith("/") || (parts[0] !== "input" && parts[0] !== "result") || (op !== "remove" && op !== "upsert")) {
        this.log.error("Failed to mask decision log event.", { err: `invalid mask rule: ${path}` });
        continue;
      }
      const [top, ...rest] = parts;
      if (!out.has(top)) continue;
      if (op === "remove") {
        if (rest.length === 0) out.delete(top);
        else if (!removeAt(out.get(top)!, rest)) continue;
        erased.push(path);
      } else {
        if (rest.length === 0) out.set(top, value);
        else if (!upsertAt(out.get(top)!, rest, value)) continue;
        masked.push(path);
      }
    }
    // Go's field order: erased and masked follow result, before error and requested_by.
    const ordered: RawObject = new Map();
    const before = out.has("error") ? "error" : "requested_by";
    for (const [k, v] of out) {
      if (k === before) {
        if (erased.length > 0) ordered.set("erased", erased);
        if (masked.length > 0) ordered.set("masked", masked);
      }
      ordered.set(k, v);
    }
    return ordered;
  }

  /** Upload what is buffered (chunks within the size limit); failures keep the events. */
  flush(): Promise<void> {
    this.uploading ??= this.upload().finally(() => {
      this.uploading = undefined;
    });
    return this.uploading;
  }

  private async upload(): Promise<void> {
    const svc = this.cfg.service;
    if (!svc || this.buffer.length === 0) return;
    if (this.dropped > 0) {
      this.log.error("Dropped decision log events: the buffer was full.", { dropped: this.dropped });
      this.dropped = 0;
    }
    const events = this.buffer;
    this.buffer = [];
    const chunks = this.chunk(events);
    for (let i = 0; i < chunks.length; i++) {
      const { body } = chunks[i];
      try {
        await this.post(svc, body);
        this.stats.uploads++;
        this.stats.chunks++;
        this.retries = 0;
        this.setUploadStatus(undefined);
      } catch (e) {
        this.stats.uploadFailures++;
        this.retries++;
        // keep this chunk's events and the rest, before anything logged meanwhile (bounded again)
        const keep = chunks.slice(i).flatMap((c) => c.events);
        this.buffer = [...keep, ...this.buffer];
        while (this.buffer.length > this.cfg.bufferSizeLimitEvents) {
          this.buffer.shift();
          this.stats.droppedBuffer++;
        }
        this.log.error("Log upload failed.", { err: (e as Error).message, events: keep.length });
        this.setUploadStatus(e as Error);
        return;
      }
    }
  }

  /** Gzipped JSON arrays of at most uploadSizeLimitBytes each (an event too big alone is dropped). */
  private chunk(events: string[]): { body: Buffer; events: string[] }[] {
    const out: { body: Buffer; events: string[] }[] = [];
    const go = (xs: string[]) => {
      if (xs.length === 0) return;
      const body = gzipSync(`[${xs.join(",")}]`);
      if (body.length <= this.cfg.uploadSizeLimitBytes) {
        out.push({ body, events: xs });
        return;
      }
      if (xs.length === 1) {
        this.log.error("Decision log event dropped: larger than upload_size_limit_bytes once compressed.", { size: body.length, limit: this.cfg.uploadSizeLimitBytes });
        this.stats.droppedBuffer++;
        return;
      }
      const mid = xs.length >> 1;
      go(xs.slice(0, mid));
      go(xs.slice(mid));
    };
    go(events);
    return out;
  }

  private async post(svc: ServiceConfig, body: Buffer): Promise<void> {
    const headers: Record<string, string> = { ...svc.headers, "Content-Type": "application/json", "Content-Encoding": "gzip" };
    const url = `${svc.url}/${this.cfg.resource.replace(/^\/+/, "")}`;
    let res: Response;
    try {
      res = await svc.transport.send(url, { method: "POST", headers, body: new Uint8Array(body), signal: AbortSignal.timeout(svc.responseHeaderTimeoutMs) });
    } catch (e) {
      const cause = (e as { cause?: Error }).cause;
      throw new Error(`log upload failed: ${(e as Error).message}${cause ? `: ${cause.message}` : ""}`);
    }
    await res.body?.cancel();
    // OPA's HTTPError text (Go's http.StatusText)
    if (res.status < 200 || res.status >= 300) throw Object.assign(new Error(`log upload failed, server replied with HTTP ${res.status} ${STATUS_CODES[res.status] ?? ""}`.trimEnd()), { httpCode: res.status });
  }

  private setUploadStatus(e: Error | undefined): void {
    const s = this.uploadStatus;
    const before = JSON.stringify(s);
    delete s.code;
    delete s.message;
    delete s.httpCode;
    if (e) {
      s.code = "decision_log_error";
      s.message = e.message;
      const http = (e as { httpCode?: number }).httpCode;
      if (http !== undefined) s.httpCode = http;
    }
    if (JSON.stringify(s) !== before) this.onChange?.();
  }

  /** Stop the timer and try one last upload. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.uploading) await this.uploading.catch(() => undefined);
    await this.flush().catch(() => undefined);
  }

  pending(): number {
    return this.buffer.length;
  }
}

/** An event as Go encodes EventV1: its fields in struct order, maps inside with sorted keys. */
function eventJSON(e: RawObject): string {
  return `{${[...e].map(([k, v]) => `${writeRaw(k)}:${writeRaw(v)}`).join(",")}}`;
}

function decodePart(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

function cloneRaw(r: Raw): Raw {
  if (r instanceof Map) return new Map([...r].map(([k, v]) => [k, cloneRaw(v)] as [string, Raw]));
  if (Array.isArray(r)) return r.map(cloneRaw);
  return r;
}

function child(node: Raw, key: string): { get(): Raw | undefined; del(): boolean; set(v: Raw): boolean } | undefined {
  if (node instanceof Map) return { get: () => node.get(key), del: () => node.delete(key), set: (v) => (node.set(key, v), true) };
  if (Array.isArray(node) && /^(0|[1-9][0-9]*)$/.test(key)) {
    const i = Number(key);
    if (i >= node.length) return undefined;
    return { get: () => node[i], del: () => (node.splice(i, 1), true), set: (v) => ((node[i] = v), true) };
  }
  return undefined;
}

function removeAt(node: Raw, parts: string[]): boolean {
  let cur = node;
  for (let i = 0; i < parts.length - 1; i++) {
    const c = child(cur, parts[i])?.get();
    if (c === undefined) return false;
    cur = c;
  }
  const last = child(cur, parts[parts.length - 1]);
  if (!last || last.get() === undefined) return false;
  return last.del();
}

function upsertAt(node: Raw, parts: string[], value: Raw): boolean {
  if (!(node instanceof Map)) return false;
  let cur: Map<string, Raw> = node;
  for (let i = 0; i < parts.length - 1; i++) {
    let next = cur.get(parts[i]);
    if (next === undefined) {
      next = new Map();
      cur.set(parts[i], next);
    }
    if (!(next instanceof Map)) return false;
    cur = next;
  }
  cur.set(parts[parts.length - 1], value);
  return true;
}

/** Go's time.Time JSON (RFC 3339 with nanoseconds, trailing zeros dropped), in UTC. */
function goTimestamp(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, f: string) => (f === "" ? "Z" : `.${f}Z`));
}
