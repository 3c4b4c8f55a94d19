// How the server reaches a configured service (OPA's `services[*]`): TLS and credentials.
//
// - `tls.ca_cert` (PEM file; with `tls.system_ca_required` added to the default roots instead of
//   replacing them) and `allow_insecure_tls` (no verification of an https server's certificate).
// - `credentials.bearer`: `Authorization: <scheme> <token>`; `token_path` is read at every
//   request (the token may be rotated).
// - `credentials.client_tls`: a client certificate (`cert`, `private_key`, optional
//   `private_key_passphrase` for an encrypted key; the deprecated `ca_cert`/`system_ca_required`
//   when `tls.ca_cert` is not set, with OPA's warning). As OPA, the files are read again before
//   each request (at most every `cert_reread_interval_seconds` when set) and a changed pair is
//   used from the next connection on.
// - `credentials.oauth2`: a token from `token_url` (https only, as OPA) with the
//   `client_credentials` grant (client_secret as HTTP Basic, or a client assertion: a JWT signed
//   with `signing_key` from `keys`, or `client_assertion`/`client_assertion_path`) or the
//   `jwt_bearer` grant; `scopes`, `additional_headers`, `additional_parameters`,
//   `additional_claims`, `include_jti_claim`. The form body is Go's `url.Values.Encode()` (keys
//   sorted), the JWT's claims Go's `json.Marshal` of a map (keys sorted). The token is kept until
//   10 s before `expires_in` runs out, and one token request serves every request waiting for it.
// - `s3_signing`, `gcp_metadata`, `azure_managed_identity`, `plugin` and the oauth2 variants that
//   sign with cloud keys (`aws_kms`, `azure_keyvault`) are refused with an error naming them.
//
// Unlike OPA, which accepts such a configuration and fails each request, a credential that cannot
// work (two methods, a missing field, an unreadable CA file) is refused when the configuration is
// read. Requests with a custom TLS setting go through undici (loaded only then) with an Agent
// whose `connect` options carry the CA, the client certificate and the verification switch;
// the others through Node's fetch.

import { createHash, createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import type * as Undici from "undici";
import { lazyRequire } from "../lazy.ts";
import { signCompact, signingKey, isSigningAlgorithm } from "../bundle/jws.ts";

const undici = lazyRequire<typeof Undici>("undici");

export class CredentialsError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === "object" && x !== null && !Array.isArray(x);

/** What a request to a service needs: method, headers, body, deadline. */
export interface ServiceRequest {
  method?: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal;
}

/** Sends requests to one service with its TLS settings and credentials. */
export interface ServiceTransport {
  send(url: string, req: ServiceRequest): Promise<Response>;
  /** Close pooled connections (server shutdown). */
  close(): Promise<void>;
}

/** The credential types OPA has that Portcullis refuses (they need a cloud provider's SDK or a custom plugin). */
export const REFUSED_CREDENTIALS = ["s3_signing", "gcp_metadata", "azure_managed_identity", "plugin"];
const CREDENTIALS = ["bearer", "oauth2", "client_tls", ...REFUSED_CREDENTIALS];

/** The largest token endpoint answer read (an explicit limit: the answer is a small JSON object). */
export const TOKEN_RESPONSE_LIMIT = 1024 * 1024;
/** OPA's token request deadline (its token client's response header timeout): 10 s. */
export const TOKEN_TIMEOUT_MS = 10_000;
/** A cached token is renewed when it has less than this left (OPA's minTokenLifetime). */
const MIN_TOKEN_LIFETIME_MS = 10_000;

function str(v: unknown, key: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") throw new CredentialsError(`${key}: want a string, got ${JSON.stringify(v)}`);
  return v;
}

function bool(v: unknown, key: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new CredentialsError(`${key}: want true or false, got ${JSON.stringify(v)}`);
  return v;
}

function strMap(v: unknown, key: string): [string, string][] {
  if (v === undefined || v === null) return [];
  if (!isObj(v)) throw new CredentialsError(`${key}: want an object of strings`);
  return Object.entries(v).map(([k, x]) => {
    if (typeof x !== "string") throw new CredentialsError(`${key}.${k}: want a string, got ${JSON.stringify(x)}`);
    return [k, x];
  });
}

function readFile(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CredentialsError(`${what}: open ${file}: ${code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message}`);
  }
}

/** PEM certificates of a CA file, checked as Go's AppendCertsFromPEM (at least one must parse). */
function caBundle(file: string, system: boolean, key: string): string[] {
  const text = readFile(file, key);
  const certs = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const good = certs.filter((c) => {
    try {
      new X509Certificate(c);
      return true;
    } catch {
      return false;
    }
  });
  if (good.length === 0) throw new CredentialsError(`${key}: unable to parse and append CA certificate to certificate pool`);
  return system ? [...rootCertificates, ...good] : good;
}

/** Go's url.QueryEscape: all but A-Z a-z 0-9 - _ . ~ percent-encoded, space as '+'. */
export function queryEscape(s: string): string {
  let out = "";
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === " ") out += "+";
    else out += `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** Go's url.Values.Encode(): keys sorted, values in the order added. */
export function formEncode(values: Map<string, string[]>): string {
  return [...values.keys()]
    .sort()
    .flatMap((k) => values.get(k)!.map((v) => `${queryEscape(k)}=${queryEscape(v)}`))
    .join("&");
}

/** JSON with object keys sorted at every level (Go's encoding of map[string]any). */
export function sortedJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJSON).join(",")}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJSON(v[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v) ?? "null";
}

interface TLSSettings {
  ca?: string[];
  rejectUnauthorized: boolean;
}

/** The client certificate of `client_tls`: read from its files, again when they change. */
class ClientCert {
  private cached: { cert: string; key: string; passphrase?: string; hash: string } | undefined;
  private loadedAt = 0;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    private readonly passphrase: string,
    private readonly rereadMs: number,
    private readonly key: string,
  ) {}

  /** The pair to use now (throws with OPA's texts when the files do not make one). */
  load(): { cert: string; key: string; passphrase?: string; hash: string } {
    if (this.cached && this.rereadMs > 0 && Date.now() - this.loadedAt < this.rereadMs) return this.cached;
    let cert: string;
    let key: string;
    try {
      cert = readFileSync(this.certFile, "utf8");
    } catch (e) {
      throw new CredentialsError(`failed to read client certificate file: open ${this.certFile}: ${errnoText(e)}`);
    }
    try {
      key = readFileSync(this.keyFile, "utf8");
    } catch (e) {
      throw new CredentialsError(`failed to read client key file: open ${this.keyFile}: ${errnoText(e)}`);
    }
    const hash = createHash("sha256").update(cert).update("\0").update(key).digest("hex");
    this.loadedAt = Date.now();
    if (this.cached?.hash === hash) return this.cached;
    if (!/-----BEGIN [A-Z ]+-----/.test(key)) throw new CredentialsError(`${this.key}: PEM data could not be found`);
    const encrypted = /Proc-Type:\s*4,ENCRYPTED/.test(key) || key.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----");
    if (encrypted && this.passphrase === "") throw new CredentialsError("client private key passphrase is needed, because the certificate is password encrypted");
    try {
      const pk = createPrivateKey(encrypted ? { key, passphrase: this.passphrase } : key);
      if (!new X509Certificate(cert).checkPrivateKey(pk)) throw new Error("private key does not match public key");
    } catch (e) {
      throw new CredentialsError(`failed to parse public/private key pair: ${(e as Error).message}`);
    }
    this.cached = { cert, key, passphrase: encrypted ? this.passphrase : undefined, hash };
    return this.cached;
  }
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "no such file or directory" : code === "EACCES" ? "permission denied" : (e as Error).message;
}

/** One undici Agent per TLS setting (and client certificate), replaced when the certificate changes. */
class Dispatchers {
  private agent: Undici.Agent | undefined;
  private agentKey = "";

  constructor(
    private readonly tls: TLSSettings,
    private readonly clientCert?: ClientCert,
  ) {}

  get(): Undici.Agent {
    const pair = this.clientCert?.load();
    const key = pair?.hash ?? "-";
    if (this.agent && this.agentKey === key) return this.agent;
    const old = this.agent;
    this.agent = new (undici().Agent)({
      connect: {
        ca: this.tls.ca,
        rejectUnauthorized: this.tls.rejectUnauthorized,
        ...(pair ? { cert: pair.cert, key: pair.key, passphrase: pair.passphrase } : {}),
      },
    });
    this.agentKey = key;
    // connections of the old certificate finish what they are doing
    if (old) void old.close().catch(() => undefined);
    return this.agent;
  }

  async close(): Promise<void> {
    await this.agent?.close().catch(() => undefined);
    this.agent = undefined;
  }
}

async function readCapped(res: Response, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  if (!res.body) return "";
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.length;
    if (n > limit) throw new CredentialsError(`the OAuth2 token endpoint's answer exceeds ${limit} bytes`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks).toString("utf8");
}

interface OAuth2 {
  grantType: "client_credentials" | "jwt_bearer";
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  headers: [string, string][];
  parameters: [string, string][];
  claims: Obj;
  includeJti: boolean;
  signing?: { alg: string; key: ReturnType<typeof signingKey> };
  assertion?: { type: string; value?: string; path?: string };
}

const CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

function parseOAuth2(o: Obj, key: string, keys: unknown): OAuth2 {
  const known = [
    "grant_type",
    "token_url",
    "client_id",
    "client_secret",
    "signing_key",
    "thumbprint",
    "additional_claims",
    "include_jti_claim",
    "scopes",
    "additional_headers",
    "additional_parameters",
    "aws_kms",
    "aws_signing",
    "azure_keyvault",
    "azure_signing",
    "client_assertion_type",
    "client_assertion",
    "client_assertion_path",
  ];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw new CredentialsError(`${key}.${k} is not a field of OPA's oauth2 credentials`);
  for (const k of ["aws_kms", "aws_signing", "azure_keyvault", "azure_signing", "thumbprint"]) {
    if (o[k] !== undefined && o[k] !== null) throw new CredentialsError(`${key}.${k} is not supported by portcullis run (client assertions are signed with a key of the keys section)`);
  }
  const grant = str(o.grant_type, `${key}.grant_type`) || "client_credentials";
  if (grant !== "client_credentials" && grant !== "jwt_bearer") throw new CredentialsError(`${key}: grant_type must be either client_credentials or jwt_bearer`);
  const signingKeyId = str(o.signing_key, `${key}.signing_key`);
  let signing: OAuth2["signing"];
  if (grant === "jwt_bearer" || signingKeyId !== "") {
    if (signingKeyId === "") throw new CredentialsError(`${key}: signing_key required for jwt_bearer grant type`);
    const k = isObj(keys) ? keys[signingKeyId] : undefined;
    if (!isObj(k)) throw new CredentialsError(`${key}: signing_key refers to non-existent key`);
    const privateKey = str(k.private_key, `keys.${signingKeyId}.private_key`);
    if (privateKey === "") throw new CredentialsError(`${key}: referenced signing_key does not include a private key`);
    const alg = str(k.algorithm, `keys.${signingKeyId}.algorithm`) || "RS256";
    if (!isSigningAlgorithm(alg)) throw new CredentialsError(`${key}: unknown signature algorithm: ${alg}`);
    try {
      signing = { alg, key: signingKey(privateKey, alg) };
    } catch (e) {
      throw new CredentialsError(`keys.${signingKeyId}.private_key: ${(e as Error).message}`);
    }
  }
  const tokenUrl = str(o.token_url, `${key}.token_url`);
  if (!tokenUrl.startsWith("https://")) throw new CredentialsError(`${key}: token_url required to use https scheme`);
  const clientId = str(o.client_id, `${key}.client_id`);
  const clientSecret = str(o.client_secret, `${key}.client_secret`);
  const assertionValue = str(o.client_assertion, `${key}.client_assertion`);
  const assertionPath = str(o.client_assertion_path, `${key}.client_assertion_path`);
  const assertionType = str(o.client_assertion_type, `${key}.client_assertion_type`) || CLIENT_ASSERTION_TYPE;
  if (grant === "client_credentials") {
    const set = [clientSecret !== "" && "client_secret", signingKeyId !== "" && "signing_key", assertionValue !== "" && "client_assertion", assertionPath !== "" && "client_assertion_path"].filter(Boolean);
    if (set.length === 0) throw new CredentialsError(`${key}: please provide one of client_secret, signing_key, client_assertion, or client_assertion_path`);
    if (set.length > 1) throw new CredentialsError(`${key}: can only use one of client_secret, signing_key, client_assertion, or client_assertion_path`);
    if (clientId === "") {
      if (clientSecret !== "") throw new CredentialsError(`${key}: client_id and client_secret required`);
      if (assertionValue !== "") throw new CredentialsError(`${key}: client_id and client_assertion required`);
      if (assertionPath !== "") throw new CredentialsError(`${key}: client_id and client_assertion_path required`);
    }
  }
  const scopes = o.scopes ?? [];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== "string")) throw new CredentialsError(`${key}.scopes: want a list of strings`);
  const claims = o.additional_claims ?? {};
  if (!isObj(claims)) throw new CredentialsError(`${key}.additional_claims: want an object`);
  return {
    grantType: grant,
    tokenUrl,
    clientId,
    clientSecret,
    scopes: scopes as string[],
    headers: strMap(o.additional_headers, `${key}.additional_headers`),
    parameters: strMap(o.additional_parameters, `${key}.additional_parameters`),
    claims,
    includeJti: bool(o.include_jti_claim, `${key}.include_jti_claim`),
    signing,
    assertion: assertionValue !== "" ? { type: assertionType, value: assertionValue } : assertionPath !== "" ? { type: assertionType, path: assertionPath } : undefined,
  };
}

/** The JWT of a client assertion or a jwt_bearer grant, as OPA builds it. */
function assertionJWT(o: OAuth2): string {
  const now = Math.floor(Date.now() / 1000);
  const claims: Obj = { iat: now, exp: now + 600, ...o.claims };
  if (o.scopes.length > 0) claims.scope = o.scopes.join(" ");
  if (o.includeJti) claims.jti = randomUUID();
  return signCompact(sortedJSON(claims), o.signing!.alg as Parameters<typeof signCompact>[1], o.signing!.key, "");
}

/** The token request's form body and headers (exported for tests). */
export function tokenRequest(o: OAuth2): { body: string; headers: Record<string, string> } {
  const v = new Map<string, string[]>();
  const add = (k: string, x: string) => v.set(k, [...(v.get(k) ?? []), x]);
  if (o.scopes.length > 0) add("scope", o.scopes.join(" "));
  for (const [k, x] of o.parameters) v.set(k, [x]);
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (o.grantType === "jwt_bearer") {
    add("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
    add("assertion", assertionJWT(o));
  } else {
    add("grant_type", "client_credentials");
    if (o.signing) {
      add("client_assertion_type", CLIENT_ASSERTION_TYPE);
      add("client_assertion", assertionJWT(o));
      if (o.clientId !== "") add("client_id", o.clientId);
    } else if (o.assertion) {
      if (o.clientId !== "") add("client_id", o.clientId);
      add("client_assertion_type", o.assertion.type);
      add("client_assertion", o.assertion.value ?? readFile(o.assertion.path!, "client_assertion_path").trim());
    }
    if (o.clientSecret !== "") headers.Authorization = `Basic ${Buffer.from(`${o.clientId}:${o.clientSecret}`).toString("base64")}`;
  }
  for (const [k, x] of o.headers) headers[k] = x;
  return { body: formEncode(v), headers };
}

/** The OAuth2 token of a service: requested when missing or about to expire, shared by concurrent requests. */
class TokenSource {
  private token: { value: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;

  constructor(
    private readonly o: OAuth2,
    private readonly dispatcher: () => Undici.Agent | undefined,
    private readonly userAgent: string,
  ) {}

  get(): Promise<string> {
    if (this.token && this.token.expiresAt - Date.now() >= MIN_TOKEN_LIFETIME_MS) return Promise.resolve(this.token.value);
    this.pending ??= this.request().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async request(): Promise<string> {
    const { body, headers } = tokenRequest(this.o);
    const signal = AbortSignal.timeout(TOKEN_TIMEOUT_MS);
    let res: Response;
    try {
      res = await doFetch(this.o.tokenUrl, { method: "POST", headers: { "User-Agent": this.userAgent, ...headers }, body, signal }, this.dispatcher());
    } catch (e) {
      throw new CredentialsError(`OAuth2 token request to ${this.o.tokenUrl} failed: ${fetchError(e, signal)}`);
    }
    const text = await readCapped(res, TOKEN_RESPONSE_LIMIT);
    if (res.status !== 200) throw new CredentialsError(`error in response from OAuth2 token endpoint: ${text}`);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new CredentialsError(`OAuth2 token endpoint: ${(e as Error).message}`);
    }
    if (!isObj(doc)) throw new CredentialsError("OAuth2 token endpoint: the answer is not a JSON object");
    const field = (k: string, t: "string" | "number") => {
      const x = doc[k];
      if (x === undefined || x === null) return undefined;
      if (typeof x !== t) throw new CredentialsError(`OAuth2 token endpoint: json: cannot unmarshal ${typeof x} into Go struct field tokenEndpointResponse.${k} of type ${t === "string" ? "string" : "int64"}`);
      return x;
    };
    const access = (field("access_token", "string") as string | undefined) ?? "";
    const type = (field("token_type", "string") as string | undefined) ?? "";
    const expiresIn = (field("expires_in", "number") as number | undefined) ?? 0;
    if (type.toLowerCase() !== "bearer") throw new CredentialsError("unknown token type returned from token endpoint");
    this.token = { value: access.trim(), expiresAt: Date.now() + Math.trunc(expiresIn) * 1000 };
    return this.token.value;
  }
}

function fetchError(e: unknown, signal: AbortSignal): string {
  if (signal.aborted) return "request timed out";
  const cause = (e as { cause?: Error }).cause;
  return `${(e as Error).message}${cause ? `: ${cause.message}` : ""}`;
}

async function doFetch(url: string, req: ServiceRequest, dispatcher: Undici.Agent | undefined): Promise<Response> {
  if (!dispatcher) return fetch(url, { method: req.method ?? "GET", headers: req.headers, body: req.body as BodyInit | undefined, signal: req.signal, redirect: "follow" });
  return (await undici().fetch(url, { method: req.method ?? "GET", headers: req.headers, body: req.body, signal: req.signal, redirect: "follow", dispatcher })) as unknown as Response;
}

/**
 * The transport of service `name` from its configuration object (`url`, `tls`,
 * `allow_insecure_tls`, `credentials`) and the configuration's `keys` (for oauth2 signing keys).
 * `warn` receives OPA's deprecation warning.
 */
export function serviceTransport(name: string, s: Obj, keys: unknown, userAgent: string, warn: (msg: string) => void = () => undefined): ServiceTransport {
  const base = `services.${name}`;
  let tlsCA: string[] | undefined;
  if (s.tls !== undefined && s.tls !== null) {
    if (!isObj(s.tls)) throw new CredentialsError(`${base}.tls: want an object`);
    for (const k of Object.keys(s.tls)) if (k !== "ca_cert" && k !== "system_ca_required") throw new CredentialsError(`${base}.tls.${k} is not a field of OPA's service tls (ca_cert, system_ca_required)`);
    const ca = str(s.tls.ca_cert, `${base}.tls.ca_cert`);
    if (ca !== "") tlsCA = caBundle(ca, bool(s.tls.system_ca_required, `${base}.tls.system_ca_required`), `${base}.tls.ca_cert`);
  }
  const insecure = bool(s.allow_insecure_tls, `${base}.allow_insecure_tls`);
  let authorization: (() => Promise<string>) | undefined;
  let clientCert: ClientCert | undefined;
  let oauth: OAuth2 | undefined;
  if (s.credentials !== undefined && s.credentials !== null) {
    if (!isObj(s.credentials)) throw new CredentialsError(`${base}.credentials: want an object`);
    const kinds = Object.keys(s.credentials).filter((k) => s.credentials !== null && (s.credentials as Obj)[k] !== null && (s.credentials as Obj)[k] !== undefined);
    for (const k of kinds) {
      if (!CREDENTIALS.includes(k)) throw new CredentialsError(`${base}.credentials.${k} is not a credential type of OPA (bearer, oauth2, client_tls, s3_signing, gcp_metadata, azure_managed_identity, plugin)`);
      if (REFUSED_CREDENTIALS.includes(k)) throw new CredentialsError(`${base}.credentials.${k} is not supported by portcullis run (supported: bearer, oauth2, client_tls; ${REFUSED_CREDENTIALS.join(", ")} are not)`);
    }
    if (kinds.length > 1) throw new CredentialsError(`${base}.credentials: a maximum one credential method must be specified`);
    const kind = kinds[0];
    const c = (s.credentials as Obj)[kind];
    const key = `${base}.credentials.${kind}`;
    if (kind !== undefined && !isObj(c)) throw new CredentialsError(`${key}: want an object`);
    if (kind === "bearer") {
      const b = c as Obj;
      for (const k of Object.keys(b)) if (!["token", "token_path", "scheme"].includes(k)) throw new CredentialsError(`${key}.${k} is not a field of OPA's bearer credentials (token, token_path, scheme)`);
      const scheme = str(b.scheme, `${key}.scheme`) || "Bearer";
      const token = str(b.token, `${key}.token`);
      const tokenPath = str(b.token_path, `${key}.token_path`);
      if (token !== "" && tokenPath !== "") throw new CredentialsError(`${key}: invalid config: specify a value for either the "token" or "token_path" field`);
      authorization = tokenPath !== "" ? async () => `${scheme} ${readFile(tokenPath, `${key}.token_path`).trim()}` : async () => `${scheme} ${token}`;
    } else if (kind === "client_tls") {
      const t = c as Obj;
      for (const k of Object.keys(t)) {
        if (!["cert", "private_key", "private_key_passphrase", "ca_cert", "system_ca_required", "cert_reread_interval_seconds"].includes(k)) throw new CredentialsError(`${key}.${k} is not a field of OPA's client_tls credentials`);
      }
      const cert = str(t.cert, `${key}.cert`);
      const pk = str(t.private_key, `${key}.private_key`);
      if (cert === "") throw new CredentialsError(`${key}: client certificate is needed when client TLS is enabled`);
      if (pk === "") throw new CredentialsError(`${key}: private key is needed when client TLS is enabled`);
      const reread = t.cert_reread_interval_seconds ?? 0;
      if (typeof reread !== "number" || !Number.isInteger(reread) || reread < 0) throw new CredentialsError(`${key}.cert_reread_interval_seconds: want a whole number of seconds ≥ 0`);
      clientCert = new ClientCert(cert, pk, str(t.private_key_passphrase, `${key}.private_key_passphrase`), reread * 1000, key);
      clientCert.load(); // refuse a pair that cannot work now rather than at every request
      const ca = str(t.ca_cert, `${key}.ca_cert`);
      if (tlsCA === undefined && ca !== "") {
        warn("Deprecated 'services[_].credentials.client_tls.ca_cert' configuration specified. Use 'services[_].tls.ca_cert' instead. See https://www.openpolicyagent.org/docs/latest/configuration/#services");
        tlsCA = caBundle(ca, bool(t.system_ca_required, `${key}.system_ca_required`), `${key}.ca_cert`);
      }
    } else if (kind === "oauth2") {
      oauth = parseOAuth2(c as Obj, key, keys);
    }
  }
  const custom = tlsCA !== undefined || insecure || clientCert !== undefined;
  const tls: TLSSettings = { ca: tlsCA, rejectUnauthorized: !insecure };
  const dispatchers = custom ? new Dispatchers(tls, clientCert) : undefined;
  // The token endpoint: the service's CA and verification switch, never the client certificate.
  const tokenDispatchers = oauth && (tlsCA !== undefined || insecure) ? new Dispatchers(tls) : undefined;
  if (oauth) {
    const tokens = new TokenSource(oauth, () => tokenDispatchers?.get(), userAgent);
    authorization = async () => `Bearer ${await tokens.get()}`;
  }
  return {
    async send(url, req) {
      const headers = { ...req.headers };
      if (authorization) headers.Authorization = await authorization();
      return doFetch(url, { ...req, headers }, dispatchers?.get());
    },
    async close() {
      await dispatchers?.close();
      await tokenDispatchers?.close();
    },
  };
}
