// Bundle downloads (OPA's bundle plugin): for each configured bundle, `GET {service.url}/{resource}`
// with `If-None-Match: <etag>` after the first activation; 304 keeps the active revision; a new
// archive is read and verified (src/bundle) and handed to `activate`, which switches the server's
// state in one commit or refuses (the old revision stays). Polling waits a random delay between
// min_delay_seconds and max_delay_seconds (after a failure: exponential backoff from 100 ms, capped
// at max_delay_seconds); requests carry `Prefer: modes=snapshot`, and with
// long_polling_timeout_seconds, once the server has answered with the content type
// `application/vnd.openpolicyagent.bundles`, `;wait=N` too, and the next request follows at once. With `persist`, each
// activated archive is written to `<persistence_directory>/bundles/<name>/bundle.tar.gz` and read
// at start, before the first download. Every request has a deadline; every body a size limit.
// A bundle of a `type: oci` service is pulled from an OCI registry instead (onceOci: the image's
// tar+gzip layer, its digest as the ETag), after the image's cosign signature is verified when
// the configuration asks for it (`ociVerify`).

import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { readBundleArchive, type Bundle } from "../bundle/index.ts";
import { USER_AGENT, type BundleSourceConfig, type BundlesConfig } from "./bundleconfig.ts";
import type { Logger } from "./log.ts";

export const LONG_POLL_CONTENT_TYPE = "application/vnd.openpolicyagent.bundles";

export interface BundleStatus {
  name: string;
  activeRevision?: string;
  etag?: string;
  lastSuccessfulActivation?: Date;
  lastSuccessfulDownload?: Date;
  lastSuccessfulRequest?: Date;
  lastRequest?: Date;
  httpCode?: number;
  code?: string;
  message?: string;
  errors?: string[];
  /** Size in bytes of the active revision's archive (OPA's status `size`). */
  size?: number;
}

/** Switch the server to the bundle (throws to refuse: the old revision stays active). */
export type Activate = (name: string, bundle: Bundle, etag: string) => void;

export class BundlePlugin {
  private readonly status = new Map<string, BundleStatus>();
  /** Bundles whose server answered a long-polling request (OPA's longPollingEnabled). */
  private readonly longPolling = new Set<string>();
  private readonly retries = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private readonly clients = new Set<{ close(): Promise<void> }>();
  private stopped = false;
  private started = false;
  /** Called after each download attempt and activation (the status plugin listens). */
  onChange: (() => void) | undefined;

  constructor(
    private readonly cfg: BundlesConfig,
    private readonly activate: Activate,
    private readonly log: Logger,
    private readonly regoVersion: "v0" | "v1",
  ) {
    for (const b of cfg.bundles) this.status.set(b.name, { name: b.name });
  }

  /** Load persisted bundles, then start polling. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (const b of this.cfg.bundles) {
      if (b.persist) this.loadPersisted(b);
      void this.loop(b);
    }
  }

  /** True once every configured bundle has been activated (GET /health?bundles). */
  ready(): boolean {
    return [...this.status.values()].every((s) => s.lastSuccessfulActivation !== undefined);
  }

  /** The names of the bundles not activated yet. */
  notReady(): string[] {
    return [...this.status.values()].filter((s) => s.lastSuccessfulActivation === undefined).map((s) => s.name);
  }

  statuses(): BundleStatus[] {
    return [...this.status.values()].map((s) => ({ ...s }));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    for (const a of this.aborts) a.abort();
    for (const c of this.clients) void c.close();
    this.timers.clear();
  }

  private persistPath(b: BundleSourceConfig): string {
    return join(this.cfg.persistenceDirectory, "bundles", b.name, "bundle.tar.gz");
  }

  private loadPersisted(b: BundleSourceConfig): void {
    const file = this.persistPath(b);
    if (!existsSync(file)) return;
    try {
      const bytes = readFileSync(file);
      const bundle = readBundleArchive(bytes, { verification: b.verification, regoVersion: this.regoVersion, limits: limitsOf(b) });
      this.activate(b.name, bundle, "");
      const st = this.status.get(b.name)!;
      st.activeRevision = bundle.manifest.revision;
      st.lastSuccessfulActivation = new Date();
      st.size = bytes.length;
      this.log.info("Bundle loaded from disk and activated successfully.", { name: b.name });
    } catch (e) {
      this.log.error("Failed to load bundle from disk.", { name: b.name, err: (e as Error).message });
    }
  }

  private async loop(b: BundleSourceConfig): Promise<void> {
    while (!this.stopped) {
      const { ok, immediate } = await this.once(b);
      if (this.stopped) return;
      this.onChange?.();
      let delay: number;
      if (!ok) {
        // OPA's retry: exponential backoff from 100 ms, jittered, capped at max_delay_seconds
        const n = this.retries.get(b.name) ?? 0;
        this.retries.set(b.name, n + 1);
        delay = Math.min(b.maxDelayMs, 100 * 2 ** Math.min(n, 30)) * (0.8 + Math.random() * 0.4);
      } else {
        this.retries.delete(b.name);
        delay = immediate ? 0 : b.minDelayMs + Math.random() * (b.maxDelayMs - b.minDelayMs);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.timers.delete(t);
          resolve();
        }, delay);
        this.timers.add(t);
        if (this.stopped) {
          clearTimeout(t);
          resolve();
        }
      });
    }
  }

  /** Reads, verifies and activates a downloaded archive; false (error logged, status set) when refused. */
  private activateArchive(b: BundleSourceConfig, st: BundleStatus, body: Buffer, etag: string, httpCode: number | undefined): boolean {
    let bundle: Bundle;
    try {
      bundle = readBundleArchive(body, { verification: b.verification, regoVersion: this.regoVersion, limits: limitsOf(b), etag });
      this.activate(b.name, bundle, etag);
    } catch (e) {
      this.fail(st, httpCode, `Bundle activation failed: ${(e as Error).message}`, "bundle_error");
      return false;
    }
    st.etag = etag;
    st.size = body.length;
    st.activeRevision = bundle.manifest.revision;
    st.lastSuccessfulActivation = new Date();
    clearError(st);
    this.log.info("Bundle loaded and activated successfully.", { name: b.name, etag, revision: bundle.manifest.revision });
    if (b.persist) this.persist(b, body);
    return true;
  }

  /**
   * One pull from an OCI registry (OPA's OCI downloader): the manifest of the reference, its
   * first `tar+gzip` layer; the layer's digest (hex) is the ETag, so an unchanged layer is not
   * fetched again. With a signature policy the manifest's digest is verified before the layer is
   * fetched: a refusal activates nothing.
   */
  private async onceOci(b: BundleSourceConfig): Promise<{ ok: boolean; immediate: boolean }> {
    const st = this.status.get(b.name)!;
    const ref = b.ociRef!;
    const plainHttp = b.service.url.startsWith("http:");
    const limits = limitsOf(b);
    const { RegistryClient, RegistryError, MEDIA, INDEX_TYPES, parseImageManifest, formatReference } = await import("../oci/index.ts");
    const client = new RegistryClient({ plainHttp, timeoutMs: b.service.responseHeaderTimeoutMs, maxBlobBytes: limits.maxCompressedBytes, userAgent: USER_AGENT });
    this.clients.add(client);
    st.lastRequest = new Date();
    try {
      const got = await client.getManifest(ref);
      st.httpCode = 200;
      if (INDEX_TYPES.includes(got.descriptor.mediaType)) throw new RegistryError(`${formatReference(ref)} is an image index (${got.descriptor.mediaType}), not a bundle image`);
      const manifest = parseImageManifest(got.bytes, formatReference(ref));
      const layer = manifest.layers.find((l) => l.mediaType === MEDIA.ociLayerTarGzip);
      if (!layer) throw new RegistryError(`${formatReference(ref)}: no tarball descriptor found in the layers`);
      const etag = layer.digest.slice(layer.digest.indexOf(":") + 1);
      if (st.etag === etag) {
        st.lastSuccessfulRequest = new Date();
        clearError(st);
        this.log.debug("Bundle not modified.", { name: b.name, etag });
        return { ok: true, immediate: false };
      }
      if (this.cfg.ociVerify) {
        const { signatureVerifyHook } = await import("../sign/remote.ts");
        try {
          await signatureVerifyHook(this.cfg.ociVerify, { plainHttp, timeoutMs: b.service.responseHeaderTimeoutMs })(ref, got.descriptor);
        } catch (e) {
          this.fail(st, undefined, `Bundle activation failed: signature verification of ${formatReference(ref)}@${got.descriptor.digest}: ${(e as Error).message}`, "bundle_error");
          return { ok: false, immediate: false };
        }
      }
      if (layer.size > limits.maxCompressedBytes) throw new RegistryError(`bundle size ${layer.size} bytes exceeds the limit of ${limits.maxCompressedBytes} bytes`);
      const body = await client.getBlob(ref, layer.digest, layer.size);
      st.lastSuccessfulRequest = new Date();
      st.lastSuccessfulDownload = new Date();
      return { ok: this.activateArchive(b, st, body, etag, undefined), immediate: false };
    } catch (e) {
      const status = (e as { status?: number }).status;
      this.fail(st, typeof status === "number" ? status : undefined, `failed to pull ${formatReference(ref)}: ${(e as Error).message}`);
      return { ok: false, immediate: false };
    } finally {
      this.clients.delete(client);
      await client.close();
    }
  }

  /** One download: whether it succeeded (a 304 included), and whether the next one should follow at once (long polling). */
  async once(b: BundleSourceConfig): Promise<{ ok: boolean; immediate: boolean }> {
    if (b.service.type === "oci") return this.onceOci(b);
    const st = this.status.get(b.name)!;
    const url = `${b.service.url}/${b.resource.replace(/^\/+/, "")}`;
    const headers: Record<string, string> = { ...b.service.headers, "User-Agent": USER_AGENT };
    if (st.etag) headers["If-None-Match"] = st.etag;
    // OPA asks for snapshot and delta bundles; Portcullis reads snapshots only, so asks for those.
    // The wait is sent once the server has shown it supports long polling (OPA's longPollingEnabled).
    const longPoll = b.longPollingTimeoutSeconds !== undefined && this.longPolling.has(b.name);
    headers.Prefer = longPoll ? `modes=snapshot;wait=${b.longPollingTimeoutSeconds}` : "modes=snapshot";
    const deadline = b.service.responseHeaderTimeoutMs + (longPoll ? b.longPollingTimeoutSeconds! * 1000 : 0);
    const ac = new AbortController();
    this.aborts.add(ac);
    const timer = setTimeout(() => ac.abort(new Error(`request timed out after ${deadline} ms`)), deadline);
    st.lastRequest = new Date();
    try {
      const res = await b.service.transport.send(url, { headers, signal: ac.signal });
      st.httpCode = res.status;
      const supported = (res.headers.get("content-type") ?? "").split(";")[0].trim() === LONG_POLL_CONTENT_TYPE;
      if (res.status === 200) {
        if (supported) this.longPolling.add(b.name);
        else this.longPolling.delete(b.name);
      }
      const poll = b.longPollingTimeoutSeconds !== undefined && this.longPolling.has(b.name);
      if (res.status === 304) {
        await res.body?.cancel();
        st.lastSuccessfulRequest = new Date();
        clearError(st);
        this.log.debug("Bundle not modified.", { name: b.name, etag: st.etag });
        return { ok: true, immediate: poll };
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        this.fail(st, res.status, `server replied with ${httpStatusText(res.status)}`);
        return { ok: false, immediate: false };
      }
      const body = await readCapped(res, limitsOf(b).maxCompressedBytes);
      st.lastSuccessfulRequest = new Date();
      st.lastSuccessfulDownload = new Date();
      const ok = this.activateArchive(b, st, body, res.headers.get("etag") ?? "", 200);
      return { ok, immediate: ok && poll };
    } catch (e) {
      this.fail(st, undefined, ac.signal.aborted && !this.stopped ? `request timed out` : `${(e as Error).message}${(e as { cause?: Error }).cause ? `: ${(e as { cause: Error }).cause.message}` : ""}`);
      return { ok: false, immediate: false };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(ac);
    }
  }

  private persist(b: BundleSourceConfig, bytes: Buffer): void {
    const file = this.persistPath(b);
    try {
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, bytes);
      renameSync(tmp, file);
    } catch (e) {
      this.log.error("Failed to persist activated bundle.", { name: b.name, err: (e as Error).message });
    }
  }

  private fail(st: BundleStatus, httpCode: number | undefined, message: string, code = "bundle_error"): void {
    if (this.stopped) return;
    st.code = code;
    st.message = message;
    if (httpCode !== undefined) st.httpCode = httpCode;
    this.log.error("Bundle load failed.", { name: st.name, err: message });
  }
}

function clearError(st: BundleStatus): void {
  st.code = undefined;
  st.message = undefined;
}

function limitsOf(b: BundleSourceConfig) {
  return { maxFileBytes: b.sizeLimitBytes, maxUncompressedBytes: b.sizeLimitBytes, maxCompressedBytes: Math.min(b.sizeLimitBytes, 1024 * 1024 * 1024) };
}

/** The response body, refused beyond `limit` bytes (read incrementally, never buffered past it). */
async function readCapped(res: Response, limit: number): Promise<Buffer> {
  const len = Number(res.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(len) && len > limit) {
    await res.body?.cancel();
    throw new Error(`bundle size ${len} bytes exceeds the limit of ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += c.length;
    if (n > limit) throw new Error(`bundle size exceeds the limit of ${limit} bytes`);
    chunks.push(Buffer.from(c));
  }
  return Buffer.concat(chunks);
}

const STATUS: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable" };

function httpStatusText(code: number): string {
  return STATUS[code] ?? `HTTP ${code}`;
}
