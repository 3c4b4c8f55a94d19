// OCI image-spec and Docker media types and JSON shapes, and the artifact types Portcullis reads
// and writes (conftest's one-layer-per-file policies, OPA bundles as the policy CLI stores them).

import { createHash } from "node:crypto";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociEmpty: "application/vnd.oci.empty.v1+json",
  ociLayerTarGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerLayerTarGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  /** oras' config for artifacts without one of their own (conftest's). */
  unknownConfig: "application/vnd.unknown.config.v1+json",
  conftestPolicyLayer: "application/vnd.cncf.openpolicyagent.policy.layer.v1+rego",
  conftestDataLayer: "application/vnd.cncf.openpolicyagent.data.layer.v1+json",
  /** conftest ≤0.2x's config media type, still found in registries. */
  conftestConfigV1: "application/vnd.cncf.openpolicyagent.config.v1+json",
} as const;

/** Every manifest media type the client asks for and accepts. */
export const MANIFEST_TYPES: readonly string[] = [MEDIA.ociManifest, MEDIA.ociIndex, MEDIA.dockerManifest, MEDIA.dockerManifestList];
export const INDEX_TYPES: readonly string[] = [MEDIA.ociIndex, MEDIA.dockerManifestList];

export const ANNOTATION = {
  title: "org.opencontainers.image.title",
  created: "org.opencontainers.image.created",
  refName: "org.opencontainers.image.ref.name",
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Record<string, unknown>;
  data?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The empty JSON object `{}` as a config blob (OCI 1.1's empty descriptor). */
export const EMPTY_JSON = Buffer.from("{}");
export const EMPTY_JSON_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The digest of `data` in `algorithm` (sha256 or sha512); undefined for an algorithm not supported. */
export function digestWith(algorithm: string, data: Uint8Array): string | undefined {
  if (algorithm !== "sha256" && algorithm !== "sha512") return undefined;
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

export function descriptorOf(mediaType: string, data: Uint8Array, annotations?: Record<string, string>): Descriptor {
  const d: Descriptor = { mediaType, digest: sha256Digest(data), size: data.length };
  if (annotations && Object.keys(annotations).length > 0) d.annotations = annotations;
  return d;
}

/** The media type a manifest declares (its `mediaType`, else guessed from its shape as registries do). */
export function manifestMediaType(m: { mediaType?: unknown; manifests?: unknown; config?: unknown }): string {
  if (typeof m.mediaType === "string" && m.mediaType !== "") return m.mediaType;
  return Array.isArray(m.manifests) ? MEDIA.ociIndex : MEDIA.ociManifest;
}

/** Checks the JSON shape of a descriptor; throws with `where` in the message. */
export function checkDescriptor(d: unknown, where: string): Descriptor {
  if (d === null || typeof d !== "object") throw new Error(`${where}: not a descriptor object`);
  const o = d as Record<string, unknown>;
  if (typeof o.mediaType !== "string") throw new Error(`${where}: descriptor without mediaType`);
  if (typeof o.digest !== "string" || !/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/.test(o.digest)) throw new Error(`${where}: descriptor with an invalid digest`);
  if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 0) throw new Error(`${where}: descriptor with an invalid size`);
  if (o.annotations !== undefined && (o.annotations === null || typeof o.annotations !== "object" || Object.values(o.annotations).some((v) => typeof v !== "string"))) {
    throw new Error(`${where}: descriptor annotations are not a string map`);
  }
  return o as unknown as Descriptor;
}

/** Parses and checks an image manifest (OCI or Docker v2). */
export function parseImageManifest(bytes: Uint8Array, where: string): ImageManifest {
  const m = parseJSONObject(bytes, where);
  if (m.schemaVersion !== 2) throw new Error(`${where}: schemaVersion is not 2`);
  const mt = manifestMediaType(m);
  if (mt !== MEDIA.ociManifest && mt !== MEDIA.dockerManifest) throw new Error(`${where}: not an image manifest (${mt})`);
  checkDescriptor(m.config, `${where}: config`);
  if (!Array.isArray(m.layers)) throw new Error(`${where}: layers is not an array`);
  m.layers.forEach((l, i) => checkDescriptor(l, `${where}: layers[${i}]`));
  if (m.subject !== undefined) checkDescriptor(m.subject, `${where}: subject`);
  return m as unknown as ImageManifest;
}

/** Parses and checks an image index (OCI or Docker manifest list). */
export function parseImageIndex(bytes: Uint8Array, where: string): ImageIndex {
  const m = parseJSONObject(bytes, where);
  if (m.schemaVersion !== 2) throw new Error(`${where}: schemaVersion is not 2`);
  if (!Array.isArray(m.manifests)) throw new Error(`${where}: manifests is not an array`);
  m.manifests.forEach((l, i) => checkDescriptor(l, `${where}: manifests[${i}]`));
  return m as unknown as ImageIndex;
}

function parseJSONObject(bytes: Uint8Array, where: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (e) {
    throw new Error(`${where}: invalid JSON: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${where}: not a JSON object`);
  return v as Record<string, unknown>;
}
