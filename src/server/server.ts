// `portcullis run --server`: OPA's REST API (v1 data, policies, query, health, config, status,
// metrics; v0 data and the default decision at POST /) over Node's HTTP server, answering with
// OPA's status codes, error codes and JSON bodies (docs/server.md lists where it differs).
//
// Threads and state: the main thread owns the state (policies and base documents) and applies
// writes one at a time, synchronously, after validating them on its own Replica (a policy that
// does not compile, or data that conflicts with a rule, is refused and changes nothing); an
// accepted change is then sent to every evaluation worker (pool.ts). Reads are evaluated in the
// workers, each on one immutable engine snapshot, with a deadline per request. The main thread
// only parses requests, routes, writes and answers, so /health and /metrics answer while
// evaluations run.

import http from "node:http";
import https from "node:https";
import { unlinkSync, existsSync, readFileSync, watch, type FSWatcher } from "node:fs";
import { gunzip, gunzipSync, gzip } from "node:zlib";
import type { AddressInfo } from "node:net";
import type tls from "node:tls";
import { decodeFirstJSON, parseJSON, JSONSyntaxError } from "../gotext/json.ts";
import { goJSON } from "../gotext/plainjson.ts";
import { moduleToJSON } from "../rego/astjson.ts";
import { RegoError } from "../rego/errors.ts";
import { parseQuery as parseRegoQuery, parseTerm } from "../rego/parser.ts";
import { fromJS, isPlainObject, makeObject, type Value } from "../rego/value.ts";
import { PACKAGE_VERSION } from "../package.ts";
import type jsyaml from "js-yaml";
import { lazyRequire } from "../lazy.ts";
import { Replica, errorJSON, pathQuery, type EvalReply, type EvalRequest, type ErrorJSON } from "./replica.ts";
import { EvalPool, type CancelToken } from "./pool.ts";
import { StorageError, exists, makeDir, parsePathEscaped, pathUnescape, readPath, writePath, type PatchOp } from "./store.ts";
import { Raw, object, body as jsonBody, indent } from "./json.ts";
import { Metrics } from "./metrics.ts";
import { Logger } from "./log.ts";
import { TLS_VERSIONS, clientIdentity, readCAFile } from "./clientcert.ts";
import type { ExplainMode } from "../rego/trace.ts";
import { decisionPath, type ServerConfig } from "./config.ts";
import { BundlePlugin } from "./bundleplugin.ts";
import { DecisionLogger } from "./decisionlog.ts";
import { StatusPlugin } from "./statusplugin.ts";
import { rawToValue, manifestRoots, type Bundle } from "../bundle/index.ts";
import { manifestDocument } from "../bundle/manifest.ts";
import { loadServerFiles, mergeAt, eraseAt, checkBundleRoots, joinPath, splitPrefix, type LoadedState, type BundleReadOptions } from "./files.ts";
import { LoadError } from "./files.ts";

const yaml = lazyRequire<typeof jsyaml>("js-yaml");

export interface ServerOptions {
  /** --ready-timeout: open the listeners only once every bundle is activated, failing after this long (0: no wait). */
  readyTimeoutMs?: number;
  /** Policy and data files or directories (bundle directories with bundleMode). */
  paths: string[];
  bundleMode: boolean;
  /** Bundle signature verification and limits (--verification-key, --skip-verify…). */
  bundleOptions?: BundleReadOptions;
  /** Reload the paths when they change (a new snapshot, switched atomically). */
  watch: boolean;
  /** Listening addresses: host:port, :port, or unix:///path. */
  addrs: string[];
  /** Addresses answering only /health and /metrics. */
  diagnosticAddrs: string[];
  regoVersion: "v0" | "v1";
  config: ServerConfig;
  logger: Logger;
  authentication: "off" | "token" | "tls";
  authorization: "off" | "basic";
  /** Seconds to wait for requests in flight when shutting down. */
  shutdownGracePeriod: number;
  /** Deadline of every request, in milliseconds (0: none). */
  requestTimeoutMs: number;
  /** Evaluation worker threads (0: evaluate on the main thread). */
  workers: number;
  /** Allow http.send and net.lookup_ip_addr (off by default). */
  networkBuiltins: boolean;
  /** HTTPS; `caFile`: the CA certificates client certificates are verified against (reloaded like the others); `minVersion`: OPA's --min-tls-version (default 1.2). */
  tls?: { certFile: string; keyFile: string; caFile?: string; minVersion?: "1.0" | "1.1" | "1.2" | "1.3" };
  /** Where print() output of policies goes (default: the logger at info). */
  print?: (line: string) => void;
}

export interface RunningServer {
  /** The addresses listened on (host:port with the actual port, or unix://path). */
  addresses: string[];
  diagnosticAddresses: string[];
  /** Stop: no new connections, wait for requests in flight (up to the grace period), stop the workers. */
  close(): Promise<void>;
  /** Reload the files now (what --watch does on a change); resolves when applied or refused. */
  reload(): Promise<void>;
  /** The evaluation pool (tests). */
  pool: EvalPool;
  /** Bundle downloads, when the configuration has `bundles` (tests, status). */
  bundles?: BundlePlugin;
  /** Decision logs, when the configuration has `decision_logs` (tests). */
  decisionLogs?: DecisionLogger;
  status?: StatusPlugin;
}

/** A finished answer. */
interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

interface Req {
  method: string;
  /** The escaped path, as sent. */
  rawPath: string;
  /** The unescaped path. */
  path: string;
  query: URLSearchParams;
  rawQuery: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  /** The client's address (host:port) and the request's number, for decision logs. */
  clientAddr?: string;
  reqId?: number;
  body: () => Promise<Buffer>;
  /** Cancelled when the client goes away before the answer. */
  cancel: CancelToken;
  deadline: number | undefined;
  identity?: string;
  /** --authentication=tls: the client's certificates as Go's x509.Certificate marshals them. */
  clientCertificates?: Value[];
  /** The body parsed by the authorizer (OPA keeps it for the handler). */
  parsedBody?: { value: unknown };
}

class BadRequest extends Error {}

/** OPA's error body: always indented (ErrorV1.Bytes uses MarshalIndent), newline at the end. */
function errorAnswer(status: number, code: string, message: string, errors?: ErrorJSON[]): Answer {
  const entries: [string, unknown][] = [
    ["code", code],
    ["message", message],
  ];
  if (errors && errors.length > 0) entries.push(["errors", new Raw(`[${errors.map(errorEntry).join(",")}]`)]);
  return { status, headers: { "Content-Type": "application/json" }, body: indent(object(entries)) + "\n" };
}

/** One error in ast.Error's field order: code, message, location {file, row, col}, details. */
function errorEntry(e: ErrorJSON): string {
  const loc = e.location ? new Raw(object([["file", e.location.file], ["row", e.location.row], ["col", e.location.col]])) : undefined;
  return object([
    ["code", e.code],
    ["message", e.message],
    ["location", loc],
    ["details", e.details ? new Raw(object([["line", e.details.line], ["idx", e.details.idx]])) : undefined],
  ]);
}

/**
 * OPA's `details` of the parser's token errors ("unexpected … token"): the source line and an index in it — the error's column, or,
 * at the end of the input, the last non-blank character of the last non-blank line.
 */
function withParseDetails(errs: ErrorJSON[], source: string): ErrorJSON[] {
  const lines = source.split("\n");
  return errs.map((e) => {
    // Only the parser's token errors carry details (not, e.g., the v1 keyword checks).
    if (e.code !== "rego_parse_error" || !e.location || e.details || !e.message.startsWith("unexpected ")) return e;
    if (e.message.startsWith("unexpected eof token")) {
      for (let i = Math.min(e.location.row, lines.length) - 1; i >= 0; i--) {
        const t = lines[i].replace(/\s+$/, "");
        if (t !== "") return { ...e, details: { line: lines[i], idx: t.length - 1 } };
      }
      return e;
    }
    const line = lines[e.location.row - 1];
    if (line === undefined || e.location.col < 1) return e;
    return { ...e, details: { line, idx: e.location.col - 1 } };
  });
}

function ok(text: string, pretty: boolean): Answer {
  return { status: 200, headers: { "Content-Type": "application/json" }, body: jsonBody(text, pretty) };
}

const noContent: Answer = { status: 204 };

/** Go's getBoolParam: present with no value → ifEmpty; otherwise any value equal to "true" (any case). */
function boolParam(r: Req, name: string): boolean {
  if (r.rawQuery === "") return false;
  const vals = r.query.getAll(name);
  if (vals.length === 0) return false;
  if (vals.length === 1 && vals[0] === "") return true;
  return vals.some((v) => v.toLowerCase() === "true");
}

/** ast.Errors' text: "1 error occurred: file:row: code: message" (row:col when there is no file). */
function astErrorsText(errs: ErrorJSON[]): string {
  const one = (e: ErrorJSON) => {
    const where = e.location ? (e.location.file ? `${e.location.file}:${e.location.row}: ` : `${e.location.row}:${e.location.col}: `) : "";
    return `${where}${e.code}: ${e.message}`;
  };
  if (errs.length === 1) return `1 error occurred: ${one(errs[0])}`;
  return `${errs.length} errors occurred:\n${errs.map(one).join("\n")}`;
}

/** Go's encoding/json nesting limit. */
const MAX_JSON_DEPTH = 10000;

/** Go's scanner error for JSON nested deeper than 10,000 levels (checked before any decoding). */
function checkJSONDepth(text: string): void {
  let opens = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) opens++;
  }
  if (opens <= MAX_JSON_DEPTH) return;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (++depth > MAX_JSON_DEPTH) throw new JSONSyntaxError(`invalid character '${c}' exceeded max depth`);
    } else if (c === "]" || c === "}") depth--;
  }
}

/** Go's json.Decoder: the first value of the text (undefined when blank), with Go's errors. */
function goDecode(text: string): Value | undefined {
  checkJSONDepth(text);
  return decodeFirstJSON(text);
}

/** Go's json.Unmarshal: exactly one value, with Go's errors. */
function goUnmarshal(text: string): Value {
  checkJSONDepth(text);
  return parseJSON(text);
}

/** JSON texts that JSON.parse may not read exactly (long numbers, exponents, escaped surrogates). */
const RISKY_JSON = /\d{16}|\d[eE]|\\u[dD][89a-fA-F]/;

/** A JSON object body read natively when that is exact; undefined for anything else (the Go-style reader decides). */
function fastObject(text: string): Record<string, unknown> | undefined {
  if (RISKY_JSON.test(text)) return undefined;
  checkJSONDepth(text);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** A storage error as writer.ErrorAuto answers it. */
function storageAnswer(e: StorageError): Answer {
  switch (e.code) {
    case "storage_not_found_error":
      return errorAnswer(404, "resource_not_found", e.message);
    case "storage_write_conflict_error":
      return errorAnswer(404, "resource_conflict", e.message);
    case "storage_invalid_patch_error":
      return errorAnswer(400, "invalid_parameter", e.message);
    default:
      return errorAnswer(500, "internal_error", e.message);
  }
}

/** A Go JSON decoding error's text (what OPA puts in its messages). */
function jsonErrorText(e: unknown): string {
  if (e instanceof JSONSyntaxError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** The Go type name of a decoded JSON value (for "cannot unmarshal X into Go value of type Y"). */
function goKind(v: Value): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "string") return "string";
  if (Array.isArray(v)) return "array";
  if (isPlainObject(v)) return "object";
  return "number";
}

/** OPA's stringPathToRef: URL path segments, unescaped; integers are array indices. */
function refParts(urlPath: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (let x of urlPath.split("/")) {
    if (x === "") continue;
    const u = pathUnescape(x);
    if (u !== undefined) x = u;
    if (x.includes('"')) throw new BadRequest(`invalid ref term '${x}'`);
    if (/^[+-]?[0-9]+$/.test(x) && Number.isSafeInteger(Number(x))) out.push(Number(x));
    else out.push(x);
  }
  return out;
}

/** Go's http.Header keys: canonical MIME form (content-type → Content-Type). */
function canonicalHeader(k: string): string {
  return k
    .split("-")
    .map((p) => (p.length ? p[0].toUpperCase() + p.slice(1).toLowerCase() : p))
    .join("-");
}

function headerMap(raw: string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) (out[canonicalHeader(raw[i])] ??= []).push(raw[i + 1]);
  return out;
}

function queryMap(q: URLSearchParams): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of q) (out[k] ??= []).push(v);
  return out;
}

/** Go's url.Values parsing (what r.URL.Query() gives); `+` is a space. */
function parseQuery(raw: string): URLSearchParams {
  return new URLSearchParams(raw.replace(/;/g, "%3B"));
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  const log = o.logger;
  const runtime = { config: o.config.raw, env: {}, version: PACKAGE_VERSION, commit: "" };
  const replicaConfig = { regoVersion: o.regoVersion, networkBuiltins: o.networkBuiltins, runtime };
  const main = new Replica(replicaConfig);

  // ---- state: policies (id → text) and base documents, changed only by the functions below.
  // OPA's store starts with data.system.version (here: Portcullis's version).
  let data: Value = { system: { version: { build_commit: "", build_hostname: "", build_timestamp: "", version: PACKAGE_VERSION } } };
  const loaded = loadServerFiles(o.paths, o.bundleMode, o.bundleOptions, o.regoVersion);
  let fileIds = new Set(loaded.policies.map((p) => p.id));
  let bundles = loaded.bundles;
  for (const d of loaded.documents) data = mergeAt(data, d.path, d.value);
  // Each bundle's manifest is at data.system.bundles.<name> (OPA's store layout).
  for (const b of bundles) data = mergeAt(data, ["system", "bundles", b.name], makeObject([["etag", ""], ["manifest", b.manifest]]));
  main.apply({ policies: loaded.policies, data: goJSON(data), dataValue: data });
  const pool = await EvalPool.start(o.workers, replicaConfig, { policies: main.policyTexts(), data: main.data() });

  const metrics = new Metrics();
  metrics.gauge("portcullis_eval_pending", "Evaluations waiting for or running on a worker.", "gauge", () => pool.pending());
  metrics.gauge("portcullis_eval_workers", "Evaluation worker threads.", "gauge", () => pool.size);
  metrics.gauge("portcullis_eval_workers_replaced_total", "Workers replaced after missing a deadline.", "counter", () => pool.replaced);

  /** Commit a new state: validated on the main replica, then sent to the workers. */
  function commit(u: { policies?: { id: string; raw: string }[]; data?: Value }): void {
    const text = u.data === undefined ? undefined : goJSON(u.data);
    main.apply({ policies: u.policies, data: text, dataValue: u.data });
    if (u.data !== undefined) data = u.data;
    pool.update({ policies: u.policies, data: text });
  }

  // ---- bundles downloaded from services (config `bundles`): each activation is one commit

  /** Policy ids of each downloaded bundle's active revision. */
  const serviceBundleIds = new Map<string, Set<string>>();

  /** Switch to a bundle revision: its roots erased and rewritten, its policies replaced, in one commit; throws to refuse. */
  function activateBundle(name: string, b: Bundle, etag: string): void {
    const roots = manifestRoots(b.manifest);
    const others = bundles.filter((x) => x.name !== name);
    checkBundleRoots([...others.map((x) => ({ name: x.name, roots: x.roots })), { name, roots }]);
    const prev = bundles.find((x) => x.name === name);
    let next = data;
    for (const r of [...(prev?.roots ?? []), ...roots]) next = eraseAt(next, r === "" ? [] : r.split("/"));
    next = mergeAt(next, [], rawToValue(b.data));
    const manifest = rawToValue(manifestDocument(b.manifest));
    next = mergeAt(next, ["system", "bundles", name], makeObject([["etag", etag], ["manifest", manifest]]));
    const oldIds = serviceBundleIds.get(name) ?? new Set<string>();
    const fresh = b.modules.map((m) => ({ id: joinPath(name, m.path), raw: m.raw }));
    const freshIds = new Set(fresh.map((p) => p.id));
    const policies = [...main.policyTexts().filter((p) => !oldIds.has(p.id) && !freshIds.has(p.id)), ...fresh];
    commit({ policies, data: next });
    serviceBundleIds.set(name, freshIds);
    bundles = [...others, { name, revision: b.manifest.revision, roots, manifest }];
  }

  const bundlePlugin = o.config.bundles ? new BundlePlugin(o.config.bundles, activateBundle, log, o.regoVersion) : undefined;

  // ---- decision logs (config `decision_logs`): mask and drop policies run on the main replica
  const decisionLogger = o.config.decisionLogs
    ? new DecisionLogger(o.config.decisionLogs, o.config.labels, async (path, input) => {
        const reply = await main.evaluate({ kind: "path", path, input, deadline: Date.now() + 1000 });
        if (!reply.ok) throw new Error(reply.errors.map((e) => `${e.code}: ${e.message}`).join("; "));
        return reply.kind === "path" && reply.defined ? reply.value : undefined;
      }, log)
    : undefined;

  // ---- status plugin (config `status`): listens to the bundle plugin and the decision logger
  const statusPlugin = o.config.status ? new StatusPlugin(o.config.status, o.config.labels, { bundles: bundlePlugin, decisionLogs: decisionLogger }, log) : undefined;
  if (statusPlugin && bundlePlugin) bundlePlugin.onChange = () => statusPlugin.changed("bundle");
  if (statusPlugin && decisionLogger) decisionLogger.onChange = () => statusPlugin.changed("decision log");

  /** Log a decision of the data APIs (nothing when decision logs are off). */
  function logDecision(r: Req, decisionId: string | undefined, path: (string | number)[], input: string | undefined, result: string | undefined, metrics: Record<string, number>, error?: ErrorJSON): void {
    if (!decisionLogger || decisionId === undefined) return;
    void decisionLogger.record({
      decisionId,
      path: path.join("/"),
      input,
      result,
      requestedBy: r.clientAddr ?? "",
      reqId: r.reqId ?? 0,
      metrics,
      bundles: bundles.map((b) => ({ name: b.name, revision: b.revision })),
      error,
    });
  }

  /** Bundle roots own their paths: writes under them are refused (OPA's checkPathScope). */
  function checkPathScope(path: readonly string[]): void {
    if (bundles.length === 0) return;
    const spath = path.join("/");
    if (spath === "") throw new BadRequest("can't write to document root with bundle roots configured");
    for (const b of bundles) {
      for (const root of b.roots) {
        if (root === "") throw new BadRequest(`all paths owned by bundle "${b.name}"`);
        const rp = root.split("/");
        let owned = true;
        for (let i = 0; i < path.length && i < rp.length; i++) if (path[i] !== rp[i]) owned = false;
        if (owned) throw new BadRequest(`path ${spath} is owned by bundle "${b.name}"`);
      }
    }
  }

  /**
   * An evaluation's error as OPA answers it. For ad-hoc queries, parse and compile errors are 400
   * with the errors listed (locations in the query have no file name); for data paths, where
   * the query is OPA's own, a compile error is an internal error whose message is the errors' text.
   */
  function evalError(r: EvalReply & { ok: false }, kind: "query" | "path" = "path"): Answer {
    const errs = r.errors.map((e) => (e.location?.file === "query" ? { ...e, location: { ...e.location, file: "" } } : e));
    if (r.stage === "parse" && errs.length === 1 && errs[0].message === "empty query") return errorAnswer(500, "internal_error", "cannot evaluate empty query");
    if (kind === "path" && r.stage !== "eval") return errorAnswer(500, "internal_error", astErrorsText(errs));
    if (r.stage === "parse") return errorAnswer(400, "invalid_parameter", "error(s) occurred while parsing query", errs);
    if (r.stage === "compile") return errorAnswer(400, "invalid_parameter", "error(s) occurred while compiling query", errs);
    return errorAnswer(500, "internal_error", "error(s) occurred while evaluating query", errs);
  }

  function evalRequest(r: Req, req: EvalRequest): Promise<EvalReply> {
    return pool.eval({ ...req, deadline: r.deadline }, r.cancel);
  }

  async function readBody(r: Req): Promise<string> {
    let buf = await r.body();
    if ((r.headers["content-encoding"] ?? "").includes("gzip")) {
      buf = await new Promise<Buffer>((resolve, reject) =>
        gunzip(buf, { maxOutputLength: o.config.gzipMaxLength }, (e, out) => (e ? reject(new BadRequest(/maxOutputLength|buffer/i.test(e.message) ? "gzip payload too large" : e.message)) : resolve(out))),
      );
    }
    return buf.toString("utf8");
  }

  /** A YAML or JSON body (Content-Type containing "yaml" selects YAML); undefined when empty. */
  function decodeBody(r: Req, text: string): Value | undefined {
    if ((r.headers["content-type"] ?? "").includes("yaml")) {
      if (text.length === 0) return undefined;
      return fromJS(yaml().load(text));
    }
    return goDecode(text);
  }

  function metricsEntry(r: Req, m: Record<string, number>): Raw | undefined {
    if (!boolParam(r, "metrics") && !boolParam(r, "instrument")) return undefined;
    return new Raw(goJSON(m));
  }

  function provenance(r: Req): Raw | undefined {
    if (!boolParam(r, "provenance")) return undefined;
    const p: [string, unknown][] = [
      ["version", PACKAGE_VERSION],
      ["build_commit", ""],
      ["build_timestamp", ""],
      ["build_hostname", ""],
    ];
    if (bundles.length > 0) p.push(["bundles", Object.fromEntries(bundles.map((b) => [b.name, { revision: b.revision }]))]);
    return new Raw(object(p));
  }

  // ---- handlers

  async function dataGetOrPost(r: Req, urlPath: string, post: boolean): Promise<Answer> {
    const t0 = process.hrtime.bigint();
    let input: string | undefined;
    let inputMissing = false;
    if (post) {
      let doc: Value | undefined;
      try {
        if (r.parsedBody) doc = r.parsedBody.value as Value;
        else {
          const text = await readBody(r);
          // The common case first: a plain JSON object body, read natively, its input passed on as text.
          const fast = (r.headers["content-type"] ?? "").includes("yaml") ? undefined : fastObject(text);
          if (fast !== undefined) {
            const inp = fast.input;
            if (inp === undefined || inp === null) inputMissing = true;
            else input = JSON.stringify(inp);
            return finishData(r, t0, urlPath, input, post, inputMissing);
          }
          doc = decodeBody(r, text);
        }
      } catch (e) {
        if (e instanceof BodyTooLarge) throw e;
        if (e instanceof BadRequest) return errorAnswer(400, "invalid_parameter", `could not decompress the body: ${e.message}`);
        return errorAnswer(400, "invalid_parameter", `body contains malformed input document: ${jsonErrorText(e)}`);
      }
      if (doc !== undefined && doc !== null && !isPlainObject(doc)) {
        return errorAnswer(400, "invalid_parameter", `body contains malformed input document: json: cannot unmarshal ${goKind(doc)} into Go value of type types.alias`);
      }
      const inp = doc === undefined || doc === null ? undefined : (doc as Record<string, Value>).input;
      if (inp === undefined || inp === null) inputMissing = true;
      else input = goJSON(inp);
    } else {
      const vals = r.query.getAll("input");
      if (vals.length > 0) {
        try {
          input = goJSON(goUnmarshal(vals[vals.length - 1]));
        } catch (e) {
          return errorAnswer(400, "invalid_parameter", `parameter contains malformed input document: ${jsonErrorText(e)}`);
        }
      }
    }
    return finishData(r, t0, urlPath, input, post, inputMissing);
  }

  async function finishData(r: Req, t0: bigint, urlPath: string, input: string | undefined, post: boolean, inputMissing: boolean): Promise<Answer> {
    const tParsed = process.hrtime.bigint();
    let path: (string | number)[];
    try {
      path = refParts(urlPath);
    } catch (e) {
      return errorAnswer(500, "internal_error", `invalid_parameter: invalid path: ${(e as Error).message}`);
    }
    const reply = await evalRequest(r, { kind: "path", path, input, strict: boolParam(r, "strict-builtin-errors"), explain: explainOf(r) });
    if (!reply.ok) {
      // OPA logs a decision that failed in evaluation with its first error (timers it did not reach are absent)
      if (decisionLogger && reply.stage === "eval" && reply.errors.length > 0) {
        const m = { counter_server_query_cache_hit: 0, timer_rego_input_parse_ns: Number(tParsed - t0), timer_server_handler_ns: Number(process.hrtime.bigint() - t0) };
        logDecision(r, DecisionLogger.newDecisionId(), path, input, undefined, m, reply.errors[0]);
      }
      return evalError(reply);
    }
    if (reply.kind !== "path") throw new Error("unexpected reply");
    const m = {
      counter_server_query_cache_hit: 0,
      timer_rego_input_parse_ns: Number(tParsed - t0),
      timer_rego_query_compile_ns: reply.compileNs,
      timer_rego_query_eval_ns: reply.evalNs,
      timer_server_handler_ns: Number(process.hrtime.bigint() - t0),
    };
    const decisionId = decisionLogger ? DecisionLogger.newDecisionId() : undefined;
    logDecision(r, decisionId, path, input, reply.defined ? reply.value : undefined, m);
    const entries: [string, unknown][] = [
      ["decision_id", decisionId],
      ["provenance", provenance(r)],
      ["explanation", reply.explanation !== undefined ? new Raw(reply.explanation) : undefined],
      ["metrics", metricsEntry(r, m)],
      ["result", reply.defined ? new Raw(reply.value!) : undefined],
      ["warning", post && inputMissing ? { code: "api_usage_warning", message: "'input' key missing from the request" } : undefined],
    ];
    return ok(object(entries), boolParam(r, "pretty"));
  }

  async function v0Data(r: Req, urlPath: string): Promise<Answer> {
    let input: string;
    try {
      let doc: Value | undefined;
      if (r.parsedBody) doc = r.parsedBody.value as Value;
      else doc = decodeBody(r, await readBody(r));
      input = goJSON(doc === undefined ? null : doc);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw e;
      if (e instanceof BadRequest) return errorAnswer(400, "invalid_parameter", `unexpected parse error for input: could not decompress the body: ${e.message}`);
      return errorAnswer(400, "invalid_parameter", `unexpected parse error for input: body contains malformed input document: ${jsonErrorText(e)}`);
    }
    let path: (string | number)[];
    try {
      path = refParts(urlPath);
    } catch (e) {
      return errorAnswer(500, "internal_error", `invalid_parameter: invalid path: ${(e as Error).message}`);
    }
    const t0 = process.hrtime.bigint();
    const reply = await evalRequest(r, { kind: "path", path, input });
    if (!reply.ok) {
      if (decisionLogger && reply.stage === "eval" && reply.errors.length > 0) {
        logDecision(r, DecisionLogger.newDecisionId(), path, input, undefined, { counter_server_query_cache_hit: 0, timer_server_handler_ns: Number(process.hrtime.bigint() - t0) }, reply.errors[0]);
      }
      return evalError(reply);
    }
    if (reply.kind !== "path") throw new Error("unexpected reply");
    if (decisionLogger) {
      const m = { counter_server_query_cache_hit: 0, timer_rego_query_compile_ns: reply.compileNs, timer_rego_query_eval_ns: reply.evalNs, timer_server_handler_ns: Number(process.hrtime.bigint() - t0) };
      const error = reply.defined ? undefined : { code: "undefined_document", message: `${main.hasRulesFor(path) ? "document undefined" : "document missing"}: ${pathQuery(path)}` };
      logDecision(r, DecisionLogger.newDecisionId(), path, input, reply.defined ? reply.value : undefined, m, error);
    }
    if (!reply.defined) {
      const what = main.hasRulesFor(path) ? "document undefined" : "document missing";
      return errorAnswer(404, "undefined_document", `${what}: ${pathQuery(path)}`);
    }
    return ok(reply.value!, boolParam(r, "pretty"));
  }

  async function readJSONBody(r: Req): Promise<{ value: Value } | Answer> {
    let text: string;
    try {
      text = await readBody(r);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw e;
      return errorAnswer(400, "invalid_parameter", (e as Error).message);
    }
    try {
      const v = goDecode(text);
      if (v === undefined) return errorAnswer(400, "invalid_parameter", "EOF");
      return { value: v };
    } catch (e) {
      return errorAnswer(400, "invalid_parameter", jsonErrorText(e));
    }
  }

  function storagePath(pv: string): string[] | Answer {
    const trimmed = pv.replace(/^\/+|\/+$/g, "");
    const p = parsePathEscaped("/" + trimmed);
    if (p === undefined) return errorAnswer(400, "invalid_parameter", `bad path: ${pv}`);
    return p;
  }

  function writeAnswer(r: Req, t0: bigint): Answer {
    if (boolParam(r, "metrics")) return ok(object([["metrics", new Raw(goJSON({ timer_server_handler_ns: Number(process.hrtime.bigint() - t0) }))]]), false);
    return noContent;
  }

  /** Apply the new documents, or answer the conflict (a rule at a data path) as OPA does. */
  function commitData(next: Value): Answer | null {
    try {
      commit({ data: next });
      return null;
    } catch (e) {
      if (e instanceof RegoError) return errorAnswer(400, "invalid_parameter", astErrorsText(e.errors.map(errorJSON)));
      throw e;
    }
  }

  function writeError(e: unknown): Answer {
    if (e instanceof StorageError) return storageAnswer(e);
    if (e instanceof BadRequest) return errorAnswer(400, "invalid_parameter", e.message);
    throw e;
  }

  async function dataPut(r: Req, pv: string): Promise<Answer> {
    const t0 = process.hrtime.bigint();
    const b = await readJSONBody(r);
    if ("status" in b) return b;
    const path = storagePath(pv);
    if (!Array.isArray(path)) return path;
    try {
      checkPathScope(path);
      let next = data;
      if (!exists(next, path)) {
        if (path.length > 0) next = makeDir(next, path.slice(0, -1));
      } else if (r.headers["if-none-match"] === "*") {
        return { status: 304 };
      }
      next = writePath(next, "add", path, b.value);
      const conflict = commitData(next);
      if (conflict) return conflict;
    } catch (e) {
      return writeError(e);
    }
    return writeAnswer(r, t0);
  }

  async function dataPatch(r: Req, pv: string): Promise<Answer> {
    const t0 = process.hrtime.bigint();
    const b = await readJSONBody(r);
    if ("status" in b) return b;
    if (!Array.isArray(b.value)) return errorAnswer(400, "invalid_parameter", `json: cannot unmarshal ${goKind(b.value)} into Go value of type []types.PatchV1`);
    const root = "/" + pv.replace(/^\/+|\/+$/g, "");
    // types.PatchV1 as Go decodes it: a null element is a zero PatchV1 (op ""), absent fields are zero.
    const ops: { op: string; path: string; value: Value }[] = [];
    for (const raw of b.value) {
      if (!isPlainObject(raw)) {
        if (raw === null) {
          ops.push({ op: "", path: "", value: null });
          continue;
        }
        return errorAnswer(400, "invalid_parameter", `json: cannot unmarshal ${goKind(raw)} into Go value of type types.PatchV1`);
      }
      const op = raw.op;
      const p = raw.path;
      if (op !== undefined && typeof op !== "string") return errorAnswer(400, "invalid_parameter", `json: cannot unmarshal ${goKind(op)} into Go struct field PatchV1.op of type string`);
      if (p !== undefined && typeof p !== "string") return errorAnswer(400, "invalid_parameter", `json: cannot unmarshal ${goKind(p)} into Go struct field PatchV1.path of type string`);
      ops.push({ op: op ?? "", path: p ?? "", value: raw.value === undefined ? null : raw.value });
    }
    const parsed: { op: PatchOp; path: string[]; value: Value }[] = [];
    for (const x of ops) {
      if (x.op !== "add" && x.op !== "remove" && x.op !== "replace") return errorAnswer(400, "invalid_parameter", `bad patch operation: ${x.op}`);
      const opPath = x.path;
      const rel = opPath.replace(/^\/+|\/+$/g, "");
      const full = rel.length > 0 ? (root === "/" ? root + rel : root + "/" + rel) : root;
      const sp = parsePathEscaped(full);
      if (sp === undefined) return errorAnswer(400, "invalid_parameter", `bad patch path: ${opPath}`);
      parsed.push({ op: x.op, path: sp.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~")), value: x.value });
    }
    try {
      let next = data;
      for (const x of parsed) {
        checkPathScope(x.path);
        next = writePath(next, x.op, x.path, x.value);
      }
      const conflict = commitData(next);
      if (conflict) return conflict;
    } catch (e) {
      return writeError(e);
    }
    return writeAnswer(r, t0);
  }

  function dataDelete(r: Req, pv: string): Answer {
    const t0 = process.hrtime.bigint();
    const path = storagePath(pv);
    if (!Array.isArray(path)) return path;
    try {
      checkPathScope(path);
      readPath(data, path);
      const next = writePath(data, "remove", path, null);
      commit({ data: next });
    } catch (e) {
      return writeError(e);
    }
    return writeAnswer(r, t0);
  }

  function policyJSON(id: string, raw: string): Record<string, unknown> {
    const m = main.modules().get(id);
    return { id, raw, ast: m ? moduleToJSON(m) : null };
  }

  function policiesList(r: Req): Answer {
    const list = main.policyTexts().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const items = list.map((p) => object([["id", p.id], ["raw", p.raw], ["ast", policyJSON(p.id, p.raw).ast]]));
    return ok(`{"result":[${items.join(",")}]}`, boolParam(r, "pretty"));
  }

  function policyGet(r: Req, id: string): Answer {
    const p = main.policyTexts().find((x) => x.id === id);
    if (!p) return errorAnswer(404, "resource_not_found", `storage_not_found_error: policy id ${goJSON(id)}`);
    return ok(object([["result", new Raw(object([["id", p.id], ["raw", p.raw], ["ast", policyJSON(p.id, p.raw).ast]]))]]), boolParam(r, "pretty"));
  }

  /** A policy whose package lies under a bundle root may not be changed (OPA's checkPolicyPackageScope). */
  function packageScope(raw: string, id: string): Answer | null {
    if (bundles.length === 0) return null;
    let pkg: string[];
    try {
      pkg = main.packagePath(id, raw);
    } catch {
      return null; // a parse error is answered by the compile step
    }
    try {
      checkPathScope(pkg);
    } catch (e) {
      if (e instanceof BadRequest) return errorAnswer(400, "invalid_parameter", e.message);
      throw e;
    }
    return null;
  }

  function compileErrors(e: unknown): ErrorJSON[] {
    if (e instanceof RegoError) return e.errors.map(errorJSON);
    throw e;
  }

  async function policyPut(r: Req, id: string): Promise<Answer> {
    let raw: string;
    try {
      raw = (await r.body()).toString("utf8");
    } catch (e) {
      if (e instanceof BodyTooLarge) throw e;
      return errorAnswer(400, "invalid_parameter", (e as Error).message);
    }
    const current = main.policyTexts();
    const done = () => ok(boolParam(r, "metrics") ? object([["metrics", new Raw(goJSON({ timer_rego_module_compile_ns: 0, timer_rego_module_parse_ns: 0, timer_server_read_bytes_ns: 0 }))]]) : "{}", boolParam(r, "pretty"));
    const same = current.find((p) => p.id === id);
    if (same && same.raw === raw) return done();
    const scope = packageScope(raw, id);
    if (scope) return scope;
    if (same) {
      const old = packageScope(same.raw, id);
      if (old) return old;
    }
    const next = current.filter((p) => p.id !== id);
    next.push({ id, raw });
    try {
      commit({ policies: next });
    } catch (e) {
      const errs = compileErrors(e);
      // An empty module (nothing but comments) is reported as OPA's parser reports it.
      if (errs.length === 1 && errs[0].code === "rego_parse_error" && errs[0].message === "empty module") return errorAnswer(400, "invalid_parameter", `${id}:0: rego_parse_error: empty module`);
      return errorAnswer(400, "invalid_parameter", "error(s) occurred while compiling module(s)", errs.map((x) => (x.location?.file === id ? withParseDetails([x], raw)[0] : x)));
    }
    fileIds.delete(id);
    return done();
  }

  function policyDelete(r: Req, id: string): Answer {
    const current = main.policyTexts();
    const existing = current.find((p) => p.id === id);
    if (!existing) return errorAnswer(404, "resource_not_found", `storage_not_found_error: policy id ${goJSON(id)}`);
    const scope = packageScope(existing.raw, id);
    if (scope) return scope;
    try {
      commit({ policies: current.filter((p) => p.id !== id) });
    } catch (e) {
      return errorAnswer(400, "invalid_operation", "error(s) occurred while compiling module(s)", compileErrors(e));
    }
    fileIds.delete(id);
    return ok("{}", boolParam(r, "pretty"));
  }

  async function query(r: Req, text: string, input: string | undefined): Promise<Answer> {
    const t0 = process.hrtime.bigint();
    const reply = await evalRequest(r, { kind: "query", query: text, input, explain: explainOf(r) });
    if (!reply.ok) return evalError({ ...reply, errors: withParseDetails(reply.errors, text) }, "query");
    if (reply.kind !== "query") throw new Error("unexpected reply");
    const m = { timer_rego_query_compile_ns: reply.compileNs, timer_rego_query_eval_ns: reply.evalNs, timer_server_handler_ns: Number(process.hrtime.bigint() - t0) };
    const entries: [string, unknown][] = [
      ["explanation", reply.explanation !== undefined ? new Raw(reply.explanation) : undefined],
      ["metrics", metricsEntry(r, m)],
      ["result", reply.count > 0 ? new Raw(reply.results) : undefined],
    ];
    return ok(object(entries), boolParam(r, "pretty"));
  }

  async function queryGet(r: Req): Promise<Answer> {
    const qs = r.query.getAll("q");
    if (qs.length === 0) return errorAnswer(400, "invalid_parameter", "missing parameter 'q'");
    return query(r, qs[qs.length - 1], undefined);
  }

  async function queryPost(r: Req): Promise<Answer> {
    let text: string;
    try {
      text = await readBody(r);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw e;
      return errorAnswer(400, "invalid_parameter", `error(s) occurred while decoding request: ${(e as Error).message}`);
    }
    let doc: Value | undefined;
    try {
      doc = goDecode(text);
    } catch (e) {
      return errorAnswer(400, "invalid_parameter", `error(s) occurred while decoding request: ${jsonErrorText(e)}`);
    }
    if (doc === undefined) return errorAnswer(400, "invalid_parameter", "error(s) occurred while decoding request: EOF");
    if (doc !== null && !isPlainObject(doc)) return errorAnswer(400, "invalid_parameter", `error(s) occurred while decoding request: json: cannot unmarshal ${goKind(doc)} into Go value of type types.QueryRequestV1`);
    const q = doc === null ? undefined : doc.query;
    if (q !== undefined && q !== null && typeof q !== "string") return errorAnswer(400, "invalid_parameter", `error(s) occurred while decoding request: json: cannot unmarshal ${goKind(q)} into Go struct field QueryRequestV1.query of type string`);
    const inp = doc === null ? undefined : doc.input;
    return query(r, (q ?? "") as string, inp === undefined || inp === null ? undefined : goJSON(inp));
  }

  /** POST /v1/compile: partial evaluation of a query (docs/server.md, docs/partial.md). */
  async function compilePost(r: Req): Promise<Answer> {
    const t0 = process.hrtime.bigint();
    const decodeError = (msg: string) => errorAnswer(400, "invalid_parameter", `error(s) occurred while decoding request: ${msg}`);
    const typeError = (v: Value, field: string, type: string) => decodeError(`json: cannot unmarshal ${goKind(v)} into Go struct field ${field} of type ${type}`);
    let text: string;
    try {
      text = await readBody(r);
    } catch (e) {
      if (e instanceof BodyTooLarge) throw e;
      return errorAnswer(400, "invalid_parameter", "could not decompress the body");
    }
    let doc: Value | undefined;
    try {
      doc = goDecode(text);
    } catch (e) {
      return decodeError(jsonErrorText(e));
    }
    if (doc === undefined) return decodeError("EOF");
    if (doc !== null && !isPlainObject(doc)) return decodeError(`json: cannot unmarshal ${goKind(doc)} into Go value of type types.CompileRequestV1`);
    const get = (k: string): Value | undefined => (doc === null ? undefined : (doc as Record<string, Value>)[k]);
    const q = get("query");
    if (q !== undefined && q !== null && typeof q !== "string") return typeError(q, "CompileRequestV1.query", "string");
    const strings = (v: Value | undefined, field: string): string[] | undefined | Answer => {
      if (v === undefined || v === null) return undefined;
      if (!Array.isArray(v)) return typeError(v, field, "[]string");
      for (const x of v) if (x !== null && typeof x !== "string") return typeError(x, field, "string");
      return v.map((x) => (x === null ? "" : (x as string)));
    };
    const unknowns = strings(get("unknowns"), "CompileRequestV1.unknowns");
    if (unknowns !== undefined && !Array.isArray(unknowns)) return unknowns;
    const opts = get("options");
    let disableInlining: string[] | undefined;
    let nondeterministicBuiltins = false;
    if (opts !== undefined && opts !== null) {
      if (!isPlainObject(opts)) return typeError(opts, "CompileRequestV1.options", 'struct { DisableInlining []string "json:\\"disableInlining,omitempty\\""; NondeterministicBuiltins bool "json:\\"nondeterministicBuiltins\\"" }');
      const di = strings((opts as Record<string, Value>).disableInlining, ".options.disableInlining");
      if (di !== undefined && !Array.isArray(di)) return di;
      disableInlining = di;
      const nd = (opts as Record<string, Value>).nondeterministicBuiltins;
      if (nd !== undefined && nd !== null && typeof nd !== "boolean") return typeError(nd, ".options.nondeterministicBuiltins", "bool");
      nondeterministicBuiltins = nd === true;
    }
    const queryText = (q ?? "") as string;
    try {
      if (parseRegoQuery(queryText, { regoVersion: "v1", file: "" }).length === 0) return errorAnswer(400, "invalid_parameter", "missing required 'query' value");
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      if (e.errors.length === 1 && e.errors[0].message === "empty query") return errorAnswer(400, "invalid_parameter", "missing required 'query' value");
      return errorAnswer(400, "invalid_parameter", "error(s) occurred while parsing query", withParseDetails(e.errors.map(errorJSON).map((x) => (x.location ? { ...x, location: { ...x.location, file: "" } } : x)), queryText));
    }
    for (const u of unknowns ?? []) {
      try {
        parseTerm(u);
      } catch (e) {
        if (!(e instanceof RegoError)) throw e;
        const d = e.errors[0];
        const line = u.split("\n")[(d.location?.row ?? 1) - 1] ?? "";
        const caret = " ".repeat(Math.max(0, (d.location?.col ?? 1) - 1)) + "^";
        return errorAnswer(400, "invalid_parameter", `error(s) occurred while parsing unknowns: failed to parse term: 1 error occurred: ${d.location?.row ?? 1}:${d.location?.col ?? 1}: ${d.code}: ${d.message}\n\t${line}\n\t${caret}`);
      }
    }
    const inp = get("input");
    const tParsed = process.hrtime.bigint();
    const reply = await evalRequest(r, {
      kind: "compile",
      query: queryText,
      input: inp === undefined || inp === null ? undefined : goJSON(inp),
      unknowns,
      disableInlining,
      nondeterministicBuiltins,
    });
    if (!reply.ok) {
      const errs = withParseDetails(reply.errors.map((e) => (e.location?.file === "query" ? { ...e, location: { ...e.location, file: "" } } : e)), queryText);
      if (reply.stage === "parse") return errorAnswer(400, "invalid_parameter", "error(s) occurred while parsing query", errs);
      if (reply.stage === "compile") return errorAnswer(400, "invalid_parameter", "error(s) occurred while compiling module(s)", errs);
      return errorAnswer(500, "internal_error", errs.map((e) => `${e.code}: ${e.message}`).join("\n"));
    }
    if (reply.kind !== "compile") throw new Error("unexpected reply");
    const m = {
      timer_rego_partial_eval_ns: reply.evalNs,
      timer_rego_query_compile_ns: reply.compileNs,
      timer_rego_query_parse_ns: Number(tParsed - t0),
      timer_server_handler_ns: Number(process.hrtime.bigint() - t0),
    };
    return ok(object([["result", new Raw(reply.result)], ["metrics", metricsEntry(r, m)]]), boolParam(r, "pretty"));
  }

  /**
   * Health checks evaluate on the main thread's replica (a trivial query, or the operator's small
   * system.health rules with a short deadline), so they answer while every worker is busy.
   */
  const HEALTH_DEADLINE_MS = 500;
  async function evalHere(req: EvalRequest): Promise<EvalReply> {
    return main.evaluate({ ...req, deadline: Date.now() + HEALTH_DEADLINE_MS });
  }

  async function health(r: Req): Promise<Answer> {
    if (r.query.has("bundles") && bundlePlugin && !bundlePlugin.ready()) return healthAnswer("one or more bundles are not activated");
    const reply = await evalHere({ kind: "query", query: "x = 1" });
    if (!reply.ok || reply.kind !== "query" || reply.count !== 1) return healthAnswer("unable to perform evaluation");
    return healthAnswer(null);
  }

  function healthAnswer(err: string | null): Answer {
    if (err === null) return ok("{}", false);
    return { status: 500, headers: { "Content-Type": "application/json" }, body: goJSON({ error: err }) + "\n" };
  }

  async function healthPolicy(r: Req, sub: string): Promise<Answer> {
    let path: (string | number)[];
    try {
      path = refParts("/system/health/" + sub);
    } catch (e) {
      return errorAnswer(400, "invalid_parameter", `invalid path: ${(e as Error).message}`);
    }
    const input = goJSON({ plugin_state: {}, plugins_ready: true });
    const reply = await evalHere({ kind: "path", path, input });
    const q = pathQuery(path);
    if (!reply.ok) return healthAnswer(reply.errors.map((e) => `${e.code}: ${e.message}`).join("\n"));
    if (reply.kind !== "path" || !reply.defined) return healthAnswer(`health check (${q}) was undefined`);
    if (reply.value === "true") return healthAnswer(null);
    return healthAnswer(`health check (${q}) returned unexpected value`);
  }

  // ---- authorization (--authorization=basic): data.system.authz.allow with OPA's input

  async function authorize(r: Req): Promise<Answer | null> {
    const parts = r.path === "" ? [] : r.path.slice(1).split("/");
    const input: Record<string, unknown> = {
      path: parts,
      method: r.method.toUpperCase(),
      params: r.rawQuery === "" ? {} : queryMap(r.query),
      headers: headerMap(r.rawHeaders),
    };
    const expectBody = r.method === "POST" && ((parts.length === 1 && parts[0] === "") || (parts.length >= 2 && (parts[0] === "v0" || parts[0] === "v1") && parts[1] === "data"));
    if (expectBody) {
      try {
        const text = await readBody(r);
        if (text.length > 0) {
          const v = (r.headers["content-type"] ?? "").includes("yaml") ? fromJS(yaml().load(text)) : goUnmarshal(text);
          input.body = v;
          r.parsedBody = { value: v };
        }
      } catch (e) {
        if (e instanceof BodyTooLarge) throw e;
        return errorAnswer(400, "invalid_parameter", jsonErrorText(e));
      }
    }
    if (r.identity !== undefined) input.identity = r.identity;
    if (r.clientCertificates !== undefined) input.client_certificates = r.clientCertificates;
    const reply = await pool.eval({ kind: "path", path: decisionPath(o.config.defaultAuthorizationDecision), input: goJSON(input), deadline: r.deadline }, r.cancel);
    if (!reply.ok) return evalError(reply);
    if (reply.kind !== "path") throw new Error("unexpected reply");
    if (!reply.defined) return errorAnswer(500, "internal_error", "authorization policy missing or undefined");
    const v = JSON.parse(reply.value!);
    if (v === true) return null;
    if (v !== null && typeof v === "object" && !Array.isArray(v)) {
      if (!Object.hasOwn(v, "allowed")) return errorAnswer(500, "internal_error", "document missing or undefined");
      if (v.allowed === true) return null;
      if (typeof v.reason === "string") return errorAnswer(401, "unauthorized", v.reason);
    }
    return errorAnswer(401, "unauthorized", "request rejected by administrative policy");
  }

  // ---- routing (Go's ServeMux patterns, as OPA registers them)

  const METHOD_NOT_ALLOWED: Answer = { status: 405 };
  const notFound: Answer = { status: 404, headers: { "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" }, body: "404 page not found\n" };
  const goMethodNotAllowed = (allow: string): Answer => ({
    status: 405,
    headers: { Allow: allow, "Content-Type": "text/plain; charset=utf-8", "X-Content-Type-Options": "nosniff" },
    body: "Method Not Allowed\n",
  });

  /** The handler label for http_request_duration_seconds. */
  type Routed = { label: string; run: () => Promise<Answer> | Answer };

  /** The part of the escaped path after a prefix (OPA's escapedPathValue for {path...}). */
  const rest = (r: Req, prefix: string): string => r.rawPath.slice(prefix.length);

  /** ?explain=notes|fails|full|debug (the first of these given, as OPA reads it); `off` or none: undefined. */
  function explainOf(r: Req): { mode: ExplainMode; pretty: boolean } | undefined {
    if (r.rawQuery === "") return undefined;
    const mode = r.query.getAll("explain").find((x) => ["notes", "fails", "full", "debug"].includes(x)) as ExplainMode | undefined;
    return mode ? { mode, pretty: boolParam(r, "pretty") } : undefined;
  }

  function route(r: Req, diagnostic: boolean): Routed {
    const m = r.method === "HEAD" ? "GET" : r.method;
    const p = r.path;
    const routed = routeTo(r, diagnostic, m, p);
    return routed;
  }

  function routeTo(r: Req, diagnostic: boolean, m: string, p: string): Routed {
    if (p === "/health") return m === "GET" ? { label: "health", run: () => health(r) } : { label: "catchall", run: () => goMethodNotAllowed("GET, HEAD") };
    if (p === "/health/" && m === "GET") return { label: "health", run: () => health(r) };
    if (p.startsWith("/health/")) return m === "GET" ? { label: "health", run: () => healthPolicy(r, rest(r, "/health/")) } : { label: "catchall", run: () => goMethodNotAllowed("GET, HEAD") };
    if (p === "/metrics") return m === "GET" ? { label: "metrics", run: () => ({ status: 200, headers: { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" }, body: metrics.text() }) } : { label: "catchall", run: () => goMethodNotAllowed("GET, HEAD") };
    if (diagnostic) return { label: "catchall", run: () => notFound };
    if (p === "/v0/data" || p.startsWith("/v0/data/")) {
      if (m === "POST") return { label: "v0/data", run: () => v0Data(r, p === "/v0/data" ? "" : rest(r, "/v0/data/")) };
      return { label: "catchall", run: () => METHOD_NOT_ALLOWED };
    }
    if (p === "/v1/data" || p.startsWith("/v1/data/")) {
      const pv = p === "/v1/data" ? "" : rest(r, "/v1/data/");
      switch (m) {
        case "GET":
          return { label: "v1/data", run: () => dataGetOrPost(r, pv, false) };
        case "POST":
          return { label: "v1/data", run: () => dataGetOrPost(r, pv, true) };
        case "PUT":
          return { label: "v1/data", run: () => dataPut(r, pv) };
        case "PATCH":
          return { label: "v1/data", run: () => dataPatch(r, pv) };
        case "DELETE":
          if (pv !== "") return { label: "v1/data", run: () => dataDelete(r, pv) };
      }
      return { label: "catchall", run: () => METHOD_NOT_ALLOWED };
    }
    if (p === "/v1/policies") return m === "GET" ? { label: "v1/policies", run: () => policiesList(r) } : { label: "catchall", run: () => METHOD_NOT_ALLOWED };
    if (p.startsWith("/v1/policies/")) {
      const id = p.slice("/v1/policies/".length);
      if (m === "GET") return { label: "v1/policies", run: () => policyGet(r, id) };
      if (m === "PUT") return { label: "v1/policies", run: () => policyPut(r, id) };
      if (m === "DELETE") return { label: "v1/policies", run: () => policyDelete(r, id) };
      return { label: "catchall", run: () => METHOD_NOT_ALLOWED };
    }
    if (p === "/v1/query") {
      if (m === "GET") return { label: "v1/query", run: () => queryGet(r) };
      if (m === "POST") return { label: "v1/query", run: () => queryPost(r) };
      return { label: "catchall", run: () => METHOD_NOT_ALLOWED };
    }
    if (p.startsWith("/v1/query/")) return { label: "catchall", run: () => METHOD_NOT_ALLOWED };
    if (p === "/v1/compile" || p.startsWith("/v1/compile/")) {
      if (m === "POST" && p === "/v1/compile") return { label: "v1/compile", run: () => compilePost(r) };
      // OPA's router sends GET /v1/compile to /v1/compile/ (its data filters' route)
      if (m === "GET" && p === "/v1/compile")
        return { label: "v1/compile", run: () => ({ status: 307, headers: { "Content-Type": "text/html; charset=utf-8", Location: "/v1/compile/" }, body: '<a href="/v1/compile/">Temporary Redirect</a>.\n\n' }) };
      if (m === "POST" || m === "GET")
        return { label: "v1/compile", run: () => errorAnswer(501, "internal_error", "the compile API's data filters (/v1/compile/{path}, UCAST and SQL targets) are not supported by portcullis") };
      return { label: "catchall", run: () => goMethodNotAllowed(p === "/v1/compile" ? "POST" : "GET, HEAD, POST") };
    }
    if (p === "/v1/config") return m === "GET" ? { label: "v1/config", run: () => ok(object([["result", o.config.raw]]), boolParam(r, "pretty")) } : { label: "catchall", run: () => goMethodNotAllowed("GET, HEAD") };
    if (p === "/v1/status") return m === "GET" ? { label: "v1/status", run: () => (statusPlugin ? ok(object([["result", statusPlugin.snapshot()]]), boolParam(r, "pretty")) : errorAnswer(500, "internal_error", "status plugin not enabled")) } : { label: "catchall", run: () => goMethodNotAllowed("GET, HEAD") };
    if (p === "/") {
      if (m === "POST") return { label: "index", run: () => v0Data(r, o.config.defaultDecision.replace(/^\/+/, "")) };
      if (m === "GET") return { label: "index", run: () => ({ status: 200, headers: { "Content-Type": "text/html; charset=utf-8" }, body: INDEX_HTML }) };
      return { label: "catchall", run: () => goMethodNotAllowed("GET, HEAD, POST") };
    }
    return { label: "catchall", run: () => notFound };
  }

  // ---- the HTTP side

  let nextReqId = 0;
  const inFlight = new Set<Promise<void>>();

  function handler(diagnostic: boolean) {
    return (req: http.IncomingMessage, res: http.ServerResponse): void => {
      const done = serve(req, res, diagnostic).catch((e) => {
        log.error("internal error while serving a request", { err: e instanceof Error ? e.message : String(e) });
        if (!res.headersSent) {
          const a = errorAnswer(500, "internal_error", `internal error: ${e instanceof Error ? e.message : String(e)}`);
          res.writeHead(a.status, { ...a.headers, "Content-Length": Buffer.byteLength(a.body!) });
          res.end(a.body);
        }
        else res.destroy();
      });
      inFlight.add(done);
      void done.finally(() => inFlight.delete(done));
    };
  }

  /**
   * OPA's response compression: GET/POST of the data APIs and POST of the compile API vary on
   * Accept-Encoding, and bodies of at least server.encoding.gzip.min_length bytes are gzipped
   * for clients that accept gzip.
   */
  async function send(req: http.IncomingMessage, res: http.ServerResponse, r: { method: string; path: string }, a: Answer): Promise<number> {
    const headers: Record<string, string | number> = { ...(a.headers ?? {}) };
    let body: string | Buffer | undefined = a.body;
    const p = r.path;
    const compressible = ((r.method === "GET" || r.method === "POST") && (p.startsWith("/v1/data") || p.startsWith("/v0/data"))) || (r.method === "POST" && p.startsWith("/v1/compile"));
    if (compressible) {
      headers["Vary"] = "Accept-Encoding";
      const accepts = String(req.headers["accept-encoding"] ?? "")
        .split(",")
        .some((x) => {
          const t = x.trim();
          return t === "gzip" || t.startsWith("gzip;");
        });
      if (accepts && body !== undefined && Buffer.byteLength(body) >= o.config.gzipMinLength) {
        body = await new Promise<Buffer>((resolve, reject) => gzip(body!, { level: o.config.gzipLevel }, (e, out) => (e ? reject(e) : resolve(out))));
        headers["Content-Encoding"] = "gzip";
      }
    }
    if (body !== undefined) headers["Content-Length"] = Buffer.byteLength(body);
    else if (a.status !== 204 && a.status !== 304) headers["Content-Length"] = 0;
    res.writeHead(a.status, headers);
    res.end(body);
    return body === undefined ? 0 : Buffer.byteLength(body);
  }

  async function serve(req: http.IncomingMessage, res: http.ServerResponse, diagnostic: boolean): Promise<void> {
    const t0 = process.hrtime.bigint();
    const reqId = ++nextReqId;
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? "" : url.slice(q + 1);
    const ra = req.socket.remoteAddress;
    const clientAddr = ra ? (ra.includes(":") ? `[${ra}]:${req.socket.remotePort}` : `${ra}:${req.socket.remotePort}`) : "@";
    const fields = { client_addr: clientAddr, req_id: reqId, req_method: req.method, req_path: rawPath };
    const debug = log.enabled("debug");
    const cancel: CancelToken = { cancelled: false, hooks: [] };
    res.on("close", () => {
      if (res.writableFinished || cancel.cancelled) return;
      cancel.cancelled = true;
      for (const h of cancel.hooks) h();
    });
    let bodyPromise: Promise<Buffer> | null = null;
    const r: Req = {
      method: req.method ?? "GET",
      rawPath,
      path: pathUnescape(rawPath) ?? rawPath,
      query: parseQuery(rawQuery),
      rawQuery,
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      clientAddr,
      reqId,
      cancel,
      deadline: o.requestTimeoutMs > 0 ? Date.now() + o.requestTimeoutMs : undefined,
      body: () => (bodyPromise ??= readRequestBody(req, o.config.maxLength)),
    };
    if (debug) {
      // OPA's debug level adds the request body (decompressed) and parameters.
      let reqBody = "";
      let failed: string | undefined;
      try {
        const raw = await r.body();
        reqBody = (req.headers["content-encoding"] ?? "").includes("gzip") ? gunzipSync(raw, { maxOutputLength: o.config.gzipMaxLength }).toString("utf8") : raw.toString("utf8");
      } catch (e) {
        failed = e instanceof Error ? e.message : String(e);
      }
      if (failed === undefined) log.info("Received request.", { ...fields, req_body: reqBody, req_params: queryMap(r.query) });
      else log.error("Failed to read body.", { ...fields, err: failed, req_params: queryMap(r.query) });
    } else log.info("Received request.", fields);
    let answer: Answer;
    let label = "catchall";
    const declared = Number(req.headers["content-length"] ?? "-1");
    if (declared > o.config.maxLength) {
      answer = errorAnswer(400, "invalid_parameter", "request body too large");
    } else {
      try {
        if (o.authentication === "token") {
          const m = /^Bearer\s+(\S+)$/.exec(String(req.headers.authorization ?? ""));
          if (m) r.identity = m[1];
        } else if (o.authentication === "tls") {
          const peer = clientIdentity(req.socket);
          if (peer) {
            r.identity = peer.identity;
            r.clientCertificates = peer.certificates;
          }
        }
        const denied = o.authorization === "basic" ? await authorize(r) : null;
        if (denied) {
          answer = denied;
          label = "authz";
        } else {
          const routed = route(r, diagnostic);
          label = routed.label;
          answer = await routed.run();
        }
      } catch (e) {
        // A body without Content-Length that outgrows the limit (Go's MaxBytesReader error).
        if (e instanceof BodyTooLarge) answer = errorAnswer(400, "invalid_parameter", "http: request body too large");
        else throw e;
      }
    }
    const bytes = await send(req, res, r, answer);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    metrics.observe(answer.status, label, r.method, seconds);
    const sent: Record<string, unknown> = { ...fields, resp_bytes: bytes, resp_duration: seconds * 1000, resp_status: answer.status };
    if (debug) sent.resp_body = answer.body ?? "";
    log.info("Sent response.", sent);
  }

  // ---- listeners

  const servers: { server: http.Server; addr: string }[] = [];
  const tlsOptions = () => {
    if (!o.tls) return undefined;
    const t: tls.SecureContextOptions = { cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile), minVersion: TLS_VERSIONS[o.tls.minVersion ?? "1.2"] };
    if (o.tls.caFile) t.ca = readCAFile(o.tls.caFile);
    return t;
  };

  async function listen(addr: string, diagnostic: boolean): Promise<string> {
    const h = handler(diagnostic);
    const tls = tlsOptions();
    // Go's http.Server reads up to 1 MiB of headers (DefaultMaxHeaderBytes); Node's default is 16 KiB.
    const limits = { maxHeaderSize: 1 << 20 };
    // --authentication=tls: the handshake fails without a client certificate the CA verifies (Go's RequireAndVerifyClientCert).
    const clientAuth = o.authentication === "tls" ? { requestCert: true, rejectUnauthorized: true } : {};
    const server = tls ? https.createServer({ ...tls, ...clientAuth, ...limits }, h) : http.createServer(limits, h);
    server.requestTimeout = o.requestTimeoutMs > 0 ? o.requestTimeoutMs + 5000 : 0;
    server.keepAliveTimeout = 5000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      if (addr.startsWith("unix://")) {
        const file = addr.slice("unix://".length);
        if (existsSync(file)) unlinkSync(file);
        server.listen(file, () => resolve());
      } else {
        const { host, port } = splitHostPort(addr);
        server.listen(port, host, () => resolve());
      }
    });
    servers.push({ server, addr });
    if (addr.startsWith("unix://")) return addr;
    const a = server.address() as AddressInfo;
    return `${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
  }

  const addresses: string[] = [];
  const diagnosticAddresses: string[] = [];
  if (bundlePlugin && (o.readyTimeoutMs ?? 0) > 0) {
    // OPA's --ready-timeout: the listeners open once the plugins are ready (checked every 100 ms)
    bundlePlugin.start();
    const end = Date.now() + o.readyTimeoutMs!;
    while (!bundlePlugin.ready() && Date.now() < end) await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, end - Date.now()))));
    if (!bundlePlugin.ready()) {
      log.error("Failed to wait for plugins activation.", { err: "timeout" });
      bundlePlugin.stop();
      await pool.close();
      throw new LoadError(`the plugins were not ready within --ready-timeout (bundles not activated: ${bundlePlugin.notReady().join(", ")})`);
    }
  }
  try {
    for (const a of o.addrs) addresses.push(await listen(a, false));
    for (const a of o.diagnosticAddrs) diagnosticAddresses.push(await listen(a, true));
  } catch (e) {
    await Promise.all(servers.map((s) => new Promise((res) => s.server.close(res))));
    await pool.close();
    throw e;
  }
  log.info("Initializing server.", { addrs: o.addrs, "diagnostic-addrs": o.diagnosticAddrs });

  // ---- reloading files (--watch)

  async function reload(): Promise<void> {
    let fresh: LoadedState;
    try {
      fresh = loadServerFiles(o.paths, o.bundleMode, o.bundleOptions, o.regoVersion);
    } catch (e) {
      log.error("Failed to reload files.", { err: e instanceof Error ? e.message : String(e) });
      return;
    }
    // Policies from the files replace those loaded before; policies uploaded through the API stay.
    const kept = main.policyTexts().filter((p) => !fileIds.has(p.id));
    const policies = [...kept.filter((p) => !fresh.policies.some((f) => f.id === p.id)), ...fresh.policies];
    // A bundle owns its roots: what its previous revision wrote there is erased first.
    let next = data;
    const downloaded = bundles.filter((b) => serviceBundleIds.has(b.name));
    const fromFiles = bundles.filter((b) => !serviceBundleIds.has(b.name));
    for (const b of [...fromFiles, ...fresh.bundles]) for (const root of b.roots) next = eraseAt(next, root === "" ? [] : root.split("/"));
    for (const d of fresh.documents) next = mergeAt(next, d.path, d.value);
    for (const b of fresh.bundles) next = mergeAt(next, ["system", "bundles", b.name], makeObject([["etag", ""], ["manifest", b.manifest]]));
    try {
      checkBundleRoots([...downloaded, ...fresh.bundles]);
      commit({ policies, data: next });
      bundles = [...downloaded, ...fresh.bundles];
      fileIds = new Set(fresh.policies.map((p) => p.id));
      log.info("Files reloaded.", { paths: o.paths });
    } catch (e) {
      log.error("Failed to reload files.", { err: e instanceof Error ? e.message : String(e) });
    }
  }

  const watchers: FSWatcher[] = [];
  if (o.watch) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const changed = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void reload(), 100);
    };
    for (const p of o.paths) watchers.push(watch(o.bundleMode ? p : splitPrefix(p).path, { recursive: true }, changed));
  }

  let tlsWatch: FSWatcher[] = [];
  if (o.tls) {
    const refresh = () => {
      try {
        const t = tlsOptions()!;
        for (const s of servers) if (s.server instanceof https.Server) s.server.setSecureContext(t);
        log.info("TLS certificate reloaded.");
      } catch (e) {
        log.error("Failed to reload the TLS certificate.", { err: e instanceof Error ? e.message : String(e) });
      }
    };
    tlsWatch = [o.tls.certFile, o.tls.keyFile, ...(o.tls.caFile ? [o.tls.caFile] : [])].map((f) => watch(f, refresh));
  }

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    closing ??= (async () => {
      log.info("Shutting down...");
      bundlePlugin?.stop();
      await decisionLogger?.stop();
      await statusPlugin?.stop();
      for (const w of [...watchers, ...tlsWatch]) w.close();
      const closed = Promise.all(servers.map((s) => new Promise<void>((res) => s.server.close(() => res()))));
      for (const s of servers) s.server.closeIdleConnections();
      const grace = new Promise<void>((res) => setTimeout(res, o.shutdownGracePeriod * 1000).unref());
      await Promise.race([Promise.all([closed, Promise.all(inFlight)]), grace]);
      for (const s of servers) s.server.closeAllConnections();
      await pool.close();
      log.info("Server shutdown.");
    })();
    return closing;
  }

  bundlePlugin?.start();
  decisionLogger?.start();
  statusPlugin?.start();

  return { addresses, diagnosticAddresses, close, reload, pool, bundles: bundlePlugin, decisionLogs: decisionLogger, status: statusPlugin };
}

class BodyTooLarge extends Error {}

function readRequestBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on("data", (c: Buffer) => {
      n += c.length;
      if (n > max) {
        req.pause();
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** host:port, :port, [v6]:port; "localhost:8181" → localhost. */
export function splitHostPort(addr: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([^\]]*)\]|([^:]*)):([0-9]+)$/.exec(addr);
  if (!m) throw new Error(`invalid address ${JSON.stringify(addr)}: want [host]:port or unix://path`);
  const host = m[1] ?? m[2];
  return { host: host === "" ? undefined : host, port: Number(m[3]) };
}

const INDEX_HTML = `<!DOCTYPE html>
<html>
<head><title>Portcullis</title></head>
<body>
<h1>Portcullis ${PACKAGE_VERSION}</h1>
<p>An OPA-compatible policy server. Evaluate policies with <code>POST /v1/data/{path}</code>; see docs/server.md.</p>
</body>
</html>
`;

