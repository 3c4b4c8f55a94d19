// The server's configuration in OPA's format: a YAML or JSON file (`-c/--config-file`) with
// `--set key.path=value` and `--set-file key.path=file` overrides on top; `${VAR}` in the file and
// in --set values is replaced by the environment variable as OPA does (substituteEnv). Keys Portcullis implements: `default_decision`,
// `default_authorization_decision`, `labels`, `server.decoding.max_length`,
// `server.decoding.gzip.max_length`, `server.encoding.gzip.min_length` and `.compression_level`,
// bundle downloads (`services`, `bundles`, `keys`, `persistence_directory`; bundleconfig.ts) and
// decision logs (`decision_logs`; decisionlog.ts) and the status plugin (`status`;
// statusplugin.ts). Keys OPA knows that Portcullis does not implement yet (discovery, caching, tracing, storage…) are refused with an error naming them: running without them would
// silently answer differently from the configuration. Keys neither knows are kept and reported
// with OPA's warning.

import { readFileSync } from "node:fs";
import type jsyaml from "js-yaml";
import { lazyRequire } from "../lazy.ts";
import { parseReference, isLoopback } from "../oci/reference.ts";
import { parseBundlesConfig, parseServices, redactConfig, BundleConfigError, type BundlesConfig } from "./bundleconfig.ts";
import { parseDecisionLogConfig, type DecisionLogConfig } from "./decisionlog.ts";
import { parseStatusConfig, type StatusConfig } from "./statusplugin.ts";

const yaml = lazyRequire<typeof jsyaml>("js-yaml");

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface ServerConfig {
  /** The whole configuration as given (what GET /v1/config shows, with labels completed). */
  raw: Record<string, unknown>;
  defaultDecision: string;
  defaultAuthorizationDecision: string;
  labels: Record<string, string>;
  maxLength: number;
  gzipMaxLength: number;
  /** Responses of the data and compile APIs at least this long are gzipped for clients that accept it. */
  gzipMinLength: number;
  gzipLevel: number;
  /** Warnings to log at start (unknown keys, as OPA logs them). */
  warnings: string[];
  /** Bundles downloaded from services (`services`, `bundles`, `keys`, `persistence_directory`). */
  bundles?: BundlesConfig;
  /** Decision logs (`decision_logs`). */
  decisionLogs?: DecisionLogConfig;
  /** The status plugin (`status`). */
  status?: StatusConfig;
}

/** OPA's keys that this server does not implement (yet). */
export const UNSUPPORTED_KEYS = [
  "bundle",
  "discovery",
  "plugins",
  "caching",
  "nd_builtin_cache",
  "distributed_tracing",
  "storage",
];

const SUPPORTED_KEYS = ["default_decision", "default_authorization_decision", "labels", "server", "services", "bundles", "keys", "persistence_directory", "decision_logs", "status"];

/** OPA's default request body limit (server.decoding.max_length): 256 MiB. */
export const DEFAULT_MAX_LENGTH = 268435456;
/** OPA's default limit of a gzip body once decompressed (server.decoding.gzip.max_length): 512 MiB. */
export const DEFAULT_GZIP_MAX_LENGTH = 536870912;

/** A --set value as OPA's strvals reads it: booleans, integers, null, else a string. */
function scalar(s: string): unknown {
  if (s === "true") return true;
  if (s === "false") return false;
  if (s === "null") return null;
  if (/^-?[0-9]+$/.test(s) && Number.isSafeInteger(Number(s))) return Number(s);
  return s;
}

/**
 * OPA's environment variable substitution (applied to the configuration file's text and to each
 * `--set`): every `${NAME}` (shortest match, within one line) is replaced by the variable's value
 * when it is set — to the empty string when it is set empty — and kept as written when it is
 * not set; `${}` becomes the empty string.
 */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env): string {
  return text.replace(/\$\{([^\n]*?)\}/g, (m, name: string) => (name === "" ? "" : Object.hasOwn(env, name) ? (env[name] ?? "") : m));
}

/** Apply one `--set a.b.c=value[,x.y=value…]` to the configuration. */
export function applySet(conf: Record<string, unknown>, expr: string, flag = "--set", value: (text: string) => unknown = scalar): void {
  for (const part of expr.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new ConfigError(`${flag} ${expr}: want key.path=value`);
    const keys = part.slice(0, eq).split(".");
    if (keys.some((k) => k === "")) throw new ConfigError(`${flag} ${expr}: empty key in ${part.slice(0, eq)}`);
    let node = conf;
    for (const k of keys.slice(0, -1)) {
      const next = node[k];
      if (next === null || typeof next !== "object" || Array.isArray(next)) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    node[keys[keys.length - 1]] = value(part.slice(eq + 1));
  }
}

/** Apply one `--set-file a.b.c=path[,…]`: the value is the file's text, trimmed (a string, as OPA reads it). */
export function applySetFile(conf: Record<string, unknown>, expr: string): void {
  applySet(conf, expr, "--set-file", (file) => {
    try {
      return readFileSync(file, "utf8").trim();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(`failed parsing --set-file data: open ${file}: ${code === "ENOENT" ? "no such file or directory" : code === "EISDIR" ? "is a directory" : (e as Error).message}`);
    }
  });
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(`config file ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file or directory" : (e as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = yaml().load(substituteEnv(text));
  } catch (e) {
    throw new ConfigError(`config file ${file}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`config file ${file}: the configuration must be an object`);
  return doc as Record<string, unknown>;
}

function positiveInt(v: unknown, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v <= 0) throw new ConfigError(`${key}: want a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

function minLength(v: unknown): number {
  if (v === undefined) return 1024;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) throw new ConfigError("invalid value for server.encoding.gzip.min_length field, should be a positive number");
  return v;
}

/**
 * `run -b oci://REGISTRY/REPO:TAG`: for the i-th reference, a service `oci<i>` of type oci
 * (http:// for a loopback registry, else https://) and a bundle `oci<i>` pulling it, with OPA's
 * default polling; `--set bundles.oci<i>.…` applies on top.
 */
function addOciBundles(raw: Record<string, unknown>, refs: string[]): void {
  if (refs.length === 0) return;
  const obj = (k: string): Record<string, unknown> => {
    const v = raw[k];
    if (v === undefined || v === null) return (raw[k] = {}) as Record<string, unknown>;
    if (typeof v !== "object" || Array.isArray(v)) throw new ConfigError(`${k}: want an object to add the oci:// bundles to`);
    return v as Record<string, unknown>;
  };
  const services = obj("services");
  const bundles = obj("bundles");
  refs.forEach((text, i) => {
    const name = `oci${i}`;
    if (Object.hasOwn(services, name) || Object.hasOwn(bundles, name)) throw new ConfigError(`the configuration already has a service or bundle named ${name} (the name of the ${text} bundle)`);
    let ref;
    try {
      ref = parseReference(text);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
    services[name] = { url: `${isLoopback(ref.registry) ? "http" : "https"}://${ref.registry}`, type: "oci" };
    bundles[name] = { service: name, resource: text.replace(/^oci:\/\//, "") };
  });
}

/** Read and check the configuration (file, then --set overrides in order). */
export function loadConfig(opts: { file?: string; sets?: string[]; setFiles?: string[]; id: string; version: string; ociBundles?: string[] }): ServerConfig {
  const raw: Record<string, unknown> = opts.file ? readConfigFile(opts.file) : {};
  addOciBundles(raw, opts.ociBundles ?? []);
  // as OPA: --set values go through the environment substitution, --set-file contents do not
  for (const s of opts.sets ?? []) applySet(raw, substituteEnv(s));
  for (const s of opts.setFiles ?? []) applySetFile(raw, s);
  const unsupported = Object.keys(raw).filter((k) => UNSUPPORTED_KEYS.includes(k));
  if (unsupported.length > 0) {
    throw new ConfigError(
      `configuration key${unsupported.length > 1 ? "s" : ""} ${unsupported.map((k) => `"${k}"`).join(", ")} ${unsupported.length > 1 ? "are" : "is"} not supported by portcullis run yet (supported: ${SUPPORTED_KEYS.join(", ")})`,
    );
  }
  const warnings = Object.keys(raw)
    .filter((k) => !SUPPORTED_KEYS.includes(k))
    .sort()
    .map((k) => `unknown configuration option "${k}" encountered`);
  const str = (k: string, dflt: string): string => {
    const v = raw[k];
    if (v === undefined) return dflt;
    if (typeof v !== "string") throw new ConfigError(`${k}: want a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const defaultDecision = str("default_decision", "/system/main");
  const defaultAuthorizationDecision = str("default_authorization_decision", "/system/authz/allow");
  const labelsIn = raw.labels ?? {};
  if (typeof labelsIn !== "object" || labelsIn === null || Array.isArray(labelsIn)) throw new ConfigError("labels: want an object of strings");
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(labelsIn)) labels[k] = String(v);
  labels.id = opts.id;
  labels.version = opts.version;
  const server = (raw.server ?? {}) as Record<string, unknown>;
  if (typeof server !== "object" || Array.isArray(server)) throw new ConfigError("server: want an object");
  for (const k of Object.keys(server)) {
    if (k !== "decoding" && k !== "encoding") throw new ConfigError(`server.${k} is not supported by portcullis run yet (supported: server.decoding.max_length, server.decoding.gzip.max_length, server.encoding.gzip.min_length, server.encoding.gzip.compression_level)`);
  }
  const decoding = (server.decoding ?? {}) as Record<string, unknown>;
  const gzip = (decoding.gzip ?? {}) as Record<string, unknown>;
  const encGzip = (((server.encoding ?? {}) as Record<string, unknown>).gzip ?? {}) as Record<string, unknown>;
  const level = encGzip.compression_level ?? 9;
  if (level !== 0 && level !== 1 && level !== 9) throw new ConfigError("invalid value for server.encoding.gzip.compression_level field, accepted values are 0, 1 or 9");
  const full: Record<string, unknown> = {
    ...raw,
    default_authorization_decision: defaultAuthorizationDecision,
    default_decision: defaultDecision,
    labels,
  };
  let bundles: BundlesConfig | undefined;
  let decisionLogs: DecisionLogConfig | undefined;
  let status: StatusConfig | undefined;
  try {
    // One transport per service, shared by the plugins (one OAuth2 token, one connection pool).
    const services = parseServices(raw.services, raw.keys, (m) => warnings.push(m));
    bundles = parseBundlesConfig(raw, undefined, services);
    decisionLogs = parseDecisionLogConfig(raw.decision_logs, services);
    status = parseStatusConfig(raw.status, services);
  } catch (e) {
    if (e instanceof BundleConfigError) throw new ConfigError(e.message);
    throw e;
  }
  return {
    raw: redactConfig(full),
    bundles,
    decisionLogs,
    status,
    defaultDecision,
    defaultAuthorizationDecision,
    labels,
    maxLength: positiveInt(decoding.max_length, "server.decoding.max_length", DEFAULT_MAX_LENGTH),
    gzipMaxLength: positiveInt(gzip.max_length, "server.decoding.gzip.max_length", DEFAULT_GZIP_MAX_LENGTH),
    gzipMinLength: minLength(encGzip.min_length),
    gzipLevel: level as number,
    warnings,
  };
}

/** A decision path ("/system/main", "example/allow") as ref parts after `data`. */
export function decisionPath(p: string): string[] {
  return p.split("/").filter((s) => s !== "");
}
