// A small client of the OCI distribution API (distribution-spec v1.1): manifests and indexes,
// blobs (monolithic and chunked upload, cross-repository mount), tags, referrers (with the
// `sha256-<hex>` tag-schema fallback), Bearer-token and Basic authentication, bounded retries.
//
// Every request has a deadline (`timeoutMs`); every body read has a size limit; every digest is
// checked against the bytes received. Registries on loopback addresses are reached over plain
// HTTP unless `plainHttp: false`; others over HTTPS (with `caFile`, or `insecure` to skip
// certificate verification).

import { readFileSync } from "node:fs";
import type { Dispatcher } from "undici";
import { lazyRequire } from "../lazy.ts";
import type { Credential, CredentialSource } from "./credentials.ts";
import { apiHost, isLoopback, type Reference, referenceTarget, formatReference } from "./reference.ts";
import {
  type Descriptor,
  type ImageIndex,
  INDEX_TYPES,
  MANIFEST_TYPES,
  MEDIA,
  digestWith,
  manifestMediaType,
  parseImageIndex,
  sha256Digest,
} from "./types.ts";

const undici = lazyRequire<typeof import("undici")>("undici");

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    /** The OCI error codes of the response (`MANIFEST_UNKNOWN`, …). */
    readonly codes: string[] = [],
  ) {
    super(message);
  }
  get notFound(): boolean {
    return this.status === 404;
  }
}

export interface ClientOptions {
  /** Where credentials come from (default: none, anonymous). */
  credentials?: CredentialSource;
  /** true: HTTP everywhere; false: HTTPS everywhere; undefined: HTTP for loopback registries only. */
  plainHttp?: boolean;
  /** HTTPS without certificate verification. */
  insecure?: boolean;
  /** PEM file of CA certificates to trust (in addition to none: it replaces the default roots). */
  caFile?: string;
  /** Deadline of each request in ms (default 30 s). */
  timeoutMs?: number;
  /** Retries of a request after 5xx/429 or a connection error (default 3). */
  retries?: number;
  /** First retry delay in ms, doubled each time (default 200). */
  backoffMs?: number;
  /** Largest manifest accepted (default 4 MiB, distribution's own limit). */
  maxManifestBytes?: number;
  /** Largest blob downloaded (default 256 MiB). */
  maxBlobBytes?: number;
  /** Uploads larger than this go in PATCH chunks of this size (default 0: monolithic PUT). */
  chunkSize?: number;
  userAgent?: string;
}

export interface FetchedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  /** The parsed JSON. */
  json: Record<string, unknown>;
}

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

interface RequestSpec {
  method: string;
  /** Absolute URL or path from the registry's root. */
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Token scopes this request needs (`repository:NAME:pull`). */
  scopes: string[];
  maxBytes: number;
  /** HEAD requests and the like: discard the body. */
  noBody?: boolean;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const MAX_REDIRECTS = 5;
const MAX_RETRY_AFTER_MS = 10_000;
const MAX_TAG_PAGES = 100;
const MAX_ERROR_BODY = 64 << 10;
const DEFAULT_ACCEPT = MANIFEST_TYPES.join(", ");

interface Token {
  value: string;
  expires: number;
}

function header(h: Response["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (also the Basic form) into its scheme and parameters. */
export function parseChallenge(value: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(value);
  if (!m) return { scheme: "", params: {} };
  const params: Record<string, string> = {};
  const re = /([A-Za-z_][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2])) !== null) {
    if (p[0] === "") break;
    params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : p[3];
  }
  return { scheme: m[1].toLowerCase(), params };
}

const pullScope = (repo: string) => `repository:${repo}:pull`;
const pushScope = (repo: string) => `repository:${repo}:pull,push`;

export class RegistryClient {
  private readonly opts: Required<Omit<ClientOptions, "credentials" | "caFile" | "plainHttp">> & Pick<ClientOptions, "credentials" | "caFile" | "plainHttp">;
  private dispatcherCache?: Dispatcher;
  private readonly tokens = new Map<string, Token>();
  /** Registries that answered with a Basic challenge. */
  private readonly basic = new Set<string>();
  private readonly creds = new Map<string, Promise<Credential | undefined>>();

  constructor(opts: ClientOptions = {}) {
    this.opts = {
      credentials: opts.credentials,
      plainHttp: opts.plainHttp,
      insecure: opts.insecure ?? false,
      caFile: opts.caFile,
      timeoutMs: opts.timeoutMs ?? 30_000,
      retries: opts.retries ?? 3,
      backoffMs: opts.backoffMs ?? 200,
      maxManifestBytes: opts.maxManifestBytes ?? 4 << 20,
      maxBlobBytes: opts.maxBlobBytes ?? 256 << 20,
      chunkSize: opts.chunkSize ?? 0,
      userAgent: opts.userAgent ?? "portcullis",
    };
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.dispatcherCache?.close();
    this.dispatcherCache = undefined;
  }

  // --- manifests ------------------------------------------------------------------------------

  /** HEADs a manifest: its descriptor (digest from the registry's Docker-Content-Digest). */
  async resolve(ref: Reference): Promise<Descriptor> {
    const target = referenceTarget(ref);
    const r = await this.send(ref.registry, {
      method: "HEAD",
      url: `/v2/${ref.repository}/manifests/${target}`,
      headers: { accept: DEFAULT_ACCEPT },
      scopes: [pullScope(ref.repository)],
      maxBytes: 0,
      noBody: true,
    });
    this.expect(r, [200], "HEAD", ref);
    const digest = header(r.headers, "docker-content-digest");
    const size = Number(header(r.headers, "content-length"));
    const mediaType = header(r.headers, "content-type")?.split(";")[0].trim();
    if (!digest || !Number.isSafeInteger(size) || !mediaType || (ref.digest !== undefined && digest !== ref.digest)) {
      // no usable HEAD answer: GET verifies the content
      return (await this.getManifest(ref)).descriptor;
    }
    return { mediaType, digest, size };
  }

  /** GETs a manifest or index; its digest is checked (against the reference's digest, else the registry's header). */
  async getManifest(ref: Reference, accept: readonly string[] = MANIFEST_TYPES): Promise<FetchedManifest> {
    const target = referenceTarget(ref);
    const r = await this.send(ref.registry, {
      method: "GET",
      url: `/v2/${ref.repository}/manifests/${target}`,
      headers: { accept: accept.join(", ") },
      scopes: [pullScope(ref.repository)],
      maxBytes: this.opts.maxManifestBytes,
    });
    this.expect(r, [200], "GET", ref);
    const expected = ref.digest ?? header(r.headers, "docker-content-digest");
    let digest = sha256Digest(r.body);
    if (expected !== undefined) {
      const algorithm = expected.split(":")[0];
      const actual = digestWith(algorithm, r.body);
      if (actual === undefined) throw new RegistryError(`${formatReference(ref)}: unsupported digest algorithm ${algorithm}`);
      if (actual !== expected) throw new RegistryError(`${formatReference(ref)}: manifest digest mismatch: expected ${expected}, got ${actual}`);
      digest = actual;
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(r.body.toString("utf8"));
    } catch (e) {
      throw new RegistryError(`${formatReference(ref)}: manifest is not JSON: ${(e as Error).message}`);
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) throw new RegistryError(`${formatReference(ref)}: manifest is not a JSON object`);
    const headerType = header(r.headers, "content-type")?.split(";")[0].trim();
    const mediaType = typeof json.mediaType === "string" ? json.mediaType : headerType && MANIFEST_TYPES.includes(headerType) ? headerType : manifestMediaType(json);
    return { descriptor: { mediaType, digest, size: r.body.length }, bytes: r.body, json };
  }

  /**
   * PUTs a manifest (its bytes exactly) at `tagOrDigest` (default: its digest); returns its
   * descriptor and whether the registry processed its `subject` (the OCI-Subject header).
   */
  async putManifest(ref: Reference, bytes: Buffer, mediaType: string, tagOrDigest?: string): Promise<{ descriptor: Descriptor; subjectHandled: boolean }> {
    if (bytes.length > this.opts.maxManifestBytes) throw new RegistryError(`manifest of ${bytes.length} bytes is larger than the limit of ${this.opts.maxManifestBytes}`);
    const digest = sha256Digest(bytes);
    const target = tagOrDigest ?? digest;
    const r = await this.send(ref.registry, {
      method: "PUT",
      url: `/v2/${ref.repository}/manifests/${target}`,
      headers: { "content-type": mediaType },
      body: bytes,
      scopes: [pushScope(ref.repository)],
      maxBytes: MAX_ERROR_BODY,
    });
    this.expect(r, [201], "PUT", { ...ref, tag: target, digest: undefined });
    const echoed = header(r.headers, "docker-content-digest");
    if (echoed !== undefined && echoed !== digest) throw new RegistryError(`PUT manifest ${formatReference(ref)}: registry computed digest ${echoed}, expected ${digest}`);
    return { descriptor: { mediaType, digest, size: bytes.length }, subjectHandled: header(r.headers, "oci-subject") !== undefined };
  }

  /** DELETEs a manifest by digest. */
  async deleteManifest(ref: Reference, digest: string): Promise<void> {
    const r = await this.send(ref.registry, {
      method: "DELETE",
      url: `/v2/${ref.repository}/manifests/${digest}`,
      scopes: [`repository:${ref.repository}:delete`],
      maxBytes: MAX_ERROR_BODY,
    });
    this.expect(r, [202], "DELETE", { ...ref, tag: undefined, digest });
  }

  // --- blobs ----------------------------------------------------------------------------------

  /** The size of a blob when the repository has it, else undefined. */
  async blobSize(ref: Reference, digest: string): Promise<number | undefined> {
    const r = await this.send(ref.registry, {
      method: "HEAD",
      url: `/v2/${ref.repository}/blobs/${digest}`,
      scopes: [pullScope(ref.repository)],
      maxBytes: 0,
      noBody: true,
    });
    if (r.status === 404) return undefined;
    this.expect(r, [200], "HEAD", { ...ref, tag: undefined, digest });
    const n = Number(header(r.headers, "content-length"));
    return Number.isSafeInteger(n) ? n : -1;
  }

  /** GETs a blob; its size (when `size` is given) and digest are checked. */
  async getBlob(ref: Reference, digest: string, size?: number, maxBytes = this.opts.maxBlobBytes): Promise<Buffer> {
    if (size !== undefined && size > maxBytes) throw new RegistryError(`blob ${digest} of ${size} bytes is larger than the limit of ${maxBytes}`);
    const algorithm = digest.split(":")[0];
    if (digestWith(algorithm, Buffer.alloc(0)) === undefined) throw new RegistryError(`blob ${digest}: unsupported digest algorithm ${algorithm}`);
    const r = await this.send(ref.registry, {
      method: "GET",
      url: `/v2/${ref.repository}/blobs/${digest}`,
      scopes: [pullScope(ref.repository)],
      maxBytes: size ?? maxBytes,
    });
    this.expect(r, [200], "GET", { ...ref, tag: undefined, digest });
    if (size !== undefined && r.body.length !== size) throw new RegistryError(`blob ${digest}: expected ${size} bytes, got ${r.body.length}`);
    const actual = digestWith(algorithm, r.body);
    if (actual !== digest) throw new RegistryError(`blob ${digest}: digest mismatch: got ${actual}`);
    return r.body;
  }

  /**
   * Uploads a blob unless the repository has it: mounted from `mountFrom` (a repository of the
   * same registry) when given and the registry agrees, else in one PUT, or in PATCH chunks when
   * `chunkSize` is set and the blob is larger. Returns its descriptor (with `mediaType`).
   */
  async pushBlob(ref: Reference, data: Buffer, mediaType: string, opts: { mountFrom?: string; chunkSize?: number } = {}): Promise<Descriptor> {
    const digest = sha256Digest(data);
    const desc: Descriptor = { mediaType, digest, size: data.length };
    if ((await this.blobSize(ref, digest)) !== undefined) return desc;
    const scopes = [pushScope(ref.repository)];
    let url = `/v2/${ref.repository}/blobs/uploads/`;
    if (opts.mountFrom !== undefined && opts.mountFrom !== ref.repository) {
      url += `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
      scopes.push(pullScope(opts.mountFrom));
    }
    const start = await this.send(ref.registry, { method: "POST", url, headers: { "content-length": "0" }, scopes, maxBytes: MAX_ERROR_BODY });
    if (start.status === 201) return desc; // mounted
    this.expect(start, [202], "POST upload", ref);
    let location = this.location(start, ref);
    const chunk = opts.chunkSize ?? this.opts.chunkSize;
    if (chunk > 0 && data.length > chunk) {
      for (let offset = 0; offset < data.length; offset += chunk) {
        const part = data.subarray(offset, Math.min(data.length, offset + chunk));
        const r = await this.send(ref.registry, {
          method: "PATCH",
          url: location,
          headers: {
            "content-type": "application/octet-stream",
            "content-range": `${offset}-${offset + part.length - 1}`,
            "content-length": String(part.length),
          },
          body: Buffer.from(part),
          scopes,
          maxBytes: MAX_ERROR_BODY,
          // a PATCH chunk is not idempotent: a retry after the registry took it would corrupt the upload
        }, false);
        this.expect(r, [202], "PATCH upload", ref);
        location = this.location(r, ref);
      }
      const done = await this.send(ref.registry, {
        method: "PUT",
        url: withQuery(location, "digest", digest),
        headers: { "content-length": "0", "content-type": "application/octet-stream" },
        scopes,
        maxBytes: MAX_ERROR_BODY,
      });
      this.expect(done, [201], "PUT upload", ref);
      this.checkUploaded(done, digest);
      return desc;
    }
    const r = await this.send(ref.registry, {
      method: "PUT",
      url: withQuery(location, "digest", digest),
      headers: { "content-type": "application/octet-stream", "content-length": String(data.length) },
      body: data,
      scopes,
      maxBytes: MAX_ERROR_BODY,
    });
    this.expect(r, [201], "PUT upload", ref);
    this.checkUploaded(r, digest);
    return desc;
  }

  // --- tags and referrers ---------------------------------------------------------------------

  /** All tags of a repository (following `Link` pages, at most 100 of them). */
  async listTags(ref: Reference): Promise<string[]> {
    const tags: string[] = [];
    let url: string | undefined = `/v2/${ref.repository}/tags/list?n=1000`;
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_TAG_PAGES) throw new RegistryError(`${ref.registry}/${ref.repository}: more than ${MAX_TAG_PAGES} pages of tags`);
      const r = await this.send(ref.registry, { method: "GET", url, scopes: [pullScope(ref.repository)], maxBytes: this.opts.maxManifestBytes });
      if (r.status === 404 && page === 0) return [];
      this.expect(r, [200], "GET tags", ref);
      let v: { tags?: unknown };
      try {
        v = JSON.parse(r.body.toString("utf8"));
      } catch {
        throw new RegistryError(`${ref.registry}/${ref.repository}: tag list is not JSON`);
      }
      if (Array.isArray(v.tags)) for (const t of v.tags) if (typeof t === "string") tags.push(t);
      const link = header(r.headers, "link");
      const next = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link)?.[1] : undefined;
      url = next;
    }
    return tags;
  }

  /**
   * The referrers of `digest` (manifests whose `subject` is it): the referrers API, or, when the
   * registry has none (404), the index at the `sha256-<hex>` tag (the referrers tag schema).
   * `artifactType` filters the result.
   */
  async referrers(ref: Reference, digest: string, artifactType?: string): Promise<{ index: ImageIndex; fromTagSchema: boolean }> {
    const q = artifactType !== undefined ? `?artifactType=${encodeURIComponent(artifactType)}` : "";
    const r = await this.send(ref.registry, {
      method: "GET",
      url: `/v2/${ref.repository}/referrers/${digest}${q}`,
      headers: { accept: MEDIA.ociIndex },
      scopes: [pullScope(ref.repository)],
      maxBytes: this.opts.maxManifestBytes,
    });
    const filter = (idx: ImageIndex) => (artifactType === undefined ? idx : { ...idx, manifests: idx.manifests.filter((m) => m.artifactType === artifactType) });
    const ctype = header(r.headers, "content-type")?.split(";")[0].trim();
    if (r.status === 200 && ctype === MEDIA.ociIndex) {
      const idx = parseImageIndex(r.body, `referrers of ${digest}`);
      return { index: filter(idx), fromTagSchema: false };
    }
    if (r.status !== 404 && r.status !== 200) this.expect(r, [200, 404], "GET referrers", ref);
    const idx = await this.tagSchemaIndex(ref, digest);
    return { index: filter(idx?.index ?? { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] }), fromTagSchema: true };
  }

  /** The referrers tag schema's tag for a digest: `sha256-<hex>`. */
  static referrersTag(digest: string): string {
    return digest.replace(":", "-").slice(0, 128);
  }

  /**
   * PUTs a manifest that has a `subject` and, when the registry does not process subjects itself,
   * adds it to the `sha256-<hex>` referrers index as the tag schema asks writers to.
   */
  async pushReferrer(ref: Reference, bytes: Buffer, mediaType: string, tag?: string): Promise<Descriptor> {
    const m = JSON.parse(bytes.toString("utf8")) as { subject?: Descriptor; artifactType?: string; config?: Descriptor; annotations?: Record<string, string> };
    if (!m.subject) throw new RegistryError("pushReferrer: the manifest has no subject");
    const { descriptor, subjectHandled } = await this.putManifest(ref, bytes, mediaType, tag);
    if (subjectHandled) return descriptor;
    const entry: Descriptor = { ...descriptor };
    const artifactType = m.artifactType ?? m.config?.mediaType;
    if (artifactType !== undefined) entry.artifactType = artifactType;
    if (m.annotations && Object.keys(m.annotations).length > 0) entry.annotations = m.annotations;
    const existing = await this.tagSchemaIndex(ref, m.subject.digest);
    const manifests = (existing?.index.manifests ?? []).filter((d) => d.digest !== descriptor.digest);
    manifests.push(entry);
    const index: ImageIndex = { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests };
    await this.putManifest(ref, Buffer.from(JSON.stringify(index)), MEDIA.ociIndex, RegistryClient.referrersTag(m.subject.digest));
    return descriptor;
  }

  private async tagSchemaIndex(ref: Reference, digest: string): Promise<{ index: ImageIndex } | undefined> {
    try {
      const got = await this.getManifest({ ...ref, tag: RegistryClient.referrersTag(digest), digest: undefined }, INDEX_TYPES);
      return { index: parseImageIndex(got.bytes, `referrers index ${RegistryClient.referrersTag(digest)}`) };
    } catch (e) {
      if (e instanceof RegistryError && e.notFound) return undefined;
      throw e;
    }
  }

  /** Checks credentials: GET /v2/ with them. */
  async ping(registry: string): Promise<void> {
    const r = await this.send(registry, { method: "GET", url: "/v2/", scopes: [], maxBytes: MAX_ERROR_BODY });
    if (r.status !== 200) throw this.error(r, `GET ${this.base(registry)}/v2/`);
  }

  // --- HTTP -----------------------------------------------------------------------------------

  private base(registry: string): string {
    const plain = this.opts.plainHttp ?? isLoopback(registry);
    return `${plain ? "http" : "https"}://${apiHost(registry)}`;
  }

  private dispatcher(): Dispatcher {
    if (!this.dispatcherCache) {
      const connect: Record<string, unknown> = {};
      if (this.opts.caFile !== undefined) {
        try {
          connect.ca = readFileSync(this.opts.caFile);
        } catch (e) {
          throw new RegistryError(`--ca-file ${this.opts.caFile}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
        }
      }
      if (this.opts.insecure) connect.rejectUnauthorized = false;
      this.dispatcherCache = new (undici().Agent)({
        connect,
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
        connections: 8,
      });
    }
    return this.dispatcherCache;
  }

  private credential(registry: string): Promise<Credential | undefined> {
    let c = this.creds.get(registry);
    if (!c) {
      c = this.opts.credentials ? this.opts.credentials.get(registry) : Promise.resolve(undefined);
      this.creds.set(registry, c);
    }
    return c;
  }

  private async authorization(registry: string, scopes: string[]): Promise<string | undefined> {
    const t = this.tokens.get(tokenKey(registry, scopes));
    if (t && t.expires > Date.now()) return `Bearer ${t.value}`;
    if (this.basic.has(registry)) {
      const c = await this.credential(registry);
      if (c?.username !== undefined) return basicAuth(c);
    }
    return undefined;
  }

  /** One request: authentication (once per challenge), redirects, retries. */
  private async send(registry: string, spec: RequestSpec, retryable = true): Promise<Response> {
    let r = await this.withRetries(registry, spec, await this.authorization(registry, spec.scopes), retryable);
    if (r.status !== 401) return r;
    const challenge = header(r.headers, "www-authenticate");
    if (!challenge) return r;
    const { scheme, params } = parseChallenge(challenge);
    let auth: string | undefined;
    if (scheme === "bearer") {
      auth = `Bearer ${await this.fetchToken(registry, params, spec.scopes)}`;
    } else if (scheme === "basic") {
      const c = await this.credential(registry);
      if (c?.username === undefined) throw new RegistryError(`${registry}: unauthorized (basic authentication required): no credentials for ${registry}; run portcullis login ${registry}`, 401, ["UNAUTHORIZED"]);
      this.basic.add(registry);
      auth = basicAuth(c);
    } else {
      throw new RegistryError(`${registry}: unsupported authentication scheme ${JSON.stringify(scheme)}`, 401);
    }
    r = await this.withRetries(registry, spec, auth, retryable);
    return r;
  }

  private async fetchToken(registry: string, params: Record<string, string>, scopes: string[]): Promise<string> {
    const realm = params.realm;
    if (!realm) throw new RegistryError(`${registry}: Bearer challenge without a realm`, 401);
    let realmURL: URL;
    try {
      realmURL = new URL(realm);
    } catch {
      throw new RegistryError(`${registry}: Bearer challenge with an invalid realm ${JSON.stringify(realm)}`, 401);
    }
    if (realmURL.protocol !== "https:" && realmURL.protocol !== "http:") throw new RegistryError(`${registry}: token realm ${realm} is not HTTP(S)`, 401);
    const all = [...new Set([...(params.scope ? params.scope.split(" ") : []), ...scopes])].filter((s) => s !== "");
    const key = tokenKey(registry, scopes);
    const c = await this.credential(registry);
    let r: Response;
    if (c?.identityToken !== undefined) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: c.identityToken, client_id: this.opts.userAgent });
      if (params.service) form.set("service", params.service);
      if (all.length > 0) form.set("scope", all.join(" "));
      r = await this.raw({ method: "POST", url: realmURL.toString(), headers: { "content-type": "application/x-www-form-urlencoded" }, body: Buffer.from(form.toString()), scopes: [], maxBytes: 1 << 20 }, undefined, true);
    } else {
      if (params.service) realmURL.searchParams.set("service", params.service);
      for (const s of all) realmURL.searchParams.append("scope", s);
      const auth = c?.username !== undefined ? basicAuth(c) : undefined;
      r = await this.raw({ method: "GET", url: realmURL.toString(), scopes: [], maxBytes: 1 << 20 }, auth, true);
    }
    if (r.status !== 200) {
      throw new RegistryError(`${registry}: token request to ${realmURL.origin}${realmURL.pathname} failed: ${r.status}${c ? "" : " (no credentials; run portcullis login " + registry + ")"}${errorDetail(r.body)}`, r.status === 401 || r.status === 403 ? 401 : r.status);
    }
    let v: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      v = JSON.parse(r.body.toString("utf8"));
    } catch {
      throw new RegistryError(`${registry}: token response is not JSON`);
    }
    const token = typeof v.token === "string" && v.token !== "" ? v.token : typeof v.access_token === "string" ? v.access_token : "";
    if (token === "") throw new RegistryError(`${registry}: token response has no token`);
    const ttl = typeof v.expires_in === "number" && v.expires_in > 0 ? v.expires_in : 60;
    this.tokens.set(key, { value: token, expires: Date.now() + Math.max(1, ttl - 10) * 1000 });
    return token;
  }

  private async withRetries(registry: string, spec: RequestSpec, auth: string | undefined, retryable: boolean): Promise<Response> {
    const url = spec.url.startsWith("http://") || spec.url.startsWith("https://") ? spec.url : `${this.base(registry)}${spec.url}`;
    return this.raw({ ...spec, url }, auth, retryable);
  }

  /** A request to an absolute URL with retries and redirects. */
  private async raw(spec: RequestSpec, auth: string | undefined, retryable: boolean): Promise<Response> {
    const attempts = retryable ? this.opts.retries + 1 : 1;
    let lastError: unknown;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) await sleep(lastError instanceof RetryAfter ? lastError.ms : this.opts.backoffMs * 2 ** (attempt - 1));
      try {
        const r = await this.once(spec, auth);
        if (RETRY_STATUS.has(r.status) && attempt + 1 < attempts) {
          const after = Number(header(r.headers, "retry-after"));
          lastError = Number.isFinite(after) && after > 0 ? new RetryAfter(Math.min(after * 1000, MAX_RETRY_AFTER_MS)) : undefined;
          continue;
        }
        return r;
      } catch (e) {
        if (e instanceof RegistryError) throw e;
        lastError = e;
      }
    }
    const e = lastError as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const why = e?.cause?.code ?? e?.code ?? e?.name ?? "error";
    const msg = e?.name === "TimeoutError" || why === "UND_ERR_HEADERS_TIMEOUT" || why === "UND_ERR_BODY_TIMEOUT" ? `no answer within ${this.opts.timeoutMs} ms` : `${why}: ${e?.cause?.message ?? e?.message ?? String(e)}`;
    throw new RegistryError(`${spec.method} ${redact(spec.url)}: ${msg}${attempts > 1 ? ` (after ${attempts} attempts)` : ""}`);
  }

  private async once(spec: RequestSpec, auth: string | undefined): Promise<Response> {
    let url = spec.url;
    let sendAuth = auth;
    const origin = new URL(url).origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = { "user-agent": this.opts.userAgent, ...(spec.headers ?? {}) };
      if (sendAuth) headers.authorization = sendAuth;
      const res = await undici().request(url, {
        method: spec.method as Dispatcher.HttpMethod,
        headers,
        body: spec.body,
        dispatcher: this.dispatcher(),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
      const status = res.statusCode;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        await res.body.dump();
        const next = new URL(header(res.headers, "location")!, url);
        if (next.protocol !== "https:" && next.protocol !== "http:") throw new RegistryError(`${spec.method} ${redact(spec.url)}: redirect to ${next.protocol} refused`);
        url = next.toString();
        // credentials stay with the registry: a redirect to storage elsewhere goes without them
        if (next.origin !== origin) sendAuth = undefined;
        continue;
      }
      const limit = status >= 400 ? MAX_ERROR_BODY : spec.maxBytes;
      let body: Buffer;
      if (spec.noBody || spec.method === "HEAD") {
        await res.body.dump();
        body = Buffer.alloc(0);
      } else {
        body = await readLimited(res.body, limit, spec.method, redact(url));
      }
      return { status, headers: res.headers, body };
    }
    throw new RegistryError(`${spec.method} ${redact(spec.url)}: more than ${MAX_REDIRECTS} redirects`);
  }

  private location(r: Response, ref: Reference): string {
    const loc = header(r.headers, "location");
    if (!loc) throw new RegistryError(`${ref.registry}/${ref.repository}: upload answer without a Location`);
    return new URL(loc, `${this.base(ref.registry)}/`).toString();
  }

  private checkUploaded(r: Response, digest: string): void {
    const echoed = header(r.headers, "docker-content-digest");
    if (echoed !== undefined && echoed !== digest) throw new RegistryError(`upload of ${digest}: registry stored ${echoed}`);
  }

  private expect(r: Response, ok: number[], what: string, ref: Reference): void {
    if (!ok.includes(r.status)) throw this.error(r, `${what} ${formatReference(ref)}`);
  }

  private error(r: Response, what: string): RegistryError {
    let codes: string[] = [];
    try {
      const v = JSON.parse(r.body.toString("utf8")) as { errors?: { code?: string }[] };
      codes = (v.errors ?? []).map((e) => String(e.code ?? ""));
    } catch {
      // not an OCI error body
    }
    const hint = r.status === 401 ? " (check the credentials: portcullis login)" : "";
    return new RegistryError(`${what}: ${r.status} ${statusText(r.status)}${errorDetail(r.body)}${hint}`, r.status, codes);
  }
}

class RetryAfter {
  constructor(readonly ms: number) {}
}

function tokenKey(registry: string, scopes: string[]): string {
  return `${registry} ${[...scopes].sort().join(" ")}`;
}

function basicAuth(c: Credential): string {
  return `Basic ${Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`, "utf8").toString("base64")}`;
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

/** A URL without its query (upload session state, tokens) for messages. */
function redact(url: string): string {
  const q = url.indexOf("?");
  return q >= 0 ? url.slice(0, q) : url;
}

function errorDetail(body: Buffer): string {
  if (body.length === 0) return "";
  try {
    const v = JSON.parse(body.toString("utf8")) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(v.errors) && v.errors.length > 0) return `: ${v.errors.map((e) => `${e.code ?? ""}: ${e.message ?? ""}`).join("; ")}`;
  } catch {
    // plain text
  }
  const text = body.toString("utf8").trim().slice(0, 200);
  return text === "" ? "" : `: ${text}`;
}

function statusText(s: number): string {
  const t: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 416: "Range Not Satisfiable", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout" };
  return t[s] ?? "";
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): void }, limit: number, method: string, url: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    n += c.length;
    if (n > limit) {
      body.destroy();
      throw new RegistryError(`${method} ${url}: response larger than the limit of ${limit} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
