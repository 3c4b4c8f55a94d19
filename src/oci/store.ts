// The local policy store (the policy CLI's `~/.policy/policies-root`): an OCI image layout
// directory (`oci-layout`, `index.json`, `blobs/sha256/…`) under `$PORTCULLIS_HOME/policies-root`,
// else `$XDG_DATA_HOME/portcullis/policies-root` (default `~/.local/share/portcullis/…`). Each
// image is an OPA bundle in one `application/vnd.oci.image.layer.v1.tar+gzip` layer with an
// `application/vnd.oci.image.config.v1+json` `{}` config, tagged in index.json by its full
// reference (`org.opencontainers.image.ref.name`), as oras' OCI store tags the policy CLI's.
// Writes go through a temporary file and a rename, so a reader never sees half an index or blob.

import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { imageManifest } from "./image.ts";
import { type Reference, formatReference, parseReference } from "./reference.ts";
import { ANNOTATION, type Descriptor, type ImageIndex, type ImageManifest, MEDIA, digestWith, parseImageIndex, parseImageManifest } from "./types.ts";

export class StoreError extends Error {}

/** The policy CLI's annotation marking a policy image. */
export const POLICY_TYPE_ANNOTATION = "org.openpolicyregistry.type";
/** The largest bundle the store takes. */
export const MAX_BUNDLE_BYTES = 256 << 20;
const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 60_000;

export function defaultStoreRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTCULLIS_HOME) return join(env.PORTCULLIS_HOME, "policies-root");
  const data = env.XDG_DATA_HOME && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : join(env.HOME ?? homedir(), ".local", "share");
  return join(data, "portcullis", "policies-root");
}

export interface StoredImage {
  /** The full reference it is tagged with. */
  ref: string;
  descriptor: Descriptor;
  manifest: ImageManifest;
  /** `org.opencontainers.image.created` of the manifest, when present. */
  created?: string;
  /** Size of the bundle layer. */
  size: number;
}

/** The manifest, config and bundle layer of a policy image made from a bundle .tar.gz. */
export function bundleImage(bundle: Buffer, ref: Reference, opts: { created?: Date; regoVersion?: string; annotations?: Record<string, string> } = {}) {
  if (bundle.length > MAX_BUNDLE_BYTES) throw new StoreError(`bundle of ${bundle.length} bytes is larger than the limit of ${MAX_BUNDLE_BYTES}`);
  if (bundle.length < 2 || bundle[0] !== 0x1f || bundle[1] !== 0x8b) throw new StoreError("the bundle is not a gzip file (.tar.gz)");
  const annotations: Record<string, string> = {
    ...(opts.annotations ?? {}),
    [ANNOTATION.title]: `${ref.registry}/${ref.repository}`,
    [POLICY_TYPE_ANNOTATION]: "policy",
    [ANNOTATION.created]: (opts.created ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z"),
    "rego.version": opts.regoVersion ?? "v1",
  };
  return imageManifest({
    config: { mediaType: MEDIA.ociConfig, data: Buffer.from("{}") },
    layers: [{ mediaType: MEDIA.ociLayerTarGzip, data: bundle, annotations }],
    annotations,
  });
}

export class PolicyStore {
  constructor(readonly root: string = defaultStoreRoot()) {}

  private blobPath(digest: string): string {
    const [alg, hex] = digest.split(":");
    if (!/^(sha256|sha512)$/.test(alg ?? "") || !/^[a-f0-9]+$/.test(hex ?? "")) throw new StoreError(`invalid digest ${JSON.stringify(digest)}`);
    return join(this.root, "blobs", alg, hex);
  }

  private init(): void {
    mkdirSync(join(this.root, "blobs", "sha256"), { recursive: true });
    if (!existsSync(join(this.root, "oci-layout"))) atomicWrite(join(this.root, "oci-layout"), Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    if (!existsSync(join(this.root, "index.json"))) this.writeIndex({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] });
  }

  readIndex(): ImageIndex {
    const p = join(this.root, "index.json");
    if (!existsSync(p)) return { schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [] };
    try {
      return parseImageIndex(readFileSync(p), p);
    } catch (e) {
      throw new StoreError(`local store: ${(e as Error).message}`);
    }
  }

  private writeIndex(idx: ImageIndex): void {
    atomicWrite(join(this.root, "index.json"), Buffer.from(JSON.stringify(idx)));
  }

  /** Stores a blob (a no-op when it is there); returns its digest. */
  putBlob(data: Buffer, digest: string): void {
    this.init();
    const alg = digest.split(":")[0];
    if (digestWith(alg, data) !== digest) throw new StoreError(`blob does not match its digest ${digest}`);
    const p = this.blobPath(digest);
    mkdirSync(join(p, ".."), { recursive: true });
    if (!existsSync(p)) atomicWrite(p, data);
  }

  /** A blob's bytes, checked against its digest. */
  getBlob(digest: string): Buffer {
    const p = this.blobPath(digest);
    let data: Buffer;
    try {
      data = readFileSync(p);
    } catch {
      throw new StoreError(`local store: blob ${digest} is missing`);
    }
    if (digestWith(digest.split(":")[0], data) !== digest) throw new StoreError(`local store: blob ${digest} is corrupt (its content does not match its digest)`);
    return data;
  }

  /**
   * Runs `fn` holding the store's lock (a `.lock` directory; other processes wait up to 10 s, and
   * a lock older than 60 s is taken as left by a dead process), so that concurrent writers do not
   * lose each other's tags.
   */
  private locked<T>(fn: () => T): T {
    mkdirSync(this.root, { recursive: true });
    const lock = join(this.root, ".lock");
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      try {
        mkdirSync(lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
        try {
          if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) {
            rmSync(lock, { recursive: true, force: true });
            continue;
          }
        } catch {
          continue;
        }
        if (Date.now() > deadline) throw new StoreError(`local store ${this.root} is locked by another process (${lock}); remove it if no portcullis is running`);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      }
    }
    try {
      return fn();
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }

  /** Stores a manifest with its blobs and tags it `ref` (replacing the tag's earlier image). */
  putImage(ref: Reference, manifestBytes: Buffer, blobs: { digest: string; data: Buffer }[]): Descriptor {
    return this.locked(() => this.putImageLocked(ref, manifestBytes, blobs));
  }

  private putImageLocked(ref: Reference, manifestBytes: Buffer, blobs: { digest: string; data: Buffer }[]): Descriptor {
    this.init();
    for (const b of blobs) this.putBlob(b.data, b.digest);
    const manifest = parseImageManifest(manifestBytes, "manifest");
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!existsSync(this.blobPath(d.digest))) throw new StoreError(`local store: manifest refers to blob ${d.digest}, which was not given`);
    }
    const digest = digestWith("sha256", manifestBytes)!;
    this.putBlob(manifestBytes, digest);
    const descriptor: Descriptor = { mediaType: MEDIA.ociManifest, digest, size: manifestBytes.length };
    this.tagDescriptor(descriptor, ref);
    return descriptor;
  }

  private tagDescriptor(d: Descriptor, ref: Reference): void {
    const name = formatReference(ref);
    const idx = this.readIndex();
    const manifests = idx.manifests.filter((m) => m.annotations?.[ANNOTATION.refName] !== name);
    manifests.push({ mediaType: d.mediaType, digest: d.digest, size: d.size, annotations: { [ANNOTATION.refName]: name } });
    this.writeIndex({ ...idx, manifests });
  }

  /**
   * The image a reference names: by full reference (`registry/repo:tag`, Docker Hub defaults and
   * `latest` applied), or by image ID (a prefix of at least 6 hex digits of the manifest digest).
   */
  resolve(text: string): StoredImage {
    const idx = this.readIndex();
    let entry: Descriptor | undefined;
    let refName: string | undefined;
    if (/^(sha256:)?[a-f0-9]{6,64}$/.test(text)) {
      const prefix = text.startsWith("sha256:") ? text : `sha256:${text}`;
      const hits = idx.manifests.filter((m) => m.digest.startsWith(prefix));
      if (new Set(hits.map((h) => h.digest)).size > 1) throw new StoreError(`image ID ${text} is ambiguous`);
      entry = hits[0];
      refName = entry?.annotations?.[ANNOTATION.refName];
    }
    if (!entry) {
      let r: Reference;
      try {
        r = parseReference(text, "latest");
      } catch (e) {
        throw new StoreError((e as Error).message);
      }
      refName = formatReference(r);
      entry = idx.manifests.find((m) => m.annotations?.[ANNOTATION.refName] === refName);
      if (!entry && r.digest !== undefined) entry = idx.manifests.find((m) => m.digest === r.digest);
    }
    if (!entry) throw new StoreError(`policy ${text} not found in the local store (${this.root})`);
    return this.describe(entry, refName ?? text);
  }

  /** Whether the store has the reference (by full reference only). */
  has(text: string): boolean {
    try {
      const r = parseReference(text, "latest");
      const name = formatReference(r);
      return this.readIndex().manifests.some((m) => m.annotations?.[ANNOTATION.refName] === name);
    } catch {
      return false;
    }
  }

  private describe(entry: Descriptor, ref: string): StoredImage {
    const manifest = parseImageManifest(this.getBlob(entry.digest), `local store manifest ${entry.digest}`);
    const bundle = manifest.layers.find((l) => l.mediaType === MEDIA.ociLayerTarGzip);
    return {
      ref,
      descriptor: { mediaType: entry.mediaType, digest: entry.digest, size: entry.size },
      manifest,
      created: manifest.annotations?.[ANNOTATION.created] ?? bundle?.annotations?.[ANNOTATION.created],
      size: bundle?.size ?? 0,
    };
  }

  /** Every tagged image, newest first. */
  list(): StoredImage[] {
    const out: StoredImage[] = [];
    for (const m of this.readIndex().manifests) {
      const name = m.annotations?.[ANNOTATION.refName];
      if (name === undefined) continue;
      out.push(this.describe(m, name));
    }
    return out.sort((a, b) => (b.created ?? "").localeCompare(a.created ?? "") || a.ref.localeCompare(b.ref));
  }

  /** The bundle .tar.gz of an image. */
  bundle(img: StoredImage): Buffer {
    const layer = img.manifest.layers.find((l) => l.mediaType === MEDIA.ociLayerTarGzip);
    if (!layer) throw new StoreError(`${img.ref} has no ${MEDIA.ociLayerTarGzip} layer`);
    return this.getBlob(layer.digest);
  }

  /** Tags an existing image with another reference. */
  tag(src: string, dst: Reference): StoredImage {
    return this.locked(() => {
      const img = this.resolve(src);
      this.tagDescriptor(img.descriptor, dst);
      return img;
    });
  }

  /** Removes a tag (and blobs nothing references any more); returns the removed image. */
  remove(text: string): StoredImage {
    return this.locked(() => this.removeLocked(text));
  }

  private removeLocked(text: string): StoredImage {
    const img = this.resolve(text);
    const idx = this.readIndex();
    const byId = /^(sha256:)?[a-f0-9]{6,64}$/.test(text) && !this.has(text);
    const manifests = idx.manifests.filter((m) => (byId ? m.digest !== img.descriptor.digest : m.annotations?.[ANNOTATION.refName] !== img.ref));
    this.writeIndex({ ...idx, manifests });
    this.gc();
    return img;
  }

  /** Deletes blobs that no tagged manifest references. */
  gc(): number {
    const keep = new Set<string>();
    for (const m of this.readIndex().manifests) {
      keep.add(m.digest);
      try {
        const man = parseImageManifest(this.getBlob(m.digest), m.digest);
        for (const d of [man.config, ...man.layers]) keep.add(d.digest);
      } catch {
        // a broken manifest keeps only itself
      }
    }
    let removed = 0;
    for (const alg of ["sha256", "sha512"]) {
      const dir = join(this.root, "blobs", alg);
      if (!existsSync(dir)) continue;
      for (const hex of readdirSync(dir)) {
        if (!keep.has(`${alg}:${hex}`) && statSync(join(dir, hex)).isFile()) {
          rmSync(join(dir, hex));
          removed++;
        }
      }
    }
    return removed;
  }
}

function atomicWrite(path: string, data: Buffer): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

