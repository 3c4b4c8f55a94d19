// A thin client for the Kubernetes API: JSON requests with a deadline and a size limit, typed
// resource paths, list pagination (`limit`/`continue`), watches as streams of events, and the
// verbs a controller needs (get, list, create, replace, patch, status patch, delete, create-or-
// update). Authentication comes from ./config.ts (our kubeconfig reader); requests go out
// through Node's http/https with one keep-alive agent. Every failure is a KubeError whose
// message is one line: `GET /apis/…/x: 404 NotFound: … not found`.

import * as http from "node:http";
import * as https from "node:https";
import { KubeError, isConflict, isNotFound, errorText } from "./errors.ts";
import { loadKubeConfig, type Connection, type KubeConfigOptions } from "./config.ts";

export type Obj = Record<string, any>;

/** A resource type: group ("" for the core group), version, plural and scope. */
export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  /** The Kind, for messages and created objects. */
  kind: string;
}

export const refs = {
  namespaces: { group: "", version: "v1", plural: "namespaces", namespaced: false, kind: "Namespace" },
  secrets: { group: "", version: "v1", plural: "secrets", namespaced: true, kind: "Secret" },
  pods: { group: "", version: "v1", plural: "pods", namespaced: true, kind: "Pod" },
  crds: { group: "apiextensions.k8s.io", version: "v1", plural: "customresourcedefinitions", namespaced: false, kind: "CustomResourceDefinition" },
  validatingWebhookConfigurations: { group: "admissionregistration.k8s.io", version: "v1", plural: "validatingwebhookconfigurations", namespaced: false, kind: "ValidatingWebhookConfiguration" },
  leases: { group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true, kind: "Lease" },
} satisfies Record<string, ResourceRef>;

/** The URL path of a collection, an object or an object's subresource. */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name !== undefined) {
    if (name === "") throw new KubeError(`${r.kind}: empty name`);
    p += `/${encodeURIComponent(name)}`;
  }
  if (subresource) p += `/${subresource}`;
  return p;
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOpts {
  query?: Query;
  body?: unknown;
  /** Content type of the body (patches); application/json by default. */
  contentType?: string;
  /** Deadline of this request in ms (default: the client's, 30 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ClientOptions {
  /** Deadline of one request (not of a watch), ms. Default 30,000. */
  timeoutMs?: number;
  /** Largest response body accepted, bytes. Default 64 MiB (a list page is bounded by `limit`). */
  maxResponseBytes?: number;
  /** Longest line of a watch stream (one event), bytes. Default 16 MiB. */
  maxEventBytes?: number;
  userAgent?: string;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Page size (`limit`); default 500, as client-go's pager. */
  limit?: number;
}

export interface ListPage {
  items: Obj[];
  resourceVersion: string;
  /** The `continue` token of the next page ("" on the last page). */
  continue: string;
}

export type PatchType = "merge" | "json" | "strategic" | "apply";
const PATCH_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
  apply: "application/apply-patch+yaml",
};

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: Obj;
}

export interface WatchOptions {
  namespace?: string;
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** The server ends the watch after this many seconds (client-go picks 5–10 min). */
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

function statusReason(body: string): { message: string; reason: string } {
  try {
    const s = JSON.parse(body);
    if (s && typeof s === "object" && s.kind === "Status") return { message: String(s.message ?? ""), reason: String(s.reason ?? "") };
  } catch {
    // not JSON: use the text
  }
  return { message: body.slice(0, 300), reason: "" };
}

export class KubeClient {
  readonly server: string;
  readonly namespace: string;
  private readonly conn: Connection;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly maxEventBytes: number;
  private readonly userAgent: string;
  private agent: http.Agent | undefined;
  private agentKey: Buffer[] = [];

  constructor(conn: Connection, opts: ClientOptions = {}) {
    this.conn = conn;
    this.server = conn.server;
    this.namespace = conn.namespace;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxBytes = opts.maxResponseBytes ?? 64 * 1024 * 1024;
    this.maxEventBytes = opts.maxEventBytes ?? 16 * 1024 * 1024;
    this.userAgent = opts.userAgent ?? "portcullis";
  }

  /** Connect with a kubeconfig (or in-cluster config). */
  static async connect(cfg: KubeConfigOptions = {}, opts: ClientOptions = {}): Promise<KubeClient> {
    return new KubeClient(await loadKubeConfig(cfg), opts);
  }

  /** Close idle keep-alive connections (after stopping every watch). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private async requestOptions(method: string, path: string, query: Query | undefined, headers: Record<string, string>): Promise<{ url: URL; options: https.RequestOptions; mod: typeof https | typeof http }> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const o = await this.conn.options();
    const tls = [o.ca, o.cert, o.key].map((x) => (x === undefined ? Buffer.alloc(0) : Buffer.from(x as Buffer)));
    const isHttps = url.protocol === "https:";
    if (!this.agent || tls.some((b, i) => !b.equals(this.agentKey[i]))) {
      this.agent?.destroy();
      this.agent = isHttps
        ? new https.Agent({ keepAlive: true, maxSockets: 16, ca: o.ca, cert: o.cert, key: o.key, rejectUnauthorized: o.rejectUnauthorized, servername: o.servername })
        : new http.Agent({ keepAlive: true, maxSockets: 16 });
      this.agentKey = tls;
    }
    const h: Record<string, string> = { Accept: "application/json", "User-Agent": this.userAgent, ...headers };
    for (const [k, v] of Object.entries(o.headers ?? {})) if (v !== undefined) h[k] = Array.isArray(v) ? v.join(", ") : String(v);
    if (o.auth) h.Authorization = `Basic ${Buffer.from(o.auth).toString("base64")}`;
    return { url, options: { method, agent: this.agent, headers: h }, mod: isHttps ? https : http };
  }

  /** One request; the parsed JSON answer (undefined for an empty body). */
  async request(method: string, path: string, ro: RequestOpts = {}): Promise<any> {
    const what = `${method} ${path}`;
    const body = ro.body === undefined ? undefined : typeof ro.body === "string" ? ro.body : JSON.stringify(ro.body);
    const headers: Record<string, string> = {};
    if (body !== undefined) {
      headers["Content-Type"] = ro.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(body));
    }
    const { url, options, mod } = await this.requestOptions(method, path, ro.query, headers);
    const timeoutMs = ro.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (e: KubeError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        ro.signal?.removeEventListener("abort", onAbort);
        req.destroy();
        reject(e);
      };
      const timer = setTimeout(() => fail(new KubeError(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
      const onAbort = () => fail(new KubeError(`${what}: cancelled`));
      ro.signal?.addEventListener("abort", onAbort, { once: true });
      const req = mod.request(url, options, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > this.maxBytes) return fail(new KubeError(`${what}: answer larger than ${this.maxBytes} bytes`));
          chunks.push(c);
        });
        res.on("error", (e) => fail(new KubeError(`${what}: ${errorText(e)}`)));
        res.on("end", () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          ro.signal?.removeEventListener("abort", onAbort);
          const text = Buffer.concat(chunks).toString("utf8");
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) {
            const s = statusReason(text);
            reject(new KubeError(`${what}: ${code} ${s.reason || http.STATUS_CODES[code] || ""}${s.message ? `: ${s.message}` : ""}`, code, s.reason));
            return;
          }
          if (text === "") return resolve(undefined);
          try {
            resolve(JSON.parse(text));
          } catch {
            reject(new KubeError(`${what}: ${code} answer is not JSON: ${text.slice(0, 120)}`, code));
          }
        });
      });
      req.on("error", (e) => fail(new KubeError(`${what}: ${errorText(e)}`)));
      req.end(body);
    });
  }

  get(r: ResourceRef, name: string, namespace?: string): Promise<Obj> {
    return this.request("GET", resourcePath(r, namespace, name));
  }

  /** The object, or null when it does not exist. */
  async getOrNull(r: ResourceRef, name: string, namespace?: string): Promise<Obj | null> {
    try {
      return await this.get(r, name, namespace);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  /** One page of a list. */
  async listPage(r: ResourceRef, opts: ListOptions = {}, continueToken = ""): Promise<ListPage> {
    const limit = opts.limit ?? 500;
    if (!Number.isInteger(limit) || limit < 1) throw new KubeError(`list ${r.plural}: limit must be a positive integer, got ${limit}`);
    const list = await this.request("GET", resourcePath(r, opts.namespace), {
      query: { limit, continue: continueToken || undefined, labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector },
    });
    const items: Obj[] = Array.isArray(list?.items) ? list.items : [];
    // A list's items carry no apiVersion/kind: put them back so objects look as they do in watches.
    const apiVersion = r.group === "" ? r.version : `${r.group}/${r.version}`;
    for (const it of items) {
      it.apiVersion ??= apiVersion;
      it.kind ??= r.kind;
    }
    return { items, resourceVersion: String(list?.metadata?.resourceVersion ?? ""), continue: String(list?.metadata?.continue ?? "") };
  }

  /** Every page of a list, one at a time (memory stays bounded by the page size). */
  async *pages(r: ResourceRef, opts: ListOptions = {}): AsyncGenerator<ListPage> {
    let token = "";
    for (let n = 0; ; n++) {
      const page = await this.listPage(r, opts, token);
      yield page;
      if (!page.continue) return;
      if (n > 1_000_000) throw new KubeError(`list ${r.plural}: more than a million pages`);
      token = page.continue;
    }
  }

  /** The whole list (all pages) and the resource version of its snapshot. */
  async list(r: ResourceRef, opts: ListOptions = {}): Promise<{ items: Obj[]; resourceVersion: string }> {
    const items: Obj[] = [];
    let rv = "";
    for await (const p of this.pages(r, opts)) {
      items.push(...p.items);
      rv = p.resourceVersion;
    }
    return { items, resourceVersion: rv };
  }

  create(r: ResourceRef, obj: Obj, namespace?: string): Promise<Obj> {
    return this.request("POST", resourcePath(r, namespace ?? obj.metadata?.namespace), { body: obj });
  }

  /** PUT (replace); the object must carry metadata.resourceVersion for optimistic concurrency. */
  replace(r: ResourceRef, obj: Obj): Promise<Obj> {
    return this.request("PUT", resourcePath(r, obj.metadata?.namespace, obj.metadata?.name), { body: obj });
  }

  patch(r: ResourceRef, name: string, patch: unknown, opts: { type?: PatchType; namespace?: string; subresource?: string; fieldManager?: string; force?: boolean } = {}): Promise<Obj> {
    const type = opts.type ?? "merge";
    return this.request("PATCH", resourcePath(r, opts.namespace, name, opts.subresource), {
      body: patch,
      contentType: PATCH_TYPES[type],
      query: { fieldManager: opts.fieldManager ?? (type === "apply" ? this.userAgent : undefined), force: opts.force },
    });
  }

  /** A merge patch of the status subresource. */
  patchStatus(r: ResourceRef, name: string, patch: unknown, namespace?: string): Promise<Obj> {
    return this.patch(r, name, patch, { namespace, subresource: "status" });
  }

  /** Delete; false when the object did not exist. */
  async delete(r: ResourceRef, name: string, namespace?: string, propagationPolicy = "Background"): Promise<boolean> {
    try {
      await this.request("DELETE", resourcePath(r, namespace, name), { body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy } });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }

  /**
   * Create the object, or replace it when it exists and `differs(existing)` says so; retries
   * conflicts (someone else wrote in between) a few times. Returns the stored object and what
   * was done.
   */
  async createOrReplace(r: ResourceRef, obj: Obj, differs: (existing: Obj) => boolean = () => true): Promise<{ object: Obj; action: "created" | "updated" | "unchanged" }> {
    const name = obj.metadata?.name;
    const ns = obj.metadata?.namespace;
    for (let attempt = 0; ; attempt++) {
      const existing = await this.getOrNull(r, name, ns);
      try {
        if (!existing) return { object: await this.create(r, obj, ns), action: "created" };
        if (!differs(existing)) return { object: existing, action: "unchanged" };
        const next = { ...obj, metadata: { ...obj.metadata, resourceVersion: existing.metadata?.resourceVersion } };
        return { object: await this.replace(r, next), action: "updated" };
      } catch (e) {
        const retry = isConflict(e) || (e instanceof KubeError && e.reason === "AlreadyExists");
        if (!retry || attempt >= 4) throw e;
      }
    }
  }

  /**
   * Watch a collection from `resourceVersion`. Calls `onEvent` for each event; resolves when
   * the server ends the stream (its timeoutSeconds) or the signal aborts; rejects with a
   * KubeError on failure — code 410 when the resource version is too old (re-list then).
   */
  async watch(r: ResourceRef, opts: WatchOptions, onEvent: (e: WatchEvent) => void): Promise<void> {
    const timeoutSeconds = opts.timeoutSeconds ?? 300;
    const path = resourcePath(r, opts.namespace);
    const what = `WATCH ${path}`;
    const { url, options, mod } = await this.requestOptions("GET", path, {
      watch: 1,
      allowWatchBookmarks: true,
      resourceVersion: opts.resourceVersion || undefined,
      timeoutSeconds,
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
    }, {});
    if (opts.signal?.aborted) return;
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (e?: KubeError) => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        opts.signal?.removeEventListener("abort", onAbort);
        req.destroy();
        if (e) reject(e);
        else resolve();
      };
      // The server closes the stream after timeoutSeconds; a silent connection past that plus a
      // margin is dead (a half-open TCP connection would otherwise wait for ever).
      const idleMs = (timeoutSeconds + 30) * 1000;
      let idle = setTimeout(() => finish(new KubeError(`${what}: no data for ${idleMs / 1000} s`)), idleMs);
      const onAbort = () => finish();
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      const req = mod.request(url, options, (res) => {
        const code = res.statusCode ?? 0;
        if (code !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.length < 64 && chunks.push(c));
          res.on("end", () => {
            const s = statusReason(Buffer.concat(chunks).toString("utf8"));
            finish(new KubeError(`${what}: ${code} ${s.reason || http.STATUS_CODES[code] || ""}${s.message ? `: ${s.message}` : ""}`, code, s.reason));
          });
          res.on("error", (e) => finish(new KubeError(`${what}: ${errorText(e)}`)));
          return;
        }
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          clearTimeout(idle);
          idle = setTimeout(() => finish(new KubeError(`${what}: no data for ${idleMs / 1000} s`)), idleMs);
          buf += chunk;
          let nl: number;
          while (!settled && (nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line) this.watchLine(what, line, onEvent, finish);
          }
          if (buf.length > this.maxEventBytes) finish(new KubeError(`${what}: an event larger than ${this.maxEventBytes} bytes`));
        });
        res.on("end", () => {
          const line = buf.trim();
          if (line && !settled) this.watchLine(what, line, onEvent, finish);
          finish();
        });
        res.on("error", (e) => finish(new KubeError(`${what}: ${errorText(e)}`)));
      });
      req.on("error", (e) => finish(new KubeError(`${what}: ${errorText(e)}`)));
      req.end();
    });
  }

  private watchLine(what: string, line: string, onEvent: (e: WatchEvent) => void, finish: (e?: KubeError) => void): void {
    let ev: { type?: string; object?: Obj };
    try {
      ev = JSON.parse(line);
    } catch {
      finish(new KubeError(`${what}: an event is not JSON: ${line.slice(0, 120)}`));
      return;
    }
    if (ev.type === "ERROR") {
      const s = ev.object ?? {};
      const code = Number(s.code) || 500;
      finish(new KubeError(`${what}: ${code} ${s.reason ?? ""}: ${s.message ?? ""}`, code, String(s.reason ?? "")));
      return;
    }
    if (ev.type !== "ADDED" && ev.type !== "MODIFIED" && ev.type !== "DELETED" && ev.type !== "BOOKMARK") return;
    if (!ev.object || typeof ev.object !== "object") return;
    try {
      onEvent({ type: ev.type, object: ev.object });
    } catch (e) {
      finish(new KubeError(`${what}: handling a ${ev.type} event: ${errorText(e)}`));
    }
  }
}
