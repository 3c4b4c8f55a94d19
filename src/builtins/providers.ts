// providers.aws.sign_req: AWS Signature Version 4 signing of an http.send request object.

import { nodeCrypto } from "../lazy.ts";
import type { Builtin } from "./registry.ts";
import { BuiltinError, BuiltinTypeError, T, operandError } from "./registry.ts";
import type { PlainObject, Value } from "../rego/value.ts";
import { emptyObject, isInteger, isNumber, isPlainObject, objectEntries, toJsNumber } from "../rego/value.ts";
import { goJSON } from "./support/encoding.ts";

const NAME = "providers.aws.sign_req";

function sha256Hex(data: string | Buffer): string {
  return nodeCrypto.createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return nodeCrypto.createHmac("sha256", key).update(data, "utf8").digest();
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

interface ParsedURL {
  host: string;
  path: string; // raw path as written
  query: string;
}

function parseURL(url: string): ParsedURL {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?/.exec(url);
  if (!m) return { host: "", path: url, query: "" };
  return { host: m[2], path: m[3], query: m[4] ?? "" };
}

/** Go's url.URL.EscapedPath for a path as written. */
function escapedPath(raw: string): string {
  if (/^[A-Za-z0-9\-_.~$&+,/:;=@!'()*[\]%]*$/.test(raw)) return raw;
  let out = "";
  for (const b of Buffer.from(safeDecode(raw), "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c)) out += c;
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** A set of strings as OPA prints it in messages: {"a", "b"}. */
function setText(items: string[]): string {
  return "{" + items.sort().map((s) => JSON.stringify(s)).join(", ") + "}";
}

const REQUIRED_CONFIG = ["aws_access_key", "aws_region", "aws_secret_access_key", "aws_service"];
export const HTTP_ALLOWED_KEYS = new Set([
  "method", "url", "body", "enable_redirect", "force_json_decode", "force_yaml_decode", "headers", "raw_body",
  "tls_use_system_certs", "tls_ca_cert", "tls_ca_cert_file", "tls_ca_cert_env_variable", "tls_client_cert",
  "tls_client_cert_file", "tls_client_cert_env_variable", "tls_client_key", "tls_client_key_file",
  "tls_client_key_env_variable", "tls_insecure_skip_verify", "tls_server_name", "timeout", "cache", "force_cache",
  "force_cache_duration_seconds", "raise_error", "caching_mode", "max_retry_attempts", "cache_ignored_headers",
]);

/** http.send's request-object check (shared with sign_req). Throws BuiltinError. */
export function validateRequestKeys(req: PlainObject, pos: number): void {
  const keys = Object.keys(req);
  const invalid = keys.filter((k) => !HTTP_ALLOWED_KEYS.has(k));
  if (invalid.length) throw new BuiltinTypeError(`operand ${pos} invalid request parameters(s): ${setText(invalid)}`);
  const missing = ["method", "url"].filter((k) => !keys.includes(k));
  if (missing.length) throw new BuiltinTypeError(`operand ${pos} missing required request parameters(s): ${setText(missing)}`);
}

function signRequest(req: PlainObject, creds: PlainObject, timeNs: number): Value {
  const missing = REQUIRED_CONFIG.filter((k) => creds[k] === undefined);
  if (missing.length) throw new BuiltinTypeError(`operand 2 missing required AWS config parameters(s): ${setText(missing)}`);
  const badCfg = REQUIRED_CONFIG.filter((k) => typeof creds[k] !== "string");
  if (badCfg.length) throw new BuiltinTypeError(`operand 2 invalid values for required AWS config parameters(s): ${setText(badCfg)}`);
  const accessKey = creds.aws_access_key as string;
  const secretKey = creds.aws_secret_access_key as string;
  const service = creds.aws_service as string;
  const region = creds.aws_region as string;
  const sessionToken = typeof creds.aws_session_token === "string" ? creds.aws_session_token : "";

  validateRequestKeys(req, 1);
  let reqHeaders: PlainObject = emptyObject();
  if (req.headers !== undefined) {
    if (!isPlainObject(req.headers)) throw operandError(NAME, 0, "object", req.headers);
    reqHeaders = req.headers;
  }
  const badReq: string[] = [];
  if (typeof req.url !== "string") badReq.push("url");
  if (typeof req.method !== "string") badReq.push("method");
  if (badReq.length) throw new BuiltinTypeError(`operand 1 invalid values for required request parameters(s): ${setText(badReq)}`);
  const method = req.method as string;
  const u = parseURL(req.url as string);

  let body: Buffer = Buffer.alloc(0);
  if (req.raw_body !== undefined) body = Buffer.from(typeof req.raw_body === "string" ? req.raw_body : "", "utf8");
  else if (req.body !== undefined) body = Buffer.from(goJSON(req.body), "utf8");

  let disablePayloadSigning = false;
  if (creds.disable_payload_signing !== undefined) {
    if (typeof creds.disable_payload_signing !== "boolean") throw new BuiltinTypeError("operand 2 invalid value for 'disable_payload_signing' in AWS config");
    disablePayloadSigning = creds.disable_payload_signing;
  }

  const d = new Date(Math.floor(timeNs / 1e6));
  const date = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}`;
  const amzDate = `${date}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  const payloadHash = disablePayloadSigning ? "UNSIGNED-PAYLOAD" : sha256Hex(body);

  const added: PlainObject = emptyObject();
  added.host = u.host;
  added["x-amz-date"] = amzDate;
  if (service === "s3" || service === "glacier") added["x-amz-content-sha256"] = payloadHash;
  if (sessionToken !== "") added["x-amz-security-token"] = sessionToken;

  const toSign = new Map<string, string>();
  for (const k of Object.keys(added)) toSign.set(k, added[k] as string);
  const userHeaders: [string, string][] = objectEntries(reqHeaders).map(([k, v]) => [String(k), typeof v === "string" ? v : ""]);
  for (const [k, v] of userHeaders) {
    const lk = k.toLowerCase();
    if (lk === "authorization" || lk === "user-agent" || lk === "x-amzn-trace-id") continue;
    toSign.set(lk, v);
  }
  const names = Array.from(toSign.keys()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${toSign.get(n)}\n`).join("");
  const signedHeaders = names.join(";");

  const canonicalRequest = [method, escapedPath(u.path), u.query, canonicalHeaders, signedHeaders, payloadHash].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const kDate = hmac("AWS4" + secretKey, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  const kSigning = hmac(kService, "aws4_request");
  const signature = nodeCrypto.createHmac("sha256", kSigning).update(stringToSign, "utf8").digest("hex");

  const outHeaders: PlainObject = emptyObject();
  for (const [k, v] of userHeaders) outHeaders[k] = v;
  outHeaders.Authorization = `AWS4-HMAC-SHA256 Credential=${accessKey}/${scope},SignedHeaders=${signedHeaders},Signature=${signature}`;
  for (const k of Object.keys(added)) outHeaders[k] = added[k];

  const out: PlainObject = emptyObject();
  for (const [k, v] of objectEntries(req)) out[String(k)] = v;
  out.headers = outHeaders;
  return out;
}

function signReq(args: Value[]): Value {
  const [req, creds, t] = args;
  // OPA reports operand 1 for each of these type errors.
  if (!isPlainObject(req)) throw operandError(NAME, 1, "object", req);
  if (!isPlainObject(creds)) throw operandError(NAME, 1, "object", creds);
  if (!isNumber(t)) throw operandError(NAME, 1, "number", t);
  let ns: bigint | null = typeof t === "bigint" ? t : isInteger(t) ? BigInt(toJsNumber(t)) : null;
  if (ns === null) {
    throw new BuiltinTypeError(`${NAME}: operand 3 could not convert time_ns value into a unix timestamp`);
  }
  if (ns > 9223372036854775807n || ns < -9223372036854775808n) {
    throw new BuiltinTypeError(`${NAME}: operand 3 could not convert time_ns value into a unix timestamp`);
  }
  try {
    return signRequest(req, creds, Number(ns));
  } catch (e) {
    if (e instanceof BuiltinError && !e.message.startsWith(NAME)) throw new BuiltinError(`${NAME}: ${e.message}`);
    if (e instanceof BuiltinTypeError && !e.message.startsWith(NAME)) throw new BuiltinTypeError(`${NAME}: ${e.message}`);
    throw e;
  }
}

export const builtins: Builtin[] = [
  {
    name: NAME,
    decl: T.fn([T.objectOf(T.string, T.any), T.objectOf(T.string, T.any), T.number], T.objectOf(T.any, T.any)),
    impl: signReq,
  },
];
