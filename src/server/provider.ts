// `portcullis provider`: a Gatekeeper external-data provider that verifies image signatures.
//
// Gatekeeper POSTs {"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
// "request": {"keys": [<image reference>, …]}} and reads back a ProviderResponse whose
// response.items[] carry, per key, `value` = the verified digest (`sha256:…`) or `error` = why
// the image is refused, and response.systemError for a request that could not be answered.
//
// Which signatures count is set per image by the keys configuration (YAML or JSON):
//
//   policies:                       # the first policy whose pattern matches the image wins
//     - match: ["127.0.0.1:5000/team/*", "ghcr.io/org/**"]
//       keys: [/etc/keys/team.pub]  # key-based: any one of these public keys
//     - match: ["registry.example.com/**"]
//       identities:                 # keyless: any one of these identities
//         - {issuer: https://token.actions.githubusercontent.com, subjectRegExp: "^https://github.com/org/"}
//       trustedRoot: /etc/sigstore/trusted_root.json
//       ignoreTlog: false
//       ignoreSct: false
//       annotations: {env: prod}
//   registry: {plainHttp: false, insecure: false, caFile: /etc/ca.pem}
//   cache: {digestTTL: 60, resultTTL: 600}   # seconds
//
// Patterns are matched against `registry/repository` of the normalized reference: `*` within a
// path segment, `**` across segments. An image no policy matches is refused (fail closed).
// Tags are resolved to digests (that resolution is cached for digestTTL); results, successes and
// failures alike, are cached by digest and policy for resultTTL (failures for at most 30 s, so a
// signature pushed after a refusal is seen soon). Limits: request body 1 MiB, 1000 keys per
// request, 8 registry lookups at a time, and a deadline per request.

import * as https from "node:https";
import * as http from "node:http";
import { readFileSync } from "node:fs";
import { re2Tester, type RE2Tester } from "../builtins/re2.ts";
import type { ClientOptions, Reference } from "../oci/index.ts";
import type { VerifyPolicy, Identity } from "../sign/verify.ts";
import type { Logger } from "./log.ts";

export const MAX_REQUEST_BYTES = 1 << 20;
export const MAX_KEYS = 1000;
export const LOOKUP_CONCURRENCY = 8;
const MAX_FAILURE_TTL_S = 30;

export class ProviderConfigError extends Error {}

export interface ProviderPolicy {
  name: string;
  patterns: RE2Tester[];
  policy: VerifyPolicy;
  /** a stable text of the policy, part of the cache key */
  id: string;
}

export interface ProviderConfig {
  policies: ProviderPolicy[];
  registry: ClientOptions;
  digestTTL: number;
  resultTTL: number;
}

function globToRE2(glob: string): string {
  let out = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      out += ".*";
      i++;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
  }
  return `${out}$`;
}

function str(v: unknown, where: string): string {
  if (typeof v !== "string" || v === "") throw new ProviderConfigError(`${where}: expected a non-empty string`);
  return v;
}

function optStr(v: unknown, where: string): string | undefined {
  return v === undefined || v === null ? undefined : str(v, where);
}

function bool(v: unknown, where: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== "boolean") throw new ProviderConfigError(`${where}: expected true or false`);
  return v;
}

function num(v: unknown, dflt: number, where: string): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new ProviderConfigError(`${where}: expected a number of seconds ≥ 0`);
  return v;
}

/** Reads the keys configuration; file paths in it are relative to the file's directory. */
export async function loadProviderConfig(file: string): Promise<ProviderConfig> {
  const { dirname, resolve } = await import("node:path");
  const yaml = await import("js-yaml");
  const { loadPublicKey } = await import("../sign/keys.ts");
  const { parseTrustedRoot, compileIdentity } = await import("../sign/verify.ts");
  const base = dirname(resolve(file));
  const rel = (p: string) => resolve(base, p);
  let doc: any;
  try {
    doc = yaml.load(readFileSync(file, "utf8"), { json: true });
  } catch (e) {
    throw new ProviderConfigError(`${file}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray(doc.policies) || doc.policies.length === 0) throw new ProviderConfigError(`${file}: expected an object with a non-empty "policies" list`);
  const policies: ProviderPolicy[] = doc.policies.map((p: any, i: number) => {
    const where = `${file}: policies[${i}]`;
    if (typeof p !== "object" || p === null) throw new ProviderConfigError(`${where}: expected an object`);
    const match = Array.isArray(p.match) ? p.match : [p.match];
    const patterns = match.map((m: unknown, j: number) => re2Tester(globToRE2(str(m, `${where}.match[${j}]`))));
    const keys = p.keys === undefined ? [] : (Array.isArray(p.keys) ? p.keys : [p.keys]).map((k: unknown, j: number) => {
      const text = str(k, `${where}.keys[${j}]`);
      try {
        return loadPublicKey(text.includes("-----BEGIN") ? text : readFileSync(rel(text), "utf8"));
      } catch (e) {
        throw new ProviderConfigError(`${where}.keys[${j}]: ${(e as Error).message}`);
      }
    });
    const identities: Identity[] = p.identities === undefined ? [] : (Array.isArray(p.identities) ? p.identities : []).map((id: any, j: number) => {
      const w = `${where}.identities[${j}]`;
      const out: Identity = { subject: optStr(id?.subject, `${w}.subject`), subjectRegExp: optStr(id?.subjectRegExp, `${w}.subjectRegExp`), issuer: optStr(id?.issuer, `${w}.issuer`), issuerRegExp: optStr(id?.issuerRegExp, `${w}.issuerRegExp`) };
      try {
        compileIdentity(out);
      } catch (e) {
        throw new ProviderConfigError(`${w}: ${(e as Error).message}`);
      }
      return out;
    });
    if ((keys.length > 0) === (identities.length > 0)) throw new ProviderConfigError(`${where}: give either "keys" or "identities"`);
    let trustedRoot;
    if (p.trustedRoot !== undefined) {
      try {
        trustedRoot = parseTrustedRoot(readFileSync(rel(str(p.trustedRoot, `${where}.trustedRoot`)), "utf8"));
      } catch (e) {
        throw new ProviderConfigError(`${where}.trustedRoot: ${(e as Error).message}`);
      }
    }
    const annotations: Record<string, string> = {};
    if (p.annotations !== undefined) {
      if (typeof p.annotations !== "object" || p.annotations === null) throw new ProviderConfigError(`${where}.annotations: expected an object`);
      for (const [k, v] of Object.entries(p.annotations)) annotations[k] = String(v);
    }
    const policy: VerifyPolicy = {
      ...(keys.length ? { keys } : { identities }),
      ...(trustedRoot ? { trustedRoot } : {}),
      ignoreTlog: bool(p.ignoreTlog, `${where}.ignoreTlog`),
      ignoreSct: bool(p.ignoreSct, `${where}.ignoreSct`),
      annotations,
    };
    return { name: typeof p.name === "string" ? p.name : `policies[${i}]`, patterns, policy, id: `${i}` };
  });
  const { checkPolicy } = await import("../sign/verify.ts");
  for (const p of policies) {
    try {
      checkPolicy(p.policy);
    } catch (e) {
      throw new ProviderConfigError(`${file}: ${p.name}: ${(e as Error).message}`);
    }
  }
  const reg = doc.registry ?? {};
  const registry: ClientOptions = {};
  if (reg.plainHttp !== undefined) registry.plainHttp = bool(reg.plainHttp, `${file}: registry.plainHttp`);
  if (reg.insecure !== undefined) registry.insecure = bool(reg.insecure, `${file}: registry.insecure`);
  if (reg.caFile !== undefined) registry.caFile = rel(str(reg.caFile, `${file}: registry.caFile`));
  registry.timeoutMs = num(reg.timeout, 10, `${file}: registry.timeout`) * 1000;
  return { policies, registry, digestTTL: num(doc.cache?.digestTTL, 60, `${file}: cache.digestTTL`), resultTTL: num(doc.cache?.resultTTL, 600, `${file}: cache.resultTTL`) };
}

interface Item {
  key: string;
  value?: string;
  error?: string;
}

/** Runs `f` over `items` with at most `n` in flight. */
async function mapLimit<T, R>(items: T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** The verifier behind the provider: references in, digests or errors out, with its caches. */
export class ImageVerifier {
  private readonly digests = new Map<string, { digest: string; expires: number }>();
  private readonly results = new Map<string, { value?: string; error?: string; expires: number }>();
  private client?: import("../oci/index.ts").RegistryClient;
  /** Cache statistics (for logs and tests). */
  readonly stats = { resolved: 0, verified: 0, cacheHits: 0 };

  constructor(readonly config: ProviderConfig) {}

  private async registry() {
    if (!this.client) {
      const { RegistryClient, DockerConfigCredentials } = await import("../oci/index.ts");
      this.client = new RegistryClient({ credentials: new DockerConfigCredentials(), ...this.config.registry });
    }
    return this.client;
  }

  async close(): Promise<void> {
    await this.client?.close();
  }

  private policyFor(ref: Reference): ProviderPolicy | undefined {
    const name = `${ref.registry}/${ref.repository}`;
    return this.config.policies.find((p) => p.patterns.some((re) => re.test(name)));
  }

  /** Verifies one image reference: its digest, or the reason it is refused. */
  async verifyOne(key: string): Promise<Item> {
    const { parseReference, formatReference } = await import("../oci/index.ts");
    let ref: Reference;
    try {
      ref = parseReference(key, "latest");
    } catch (e) {
      return { key, error: (e as Error).message };
    }
    const policy = this.policyFor(ref);
    if (!policy) return { key, error: `no verification policy matches ${ref.registry}/${ref.repository}` };
    const now = Date.now();
    try {
      let digest = ref.digest;
      if (!digest) {
        const tagKey = formatReference(ref);
        const hit = this.digests.get(tagKey);
        if (hit && hit.expires > now) digest = hit.digest;
        else {
          const d = await (await this.registry()).resolve(ref);
          this.stats.resolved++;
          digest = d.digest;
          this.digests.set(tagKey, { digest, expires: now + this.config.digestTTL * 1000 });
        }
      }
      const cacheKey = `${policy.id}\u0000${ref.registry}/${ref.repository}@${digest}`;
      const cached = this.results.get(cacheKey);
      if (cached && cached.expires > now) {
        this.stats.cacheHits++;
        return { key, value: cached.value, error: cached.error };
      }
      const { fetchCandidates } = await import("../sign/remote.ts");
      const { verifyCandidates } = await import("../sign/verify.ts");
      const pinned: Reference = { registry: ref.registry, repository: ref.repository, digest };
      const candidates = await fetchCandidates(await this.registry(), pinned, digest);
      this.stats.verified++;
      let result: { value?: string; error?: string };
      if (candidates.length === 0) result = { error: `no signatures found for ${formatReference(pinned)}` };
      else {
        const r = verifyCandidates(candidates, digest, policy.policy);
        result = r.verified.length > 0 ? { value: digest } : { error: `no valid signature for ${formatReference(pinned)}: ${r.failures.join("; ")}` };
      }
      const ttl = result.error ? Math.min(this.config.resultTTL, MAX_FAILURE_TTL_S) : this.config.resultTTL;
      this.results.set(cacheKey, { ...result, expires: now + ttl * 1000 });
      return { key, ...result };
    } catch (e) {
      // registry errors are not cached: the next request tries again
      return { key, error: (e as Error).message.replace(/\s*\n\s*/g, " ") };
    }
  }

  async verifyAll(keys: string[]): Promise<Item[]> {
    return mapLimit(keys, LOOKUP_CONCURRENCY, (k) => this.verifyOne(k));
  }
}

export interface ProviderServerOptions {
  addr: string;
  port: number;
  tls?: { certFile: string; keyFile: string; clientCAFile?: string };
  /** deadline of one request, ms */
  requestTimeoutMs: number;
  log: Logger;
}

export interface RunningProvider {
  port: number;
  close(): Promise<void>;
}

function answer(res: http.ServerResponse, status: number, items: Item[], systemError = ""): void {
  const body = JSON.stringify({
    apiVersion: "externaldata.gatekeeper.sh/v1beta1",
    kind: "ProviderResponse",
    response: { idempotent: true, items: items.map((i) => ({ key: i.key, ...(i.value !== undefined ? { value: i.value } : {}), ...(i.error ? { error: i.error } : {}) })), systemError },
  });
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the provider's HTTPS (or, without TLS, HTTP) server. */
export function startProvider(verifier: ImageVerifier, o: ProviderServerOptions): Promise<RunningProvider> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const started = Date.now();
    if (req.method !== "POST") {
      if (req.method === "GET" && req.url === "/health") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
        return;
      }
      res.writeHead(405, { allow: "POST" });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        tooBig = true;
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("error", () => {
      if (tooBig && !res.headersSent) answer(res, 413, [], `request body larger than ${MAX_REQUEST_BYTES} bytes`);
    });
    req.on("end", async () => {
      let keys: string[];
      try {
        const doc = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (doc?.kind !== "ProviderRequest" || !Array.isArray(doc?.request?.keys)) throw new Error('expected a ProviderRequest with "request.keys"');
        keys = doc.request.keys.map((k: unknown) => String(k));
      } catch (e) {
        o.log.error("bad provider request", { err: (e as Error).message });
        answer(res, 400, [], `bad request: ${(e as Error).message}`);
        return;
      }
      if (keys.length > MAX_KEYS) {
        o.log.error("bad provider request", { err: `${keys.length} keys` });
        answer(res, 400, [], `too many keys: ${keys.length} (at most ${MAX_KEYS})`);
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), o.requestTimeoutMs)));
      const result = await Promise.race([verifier.verifyAll(keys), deadline]);
      clearTimeout(timer);
      if (result === "timeout") {
        o.log.error("provider request timed out", { keys: keys.length, timeout_ms: o.requestTimeoutMs });
        answer(res, 504, [], `verification did not finish within ${o.requestTimeoutMs} ms`);
        return;
      }
      const refused = result.filter((i) => i.error).length;
      o.log.info("provider request", { keys: keys.length, refused, duration_ms: Date.now() - started });
      for (const i of result) if (i.error) o.log.debug("image refused", { image: i.key, err: i.error });
      answer(res, 200, result);
    });
  };
  const server = o.tls
    ? https.createServer({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile), ...(o.tls.clientCAFile ? { ca: readFileSync(o.tls.clientCAFile), requestCert: true, rejectUnauthorized: true } : {}), requestTimeout: o.requestTimeoutMs + 5000, headersTimeout: 10_000 }, handler)
    : http.createServer({ requestTimeout: o.requestTimeoutMs + 5000, headersTimeout: 10_000 }, handler);
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.addr, () => {
      const port = (server.address() as { port: number }).port;
      resolve({
        port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
