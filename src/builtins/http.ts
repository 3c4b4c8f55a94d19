// http.send: real HTTP(S) requests from policies, with OPA's options, response shape, errors and
// caching (per query, and across queries with `cache`/`force_cache`).
//
// The evaluator is synchronous: the request runs through ctx.awaitValue, which suspends the query
// while the promise runs and hands back the finished response when the query is evaluated again.

import type * as http from "node:http";
import type * as https from "node:https";
import type * as tls from "node:tls";
import { readFileSync } from "node:fs";
import type { Builtin, BuiltinContext } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { canonical, emptyObject, isInteger, isNumber, isPlainObject, objectEntries, toJsNumber, typeName } from "../rego/value.ts";
import { goJSON, parseJSONValue } from "./support/encoding.ts";
import { validateRequestKeys } from "./providers.ts";
import { DurationError, parseGoDuration, toBytes, fromBytes } from "./golayout.ts";
import { parseYAML } from "./goyaml.ts";
import { requireNow } from "../lazy.ts";

const NAME = "http.send";
const DEFAULT_TIMEOUT_MS = 5000;
const USER_AGENT = "Open-Policy-Agent/1.19.0 (linux, amd64)";

// Node's HTTP, TLS and zlib modules load with the first request, not at start-up.
interface Transport {
  http: typeof http;
  https: typeof https;
  tls: typeof tls;
  zlib: typeof import("node:zlib");
  /** Keep-alive agents, like Go's default transport (idle sockets do not keep the process alive). */
  httpAgent: http.Agent;
  httpsAgent: https.Agent;
}
let loaded: Transport | undefined;
function transport(): Transport {
  if (!loaded) {
    const h = requireNow<typeof http>("node:http");
    const hs = requireNow<typeof https>("node:https");
    const agents = { httpAgent: new h.Agent({ keepAlive: true }), httpsAgent: new hs.Agent({ keepAlive: true }) };
    loaded = { http: h, https: hs, tls: requireNow("node:tls"), zlib: requireNow("node:zlib"), ...agents };
  }
  return loaded;
}
const CACHEABLE_CODES = new Set([200, 203, 204, 206, 300, 301, 404, 405, 410, 414, 501]);

// ---- Options --------------------------------------------------------------------------------

interface RequestOptions {
  method: string;
  url: string;
  headers: [string, string][];
  hasCustomHeaders: boolean;
  body: Buffer | null;
  enableRedirect: boolean;
  timeoutMs: number;
  tls: tls.ConnectionOptions;
  maxRetries: number;
  socketPath?: string;
}

function stringOption(key: string, v: Value): string {
  if (typeof v !== "string") throw new BuiltinError(`"${key}" must be a string`);
  return v;
}

/** Go's strconv.ParseBool on the value's Rego text, as OPA parses boolean options. */
function boolOption(v: Value): boolean {
  if (typeof v === "boolean") return v;
  const text = typeof v === "string" ? JSON.stringify(v) : goJSON(v);
  if (["1", "t", "T", "TRUE", "true", "True"].includes(text)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(text)) return false;
  throw new BuiltinError(`strconv.ParseBool: parsing ${JSON.stringify(text)}: invalid syntax`);
}

function parseTimeout(v: Value): number {
  if (isNumber(v)) {
    if (!isInteger(v)) throw new BuiltinError(`invalid timeout number value ${goJSON(v)}, must be int64`);
    return toJsNumber(v) / 1e6;
  }
  if (typeof v === "string") {
    if (/^[-+]?\d+$/.test(v)) return Number(v) / 1e6;
    try {
      return Number(parseGoDuration(toBytes(v))) / 1e6;
    } catch (e) {
      if (e instanceof DurationError) throw new BuiltinError(`invalid timeout value ${JSON.stringify(v)}: ${fromBytes(e.message)}`);
      throw e;
    }
  }
  throw new BuiltinTypeError(`operand 1 'timeout' must be one of {string, number} but got ${typeName(v)}`);
}

/** Go's http.CanonicalHeaderKey. */
function canonicalHeaderKey(k: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(k)) return k;
  return k
    .split("-")
    .map((p) => (p === "" ? p : p[0].toUpperCase() + p.slice(1).toLowerCase()))
    .join("-");
}

function readPEMFile(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new BuiltinError(`open ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
}

function parseOptions(req: PlainObject): RequestOptions {
  const o: RequestOptions = {
    method: "",
    url: "",
    headers: [],
    hasCustomHeaders: false,
    body: null,
    enableRedirect: false,
    timeoutMs: DEFAULT_TIMEOUT_MS,
    tls: {},
    maxRetries: 0,
  };
  let rawBody: Buffer | null = null;
  let jsonBody: Buffer | null = null;
  let caCerts: string[] = [];
  let useSystemCerts: boolean | undefined;
  let clientCert = "";
  let clientKey = "";
  let clientCertFile = "";
  let clientKeyFile = "";
  let clientCertEnv = "";
  let clientKeyEnv = "";
  let serverName = "";
  let customHeaders: PlainObject | null = null;
  for (const key of Object.keys(req).sort()) {
    const v = req[key];
    switch (key) {
      case "method":
        o.method = stringOption(key, v).toUpperCase();
        break;
      case "url":
        o.url = stringOption(key, v);
        break;
      case "enable_redirect":
        o.enableRedirect = boolOption(v);
        break;
      case "body":
        jsonBody = Buffer.from(goJSON(v), "utf8");
        break;
      case "raw_body":
        rawBody = Buffer.from(stringOption(key, v), "utf8");
        break;
      case "tls_use_system_certs":
        useSystemCerts = boolOption(v);
        break;
      case "tls_ca_cert":
        caCerts.push(stringOption(key, v).replace(/\\n/g, "\n"));
        break;
      case "tls_ca_cert_file":
        caCerts.push(readPEMFile(stringOption(key, v)));
        break;
      case "tls_ca_cert_env_variable":
        caCerts.push(process.env[stringOption(key, v)] ?? "");
        break;
      case "tls_client_cert":
        clientCert = stringOption(key, v);
        break;
      case "tls_client_cert_file":
        clientCertFile = stringOption(key, v);
        break;
      case "tls_client_cert_env_variable":
        clientCertEnv = stringOption(key, v);
        break;
      case "tls_client_key":
        clientKey = stringOption(key, v);
        break;
      case "tls_client_key_file":
        clientKeyFile = stringOption(key, v);
        break;
      case "tls_client_key_env_variable":
        clientKeyEnv = stringOption(key, v);
        break;
      case "tls_server_name":
        serverName = stringOption(key, v);
        break;
      case "headers":
        if (!isPlainObject(v)) throw new BuiltinError("invalid type for headers key");
        customHeaders = v;
        break;
      case "tls_insecure_skip_verify":
        if (boolOption(v)) o.tls.rejectUnauthorized = false;
        break;
      case "timeout":
        o.timeoutMs = parseTimeout(v);
        break;
      case "max_retry_attempts":
        if (!isNumber(v) || !isInteger(v) || toJsNumber(v) < 0) throw new BuiltinError(`invalid value ${goJSON(v)} for field "max_retry_attempts"`);
        o.maxRetries = toJsNumber(v);
        break;
      default:
        break; // cache options and raise_error are read elsewhere
    }
  }
  o.body = rawBody ?? jsonBody;
  if (customHeaders !== null) {
    for (const [k, v] of objectEntries(customHeaders)) {
      if (typeof v !== "string") throw new BuiltinError(`invalid type for headers value ${JSON.stringify(goJSON(v))}`);
      o.headers.push([canonicalHeaderKey(String(k)), v]);
    }
    o.hasCustomHeaders = o.headers.length > 0;
  }
  // TLS material.
  const pairs: [string, string][] = [];
  if (clientCert && clientKey) pairs.push([clientCert, clientKey]);
  if (clientCertFile && clientKeyFile) pairs.push([readPEMFile(clientCertFile), readPEMFile(clientKeyFile)]);
  if (clientCertEnv && clientKeyEnv) pairs.push([process.env[clientCertEnv] ?? "", process.env[clientKeyEnv] ?? ""]);
  if (pairs.length > 0) {
    o.tls.cert = pairs.map((p) => p[0]);
    o.tls.key = pairs.map((p) => p[1]);
  }
  if (caCerts.length > 0 || useSystemCerts) {
    const roots: string[] = useSystemCerts ? [...transport().tls.rootCertificates] : [];
    for (const pem of caCerts) {
      if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new BuiltinError("could not append certificates");
      roots.push(pem);
    }
    o.tls.ca = roots;
  }
  const hostHeader = o.headers.find(([k]) => k === "Host");
  if (hostHeader) o.tls.servername = hostHeader[1];
  if (serverName) o.tls.servername = serverName;
  // unix://localhost/path?socket=%2Ftmp%2Fsock
  if (o.url.startsWith("unix://")) {
    try {
      const u = new URL(o.url);
      const sock = u.searchParams.get("socket");
      if (sock) {
        o.socketPath = sock;
        u.searchParams.delete("socket");
        o.url = `http://${u.host}${u.pathname}${u.search}`;
      }
    } catch {
      // leave as is: the request fails below
    }
  }
  return o;
}

// ---- Performing a request -------------------------------------------------------------------

interface RawResponse {
  status: string;
  statusCode: number;
  headers: [string, string[]][];
  body: Buffer;
}

class RequestFailure extends Error {
  network: boolean;
  /** For timeouts: the message when raise_error is false (Go's url.Error text). */
  quiet?: string;
  constructor(message: string, network: boolean, quiet?: string) {
    super(message);
    this.network = network;
    this.quiet = quiet;
  }
}

function timedOut(op: string, url: string): RequestFailure {
  return new RequestFailure(
    `${op} ${url}: request timed out`,
    true,
    `${op} ${JSON.stringify(url)}: context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  );
}

function goMethodName(m: string): string {
  return m.length === 0 ? "Get" : m[0].toUpperCase() + m.slice(1).toLowerCase();
}

function describeNetworkError(e: NodeJS.ErrnoException, u: URL): string {
  const port = u.port || (u.protocol === "https:" ? "443" : "80");
  const hostPort = `${u.hostname.replace(/^\[|\]$/g, "")}:${port}`;
  switch (e.code) {
    case "ECONNREFUSED":
      return `dial tcp ${hostPort}: connect: connection refused`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `dial tcp: lookup ${u.hostname}: no such host`;
    case "ECONNRESET":
      return "read: connection reset by peer";
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
    case "SELF_SIGNED_CERT_IN_CHAIN":
    case "UNABLE_TO_VERIFY_LEAF_SIGNATURE":
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
      return "tls: failed to verify certificate: x509: certificate signed by unknown authority";
    case "CERT_HAS_EXPIRED":
      return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid";
    case "ERR_TLS_CERT_ALTNAME_INVALID":
      return `tls: failed to verify certificate: x509: certificate is valid for other names, not ${u.hostname}`;
  }
  return e.message;
}

function once(opts: RequestOptions, method: string, url: string, body: Buffer | null, deadline: number, extraHeaders: [string, string][]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    let u: URL;
    const quoted = JSON.stringify(url);
    const op = goMethodName(method);
    try {
      u = new URL(url);
    } catch {
      const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
      reject(new RequestFailure(`${op} ${quoted}: unsupported protocol scheme "${scheme ? scheme[1].toLowerCase() : ""}"`, true));
      return;
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") {
      reject(new RequestFailure(`${op} ${quoted}: unsupported protocol scheme "${u.protocol.slice(0, -1)}"`, true));
      return;
    }
    const headers: Record<string, string | string[]> = {};
    const add = (k: string, v: string) => {
      const prev = headers[k];
      headers[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    };
    for (const [k, v] of opts.headers) if (k !== "Host") add(k, v);
    if (!opts.hasCustomHeaders || !opts.headers.some(([k]) => k === "User-Agent")) {
      headers["User-Agent"] = opts.hasCustomHeaders ? USER_AGENT : "Go-http-client/1.1";
    }
    for (const [k, v] of extraHeaders) headers[k] = v;
    // Like Go's transport: ask for gzip unless the caller chose an encoding, and undo it below.
    const autoGzip = !opts.headers.some(([k]) => k === "Accept-Encoding") && method !== "HEAD";
    if (autoGzip) headers["Accept-Encoding"] = "gzip";
    const hostHeader = opts.headers.find(([k]) => k === "Host");
    if (hostHeader) headers.Host = hostHeader[1];
    if (body !== null && (body.length > 0 || !["GET", "HEAD"].includes(method))) headers["Content-Length"] = String(body.length);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      reject(timedOut(op, url));
      return;
    }
    const { http: httpModule, https: httpsModule, httpAgent, httpsAgent } = transport();
    const mod = u.protocol === "https:" ? httpsModule : httpModule;
    const reqOpts: https.RequestOptions = {
      method: method || "GET",
      headers,
      ...(opts.socketPath ? { socketPath: opts.socketPath } : {}),
      ...(u.protocol === "https:" ? (opts.tls as https.RequestOptions) : {}),
      agent: opts.socketPath ? false : u.protocol === "https:" ? httpsAgent : httpAgent,
    };
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      req.destroy();
      reject(timedOut(op, url));
    }, remaining);
    const req = mod.request(u, reqOpts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        const hs: [string, string[]][] = [];
        const distinct = res.headersDistinct as Record<string, string[]>;
        let data = Buffer.concat(chunks);
        const gz = autoGzip && (distinct["content-encoding"] ?? [])[0]?.toLowerCase() === "gzip";
        if (gz) {
          try {
            data = transport().zlib.gunzipSync(data);
          } catch (e) {
            reject(new RequestFailure(`${op} ${quoted}: gzip: ${(e as Error).message}`, true));
            return;
          }
        }
        for (const k of Object.keys(distinct)) {
          if (k === "transfer-encoding") continue;
          if (gz && (k === "content-encoding" || k === "content-length")) continue;
          hs.push([k, distinct[k]]);
        }
        resolve({
          status: `${res.statusCode} ${res.statusMessage ?? ""}`.trimEnd(),
          statusCode: res.statusCode ?? 0,
          headers: hs,
          body: data,
        });
      });
      res.on("error", (e) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(new RequestFailure(`${op} ${quoted}: ${describeNetworkError(e as NodeJS.ErrnoException, u)}`, true));
      });
    });
    req.on("error", (e) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new RequestFailure(`${op} ${quoted}: ${describeNetworkError(e as NodeJS.ErrnoException, u)}`, true));
    });
    if (body !== null && body.length > 0) req.write(body);
    req.end();
  });
}

async function perform(opts: RequestOptions, extraHeaders: [string, string][] = []): Promise<RawResponse> {
  const deadline = Date.now() + (opts.timeoutMs > 0 ? opts.timeoutMs : 1e12);
  let attempt = 0;
  for (;;) {
    try {
      let method = opts.method;
      let url = opts.url;
      let body = opts.body ?? Buffer.alloc(0);
      for (let hops = 0; ; hops++) {
        const res = await once(opts, method, url, body, deadline, extraHeaders);
        const loc = res.headers.find(([k]) => k === "location");
        if (!opts.enableRedirect || ![301, 302, 303, 307, 308].includes(res.statusCode) || !loc) return res;
        if (hops >= 9) throw new RequestFailure(`${goMethodName(method)} ${JSON.stringify(loc[1][0])}: stopped after 10 redirects`, true);
        url = new URL(loc[1][0], url).toString();
        if (res.statusCode === 303 || ((res.statusCode === 301 || res.statusCode === 302) && method === "POST")) {
          method = method === "HEAD" ? "HEAD" : "GET";
          body = Buffer.alloc(0);
        }
      }
    } catch (e) {
      if (!(e instanceof RequestFailure) || attempt >= opts.maxRetries) throw e;
      attempt++;
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
    }
  }
}

/** The response as a Value, so that it can pass through ctx.awaitValue. */
function rawToValue(r: RawResponse): Value {
  const headers: PlainObject = emptyObject();
  for (const [k, vs] of r.headers) headers[k] = vs;
  return { status: r.status, status_code: r.statusCode, headers, body_b64: r.body.toString("base64") };
}

function valueToRaw(v: PlainObject): RawResponse {
  const hs = v.headers as PlainObject;
  return {
    status: v.status as string,
    statusCode: v.status_code as number,
    headers: Object.keys(hs).map((k) => [k, hs[k] as string[]]),
    body: Buffer.from(v.body_b64 as string, "base64"),
  };
}

// ---- Response formatting --------------------------------------------------------------------

function header(r: RawResponse, name: string): string {
  const h = r.headers.find(([k]) => k === name);
  return h && h[1].length > 0 ? h[1][0] : "";
}

function isJSONType(contentType: string): boolean {
  const t = contentType.split(";")[0].trim().toLowerCase();
  const parts = t.split("/");
  if (parts.length !== 2 || parts[0] !== "application") return false;
  return parts[1] === "json" || parts[1].endsWith("+json");
}

function formatResponse(r: RawResponse, forceJSON: boolean, forceYAML: boolean): Value {
  const text = r.body.toString("utf8");
  const ct = header(r, "content-type");
  let body: Value = null;
  if (forceJSON || isJSONType(ct)) {
    try {
      body = parseJSONValue(text);
    } catch {
      body = null;
    }
  } else if (forceYAML || ct.includes("application/yaml") || ct.includes("application/x-yaml")) {
    try {
      body = parseYAML(text);
    } catch {
      body = null;
    }
  }
  const headers: PlainObject = emptyObject();
  for (const [k, vs] of r.headers) headers[k.toLowerCase()] = vs;
  return { status: r.status, status_code: r.statusCode, body, raw_body: text, headers };
}

// ---- Caches ---------------------------------------------------------------------------------

interface InterEntry {
  response: RawResponse;
  expiresAtMs: number;
}

const INTER_QUERY_MAX = 1000;
const interQueryCache = new Map<string, InterEntry>();

/** Drop everything from the inter-query cache (for tests and hosts). */
export function clearHTTPSendCache(): void {
  interQueryCache.clear();
}

function interPut(key: string, e: InterEntry): void {
  interQueryCache.delete(key);
  interQueryCache.set(key, e);
  while (interQueryCache.size > INTER_QUERY_MAX) interQueryCache.delete(interQueryCache.keys().next().value!);
}

function cacheControl(r: RawResponse): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of header(r, "cache-control").split(",")) {
    const p = part.trim();
    if (!p) continue;
    const items = p.split("=");
    if (items.length === 1) out.set(p, "");
    else if (items.length === 2) out.set(items[0].trim(), items[1]);
  }
  return out;
}

function expiryFromHeaders(r: RawResponse): number {
  const cc = cacheControl(r);
  const maxAge = cc.get("max-age");
  if (maxAge !== undefined) {
    if (!/^\d+$/.test(maxAge)) return 0;
    const date = Date.parse(header(r, "date"));
    if (Number.isNaN(date)) return 0;
    return date + Math.min(Number(maxAge), 2147483647) * 1000;
  }
  const exp = Date.parse(header(r, "expires"));
  return Number.isNaN(exp) ? 0 : exp;
}

/** Per-query memory of finished results (responses and errors), keyed by the request. */
const perQuery = new WeakMap<Map<string, Value>, Map<string, { value?: Value; error?: Error }>>();

function queryCache(ctx: BuiltinContext): Map<string, { value?: Value; error?: Error }> {
  let m = perQuery.get(ctx.cache);
  if (!m) {
    m = new Map();
    perQuery.set(ctx.cache, m);
  }
  return m;
}

function boolField(req: PlainObject, key: string): boolean {
  const v = req[key];
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new BuiltinError(`invalid value for "${key}" field`);
  return v;
}

/** The cache key: the request without the ignored headers. */
function cacheKey(req: PlainObject): string {
  const key: PlainObject = emptyObject();
  for (const k of Object.keys(req)) key[k] = req[k];
  const ignored = req.cache_ignored_headers;
  if (ignored !== undefined && isPlainObject(req.headers) && Array.isArray(ignored)) {
    const hs: PlainObject = emptyObject();
    for (const [k, v] of objectEntries(req.headers)) if (!ignored.includes(k)) hs[String(k)] = v;
    key.headers = hs;
  }
  key.cache_ignored_headers = null;
  return "http.send:" + canonical(key);
}

// ---- The builtin ----------------------------------------------------------------------------

function errorResult(e: Error): Value {
  const network = e instanceof RequestFailure && e.network;
  let message = e instanceof RequestFailure && e.quiet ? e.quiet : e.message;
  if (!network && !message.startsWith(NAME + ": ")) message = `${NAME}: ${message}`;
  return {
    status_code: 0,
    error: { code: network ? "eval_http_send_network_error" : "eval_http_send_internal_error", message },
  };
}

/** OPA's capabilities `allow_net`: only the listed hosts may be reached (absent: any). */
function checkAllowNet(req: PlainObject, ctx: BuiltinContext): void {
  if (ctx.allowNet === undefined || typeof req.url !== "string") return;
  let host: string;
  try {
    host = new URL(req.url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return; // an unparsable URL fails below with its own error
  }
  if (!ctx.allowNet.includes(host)) throw new BuiltinError(`unallowed host: ${host}`);
}

function send(req: PlainObject, ctx: BuiltinContext): Value {
  validateRequestKeys(req, 1);
  checkAllowNet(req, ctx);
  const key = cacheKey(req);
  const mine = queryCache(ctx);
  const seen = mine.get(key);
  if (seen) {
    if (seen.error) throw seen.error;
    return seen.value!;
  }

  const useCache = boolField(req, "cache");
  const forceCache = boolField(req, "force_cache");
  let forceSeconds = 0;
  if (forceCache) {
    const d = req.force_cache_duration_seconds;
    if (d === undefined) throw new BuiltinError("'force_cache' set but 'force_cache_duration_seconds' parameter is missing");
    if (!isNumber(d) || !isInteger(d)) throw new BuiltinError(`strconv.ParseInt: parsing ${JSON.stringify(goJSON(d))}: invalid syntax`);
    forceSeconds = toJsNumber(d);
  }
  const forceJSON = boolField(req, "force_json_decode");
  const forceYAML = boolField(req, "force_yaml_decode");
  const interQuery = useCache || forceCache;
  const nowMs = Number(ctx.nowNs / 1000000n);

  let extraHeaders: [string, string][] = [];
  let revalidating: InterEntry | undefined;
  if (interQuery) {
    const hit = interQueryCache.get(key);
    if (hit) {
      if (nowMs < hit.expiresAtMs) {
        const v = formatResponse(hit.response, forceJSON, forceYAML);
        mine.set(key, { value: v });
        return v;
      }
      const etag = header(hit.response, "etag");
      const lastModified = header(hit.response, "last-modified");
      if (etag) extraHeaders.push(["If-None-Match", etag]);
      if (lastModified) extraHeaders.push(["If-Modified-Since", lastModified]);
      if (extraHeaders.length > 0) revalidating = hit;
      else interQueryCache.delete(key);
    }
  }

  const opts = parseOptions(req);
  const outcome = ctx.awaitValue(key + (revalidating ? ":revalidate" : ""), async (): Promise<Value> => {
    try {
      return { ok: rawToValue(await perform(opts, extraHeaders)) };
    } catch (e) {
      const network = e instanceof RequestFailure && e.network;
      const quiet = e instanceof RequestFailure && e.quiet ? e.quiet : null;
      return { failed: { message: (e as Error).message, network, quiet } };
    }
  }) as PlainObject;

  if (outcome.failed) {
    const f = outcome.failed as PlainObject;
    const err = f.network
      ? new RequestFailure(f.message as string, true, typeof f.quiet === "string" ? f.quiet : undefined)
      : new BuiltinError(f.message as string);
    mine.set(key, { error: err });
    throw err;
  }
  let raw = valueToRaw(outcome.ok as PlainObject);

  if (revalidating) {
    interQueryCache.delete(key);
    if (raw.statusCode === 304) {
      const merged = new Map(revalidating.response.headers);
      for (const [k, vs] of raw.headers) merged.set(k, vs);
      raw = { ...revalidating.response, headers: Array.from(merged.entries()) };
    }
  }
  const value = formatResponse(raw, forceJSON, forceYAML);
  if (interQuery) {
    const storable = forceSeconds > 0 || !cacheControl(raw).has("no-store");
    if (storable && CACHEABLE_CODES.has(raw.statusCode)) {
      const expiresAtMs = forceSeconds > 0 ? nowMs + forceSeconds * 1000 : expiryFromHeaders(raw);
      interPut(key, { response: raw, expiresAtMs });
    }
  }
  mine.set(key, { value });
  return value;
}

function httpSend(args: Value[], ctx: BuiltinContext): Value | undefined {
  const req = args[0];
  if (!isPlainObject(req)) throw operandError(NAME, 1, "object", req);
  let raiseError = true;
  if (req.raise_error !== undefined) {
    if (typeof req.raise_error !== "boolean") throw new BuiltinError(`${NAME}: invalid value for raise_error field`);
    raiseError = req.raise_error;
  }
  try {
    return send(req, ctx);
  } catch (e) {
    if (!(e instanceof Error) || !(e instanceof BuiltinError || e instanceof BuiltinTypeError || e instanceof RequestFailure)) throw e;
    if (!raiseError) return errorResult(e);
    const message = e.message.startsWith(NAME + ": ") ? e.message : `${NAME}: ${e.message}`;
    if (e instanceof BuiltinTypeError) throw new BuiltinTypeError(message);
    throw new BuiltinError(message);
  }
}

export const builtins: Builtin[] = [
  {
    name: NAME,
    decl: T.fn([T.objectOf(T.string, T.any)], T.objectOf(T.any, T.any)),
    impl: httpSend,
    nondeterministic: true,
  },
];
