// Where cosign keeps signatures in a registry, and what those manifests look like.
//
// Legacy tag scheme (cosign v1/v2 default, SIGNATURE_SPEC.md): the signatures of
// `repo@sha256:H` are the layers of the OCI image manifest tagged `sha256-H.sig` in the same
// repository. Each layer is a simple-signing payload (media type
// `application/vnd.dev.cosign.simplesigning.v1+json`) with annotations:
//   dev.cosignproject.cosign/signature   base64 signature over the payload bytes
//   dev.sigstore.cosign/certificate      PEM leaf certificate (keyless)
//   dev.sigstore.cosign/chain            PEM chain up to the root (keyless)
//   dev.sigstore.cosign/bundle           Rekor bundle {SignedEntryTimestamp, Payload{body,integratedTime,logIndex,logID}}
//   dev.sigstore.cosign/rfc3161timestamp {SignedRFC3161Timestamp}
// The config is the go-containerregistry image config of an empty image with one diff_id per
// layer (`application/vnd.oci.image.config.v1+json`). Signing again appends a layer.
//
// OCI 1.1 (cosign v3 default, BUNDLE_SPEC.md): an artifact manifest whose `subject` is the
// image, `artifactType` and single layer `application/vnd.dev.sigstore.bundle.v0.3+json`, the
// empty config `application/vnd.oci.empty.v1+json`, found through the referrers API (or the
// `sha256-H` referrers-tag index).

import type { Descriptor, ImageManifest } from "../oci/types.ts";
import { sha256Digest } from "../oci/types.ts";

export const SIMPLE_SIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
export const OCI_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json";
export const OCI_EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json";
export const OCI_EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
export const SIGSTORE_BUNDLE_V03_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json";

export const ANNOTATION_SIGNATURE = "dev.cosignproject.cosign/signature";
export const ANNOTATION_CERTIFICATE = "dev.sigstore.cosign/certificate";
export const ANNOTATION_CHAIN = "dev.sigstore.cosign/chain";
export const ANNOTATION_BUNDLE = "dev.sigstore.cosign/bundle";
export const ANNOTATION_RFC3161 = "dev.sigstore.cosign/rfc3161timestamp";

/** cosign's limit on the layers of a signature manifest. */
export const MAX_SIGNATURE_LAYERS = 1000;
/** Largest signature manifest or config read. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

// The OCI shapes and the digest are the registry client's (src/oci/types.ts).
export type { Descriptor, ImageManifest } from "../oci/types.ts";
export { sha256Digest } from "../oci/types.ts";

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function isDigest(s: string): boolean {
  return DIGEST_RE.test(s);
}

/** The tag cosign stores the signatures of `digest` under: `sha256-<hex>.sig`. */
export function signatureTag(digest: string, suffix = "sig"): string {
  if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${digest}`);
  return `${digest.replace(":", "-")}.${suffix}`;
}

/** The referrers-tag-schema tag of `digest` (OCI 1.1 fallback): `sha256-<hex>`. */
export function referrersTag(digest: string): string {
  if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${digest}`);
  return digest.replace(":", "-");
}

/** One signature layer with its blob. */
export interface SignatureLayer {
  descriptor: Descriptor;
  payload: Buffer;
}

/** Parses a signature manifest (the `.sig` tag); throws with a reason when it is not an image manifest. */
export function parseManifest(bytes: Uint8Array): ImageManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new Error(`manifest larger than ${MAX_MANIFEST_BYTES} bytes`);
  let doc: any;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new Error("manifest is not JSON");
  }
  if (typeof doc !== "object" || doc === null || doc.schemaVersion !== 2) throw new Error("not a schemaVersion 2 manifest");
  if (!Array.isArray(doc.layers)) throw new Error("manifest has no layers");
  if (doc.layers.length > MAX_SIGNATURE_LAYERS) throw new Error(`number of layers (${doc.layers.length}) exceeded the limit (${MAX_SIGNATURE_LAYERS})`);
  for (const l of doc.layers) {
    if (typeof l?.digest !== "string" || !isDigest(l.digest) || typeof l.size !== "number" || typeof l.mediaType !== "string") throw new Error("manifest layer without a sha256 digest, size and media type");
  }
  return doc as ImageManifest;
}

/** go-containerregistry's config of an empty image with these layers appended (what cosign pushes). */
export function signatureConfig(layerDigests: string[], created?: string): Buffer {
  const zero = "0001-01-01T00:00:00Z";
  const doc = {
    architecture: "",
    created: created ?? zero,
    history: layerDigests.map(() => ({ created: zero })),
    os: "",
    rootfs: { type: "layers", diff_ids: layerDigests },
    config: {},
  };
  return Buffer.from(JSON.stringify(doc));
}

/**
 * The `.sig` manifest with `add` appended to the layers of `existing` (or alone), and the
 * config blob it names. Layers are kept in order; adding a layer equal to one already there
 * (same payload digest and annotations) adds nothing.
 */
export function appendSignatureLayers(existing: ImageManifest | undefined, add: Descriptor[]): { manifest: Buffer; config: Buffer; manifestDigest: string } {
  const layers: Descriptor[] = existing ? existing.layers.map((l) => ({ ...l })) : [];
  for (const d of add) {
    const dupe = layers.some((l) => l.digest === d.digest && sameAnnotations(l.annotations, d.annotations));
    if (!dupe) layers.push(d);
  }
  if (layers.length > MAX_SIGNATURE_LAYERS) throw new Error(`the signature manifest would have more than ${MAX_SIGNATURE_LAYERS} layers`);
  const config = signatureConfig(layers.map((l) => l.digest));
  const doc: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: OCI_CONFIG_MEDIA_TYPE, size: config.length, digest: sha256Digest(config) },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest, ...(l.annotations ? { annotations: l.annotations } : {}) })),
  };
  const manifest = Buffer.from(JSON.stringify(doc));
  return { manifest, config, manifestDigest: sha256Digest(manifest) };
}

function sameAnnotations(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const ka = Object.keys(a ?? {}).sort();
  const kb = Object.keys(b ?? {}).sort();
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && a![k] === b![k]);
}

/** The descriptor of a simple-signing layer carrying `signature` (base64) and extra annotations. */
export function signatureLayerDescriptor(payload: Buffer, signatureB64: string, extra: Record<string, string> = {}): Descriptor {
  return {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: payload.length,
    digest: sha256Digest(payload),
    annotations: { [ANNOTATION_SIGNATURE]: signatureB64, ...extra },
  };
}

/** Whether a referrer descriptor is a Sigstore bundle (cosign v3 writes v0.3). */
export function isBundleReferrer(d: { artifactType?: string; mediaType?: string }): boolean {
  return typeof d.artifactType === "string" && d.artifactType.startsWith("application/vnd.dev.sigstore.bundle");
}

/**
 * The OCI 1.1 referrer manifest cosign writes for a bundle about `subject`, in cosign's field
 * order (go-containerregistry also copies the artifactType into the config descriptor).
 */
export function bundleReferrerManifest(subject: Descriptor, bundle: Buffer, content: "message-signature" | "dsse-envelope", predicateType: string | undefined, created: Date): { manifest: Buffer; manifestDigest: string; layer: Descriptor } {
  const layer: Descriptor = { mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, size: bundle.length, digest: sha256Digest(bundle) };
  const annotations: Record<string, string> = { "dev.sigstore.bundle.content": content };
  if (predicateType) annotations["dev.sigstore.bundle.predicateType"] = predicateType;
  annotations["org.opencontainers.image.created"] = created.toISOString().replace(/\.\d{3}Z$/, "Z");
  const doc = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: OCI_EMPTY_MEDIA_TYPE, size: 2, digest: OCI_EMPTY_DIGEST, artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE },
    layers: [layer],
    annotations,
    subject: { mediaType: subject.mediaType, size: subject.size, digest: subject.digest },
    artifactType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  };
  const manifest = Buffer.from(JSON.stringify(doc));
  return { manifest, manifestDigest: sha256Digest(manifest), layer };
}
