// Whole images and artifacts: push a config and layers under one manifest, pull a manifest with
// its config and layers (each blob checked against its descriptor, the total bounded).

import { RegistryClient, RegistryError } from "./client.ts";
import { type Reference, formatReference } from "./reference.ts";
import { type Descriptor, type ImageManifest, MEDIA, INDEX_TYPES, descriptorOf, parseImageManifest } from "./types.ts";

/** Blob transfers of one push or pull at a time. */
export const TRANSFERS = 4;

/** Runs task(0..n-1), at most `limit` at once; the first failure rejects (after the running ones settle). */
export async function inParallel(n: number, limit: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < n) {
      const i = next++;
      try {
        await task(i);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  if (failed !== undefined) throw failed;
}

export interface Blob {
  mediaType: string;
  data: Buffer;
  annotations?: Record<string, string>;
}

export interface ImageContent {
  config: Blob;
  layers: Blob[];
  /** The manifest's annotations. */
  annotations?: Record<string, string>;
  artifactType?: string;
  subject?: Descriptor;
}

/** The manifest bytes of an image (OCI image manifest, fields in the image-spec's order). */
export function imageManifest(content: ImageContent): { bytes: Buffer; manifest: ImageManifest } {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MEDIA.ociManifest,
    ...(content.artifactType !== undefined ? { artifactType: content.artifactType } : {}),
    config: descriptorOf(content.config.mediaType, content.config.data, content.config.annotations),
    layers: content.layers.map((l) => descriptorOf(l.mediaType, l.data, l.annotations)),
    ...(content.subject !== undefined ? { subject: content.subject } : {}),
    ...(content.annotations && Object.keys(content.annotations).length > 0 ? { annotations: content.annotations } : {}),
  };
  return { bytes: Buffer.from(JSON.stringify(manifest)), manifest };
}

/**
 * Pushes the blobs, then the manifest, tagged with the reference's tag (or by digest only when
 * the reference has none). A manifest with a subject also goes into the referrers tag schema
 * when the registry does not process subjects.
 */
export async function pushImage(client: RegistryClient, ref: Reference, content: ImageContent, opts: { mountFrom?: string } = {}): Promise<Descriptor> {
  const { bytes } = imageManifest(content);
  const blobs = [content.config, ...content.layers];
  await inParallel(blobs.length, TRANSFERS, (i) => client.pushBlob(ref, blobs[i].data, blobs[i].mediaType, opts));
  if (content.subject !== undefined) return client.pushReferrer(ref, bytes, MEDIA.ociManifest, ref.tag);
  return (await client.putManifest(ref, bytes, MEDIA.ociManifest, ref.tag)).descriptor;
}

export interface PulledImage {
  descriptor: Descriptor;
  manifestBytes: Buffer;
  manifest: ImageManifest;
  config: Buffer;
  layers: { descriptor: Descriptor; data: Buffer }[];
}

/**
 * Pulls an image manifest with its config and layers; `maxTotalBytes` bounds the blobs together
 * (default 256 MiB), `maxLayers` their number (default 10,000). `verify` is called with the manifest's descriptor before any blob is
 * fetched: the blobs are then checked against that manifest, so what was verified is what is
 * returned.
 */
export async function pullImage(
  client: RegistryClient,
  ref: Reference,
  opts: { maxTotalBytes?: number; maxLayers?: number; layerFilter?: (d: Descriptor) => boolean; verify?: (ref: Reference, manifest: Descriptor) => Promise<void> } = {},
): Promise<PulledImage> {
  const got = await client.getManifest(ref);
  if (opts.verify) await opts.verify(ref, got.descriptor);
  if (INDEX_TYPES.includes(got.descriptor.mediaType)) {
    throw new RegistryError(`${formatReference(ref)} is an image index (${got.descriptor.mediaType}), not a policy artifact`);
  }
  let manifest: ImageManifest;
  try {
    manifest = parseImageManifest(got.bytes, formatReference(ref));
  } catch (e) {
    throw new RegistryError((e as Error).message);
  }
  const maxLayers = opts.maxLayers ?? 10_000;
  if (manifest.layers.length > maxLayers) throw new RegistryError(`${formatReference(ref)}: ${manifest.layers.length} layers, more than the limit of ${maxLayers}`);
  const limit = opts.maxTotalBytes ?? 256 << 20;
  const wanted = manifest.layers.filter(opts.layerFilter ?? (() => true));
  const total = manifest.config.size + wanted.reduce((n, l) => n + l.size, 0);
  if (total > limit) throw new RegistryError(`${formatReference(ref)}: ${total} bytes of blobs, more than the limit of ${limit}`);
  const config = await client.getBlob(ref, manifest.config.digest, manifest.config.size);
  const layers: { descriptor: Descriptor; data: Buffer }[] = new Array(wanted.length);
  await inParallel(wanted.length, TRANSFERS, async (i) => {
    layers[i] = { descriptor: wanted[i], data: await client.getBlob(ref, wanted[i].digest, wanted[i].size) };
  });
  return { descriptor: got.descriptor, manifestBytes: got.bytes, manifest, config, layers };
}
