// Signatures in a registry: `portcullis sign` (cosign sign --key, tag scheme) and verification
// of an image or policy artifact (cosign verify): the reference is resolved to a digest first,
// then the `sha256-<hex>.sig` manifest's layers and the Sigstore-bundle referrers of that digest
// are fetched (each blob checked against its descriptor, sizes bounded) and verified.

import type { KeyObject } from "node:crypto";
import { RegistryClient, RegistryError, formatReference, parseReference, type ClientOptions, type Reference } from "../oci/index.ts";
import { signBytes, verifyBytes } from "./keys.ts";
import { MAX_PAYLOAD_BYTES, simpleSigningPayload } from "./payload.ts";
import {
  ANNOTATION_SIGNATURE,
  MAX_MANIFEST_BYTES,
  OCI_CONFIG_MEDIA_TYPE,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  SIMPLE_SIGNING_MEDIA_TYPE,
  appendSignatureLayers,
  bundleReferrerManifest,
  SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
  isBundleReferrer,
  parseManifest,
  sha256Digest,
  signatureLayerDescriptor,
  signatureTag,
  type Descriptor,
  type ImageManifest,
} from "./layout.ts";
import { verifyCandidates, checkPolicy, COSIGN_SIGN_PREDICATE_TYPE, type Candidate, type Verified, type VerifyPolicy } from "./verify.ts";
import { nodeCrypto } from "../lazy.ts";

/** Most bundle referrers read for one digest. */
export const MAX_BUNDLE_REFERRERS = 100;

/** A verification that failed: `reason` is one line. */
export class SignatureVerificationError extends Error {}

/** The repository name cosign writes as `docker-reference` (go-containerregistry's Repository.Name()). */
export function dockerReference(ref: Reference): string {
  const registry = ref.registry === "docker.io" ? "index.docker.io" : ref.registry;
  return `${registry}/${ref.repository}`;
}

/** The reference pinned to its digest (resolved through the registry when it names a tag). */
export async function resolveDigest(client: RegistryClient, ref: Reference): Promise<{ ref: Reference; descriptor: Descriptor }> {
  const descriptor = await client.resolve(ref);
  if (!descriptor.digest.startsWith("sha256:")) throw new RegistryError(`${formatReference(ref)}: only sha256 digests are supported, got ${descriptor.digest}`);
  return { ref: { registry: ref.registry, repository: ref.repository, digest: descriptor.digest }, descriptor };
}

async function getSignatureManifest(client: RegistryClient, ref: Reference, digest: string): Promise<ImageManifest | undefined> {
  try {
    const got = await client.getManifest({ registry: ref.registry, repository: ref.repository, tag: signatureTag(digest) }, [OCI_MANIFEST_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.v2+json"]);
    return parseManifest(got.bytes);
  } catch (e) {
    if (e instanceof RegistryError && e.notFound) return undefined;
    throw e;
  }
}

/** Every signature of `digest` in the repository of `ref`: `.sig` layers, then bundle referrers. */
export async function fetchCandidates(client: RegistryClient, ref: Reference, digest: string): Promise<Candidate[]> {
  const out: Candidate[] = [];
  const sig = await getSignatureManifest(client, ref, digest);
  for (const layer of sig?.layers ?? []) {
    if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) continue;
    const payload = await client.getBlob(ref, layer.digest, layer.size, MAX_PAYLOAD_BYTES);
    out.push({ kind: "legacy", descriptor: layer, payload });
  }
  let index;
  try {
    ({ index } = await client.referrers(ref, digest));
  } catch (e) {
    // a registry that cannot list referrers: the .sig signatures found still count; without
    // any, the failure is the answer
    if (e instanceof RegistryError && out.length > 0) return out;
    throw e;
  }
  // cosign writes its referrers-tag index entries with the config's media type (the empty
  // descriptor's) as artifactType: those are read too, and the manifest decides
  const bundles = index.manifests.filter((m) => isBundleReferrer(m) || m.artifactType === undefined || m.artifactType === OCI_EMPTY_MEDIA_TYPE).slice(0, MAX_BUNDLE_REFERRERS);
  for (const m of bundles) {
    const got = await client.getManifest({ registry: ref.registry, repository: ref.repository, digest: m.digest });
    const manifest = parseManifest(got.bytes);
    if (manifest.subject?.digest !== digest || !isBundleReferrer({ artifactType: manifest.artifactType ?? manifest.config.mediaType })) continue;
    const layer = manifest.layers[0];
    if (!layer || !layer.mediaType.startsWith("application/vnd.dev.sigstore.bundle")) continue;
    const bundle = await client.getBlob(ref, layer.digest, layer.size, MAX_MANIFEST_BYTES);
    out.push({ kind: "bundle", descriptor: layer, bundle });
  }
  return out;
}

export interface SignResult {
  digest: string;
  /** the reference signed (repo@digest) */
  signed: string;
  /** the `.sig` tag written */
  signatureTag: string;
  /** false when an equal signature by the same key was already there (cosign's dupe detection) */
  added: boolean;
}

/** Signs `ref` (resolved to its digest) with `key`, appending a layer to its `.sig` manifest. */
export async function signImage(client: RegistryClient, refText: string, key: KeyObject, annotations: Record<string, string> = {}): Promise<SignResult> {
  const { ref } = await resolveDigest(client, parseReference(refText, "latest"));
  const digest = ref.digest!;
  const payload = simpleSigningPayload(dockerReference(ref), digest, annotations);
  const tag = signatureTag(digest);
  const existing = await getSignatureManifest(client, ref, digest);
  const signed = formatReference(ref);
  const payloadDigest = sha256Digest(payload);
  for (const l of existing?.layers ?? []) {
    if (l.digest !== payloadDigest || !l.annotations?.[ANNOTATION_SIGNATURE] || Object.keys(l.annotations).length !== 1) continue;
    // the same claims, signed by the same key already: nothing to add
    if (verifyBytes(key, payload, Buffer.from(l.annotations[ANNOTATION_SIGNATURE], "base64"))) return { digest, signed, signatureTag: tag, added: false };
  }
  const layer = signatureLayerDescriptor(payload, signBytes(key, payload).toString("base64"));
  const built = appendSignatureLayers(existing, [layer]);
  await client.pushBlob(ref, payload, SIMPLE_SIGNING_MEDIA_TYPE);
  await client.pushBlob(ref, built.config, OCI_CONFIG_MEDIA_TYPE);
  await client.putManifest(ref, built.manifest, OCI_MANIFEST_MEDIA_TYPE, tag);
  return { digest, signed, signatureTag: tag, added: true };
}

/** The in-toto statement cosign v3 signs for an image (protojson's field order). */
export function cosignSignStatement(digest: string): Buffer {
  const [alg, hex] = digest.split(":");
  return Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [{ digest: { [alg]: hex } }], predicateType: COSIGN_SIGN_PREDICATE_TYPE }));
}

/** DSSE's pre-authentication encoding. */
function pae(type: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${body.length} `), body]);
}

/**
 * Signs `ref` as `cosign sign --new-bundle-format --key … --tlog-upload=false` does: a v0.3
 * Sigstore bundle (DSSE envelope of the in-toto statement about the digest, the key's hint =
 * base64 sha256 of its SPKI) pushed as an OCI 1.1 referrer of the image.
 */
export async function signImageBundle(client: RegistryClient, refText: string, key: KeyObject, now = new Date()): Promise<SignResult> {
  const { ref, descriptor } = await resolveDigest(client, parseReference(refText, "latest"));
  const digest = ref.digest!;
  const statement = cosignSignStatement(digest);
  const type = "application/vnd.in-toto+json";
  const sig = signBytes(key, pae(type, statement));
  const spki = nodeCrypto.createPublicKey(key).export({ format: "der", type: "spki" });
  const bundle = Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: nodeCrypto.createHash("sha256").update(spki).digest("base64") } },
      dsseEnvelope: { payload: statement.toString("base64"), payloadType: type, signatures: [{ sig: sig.toString("base64") }] },
    }),
  );
  const built = bundleReferrerManifest(descriptor, bundle, "dsse-envelope", COSIGN_SIGN_PREDICATE_TYPE, now);
  await client.pushBlob(ref, bundle, SIGSTORE_BUNDLE_V03_MEDIA_TYPE);
  await client.pushBlob(ref, Buffer.from("{}"), OCI_EMPTY_MEDIA_TYPE);
  const pushed = await client.pushReferrer(ref, built.manifest, OCI_MANIFEST_MEDIA_TYPE);
  return { digest, signed: formatReference(ref), signatureTag: pushed.digest, added: true };
}

export interface VerifyImageResult {
  /** repo@digest verified */
  ref: string;
  digest: string;
  verified: Verified[];
}

/**
 * Verifies the signatures of `refText` under `policy`; throws SignatureVerificationError with a
 * one-line reason when none verifies (no signatures, or each one fails).
 */
export async function verifyImage(client: RegistryClient, refText: string, policy: VerifyPolicy): Promise<VerifyImageResult> {
  checkPolicy(policy);
  const { ref } = await resolveDigest(client, parseReference(refText, "latest"));
  const digest = ref.digest!;
  const candidates = await fetchCandidates(client, ref, digest);
  if (candidates.length === 0) throw new SignatureVerificationError(`no signatures found for ${formatReference(ref)}`);
  const r = verifyCandidates(candidates, digest, policy, refText);
  if (r.verified.length === 0) throw new SignatureVerificationError(`no valid signature for ${formatReference(ref)}: ${r.failures.join("; ")}`);
  return { ref: formatReference(ref), digest, verified: r.verified };
}

/**
 * What `pull`, `test --update` and `run` call before writing anything: verifies `ref` under
 * `policy` with a registry client made from `clientOptions`; returns the verified digest, so
 * the caller fetches exactly that (`repo@digest`), or throws SignatureVerificationError.
 */
export async function verifyArtifact(ref: string, policy: VerifyPolicy, clientOptions: ClientOptions = {}): Promise<VerifyImageResult> {
  const client = new RegistryClient(clientOptions);
  try {
    return await verifyImage(client, ref, policy);
  } finally {
    await client.close();
  }
}

/**
 * The verification `pull` and `test --update` run through the OCI client's VerifyHook: called
 * with the reference and the manifest's descriptor before any layer is fetched, it verifies the
 * signatures of exactly that digest and throws SignatureVerificationError to refuse it.
 */
export function signatureVerifyHook(policy: VerifyPolicy, clientOptions: ClientOptions = {}): (ref: Reference, manifest: Descriptor) => Promise<void> {
  checkPolicy(policy);
  return async (ref, manifest) => {
    if (!manifest.digest.startsWith("sha256:")) throw new SignatureVerificationError(`only sha256 digests are supported, got ${manifest.digest}`);
    const client = new RegistryClient(clientOptions);
    try {
      const pinned: Reference = { registry: ref.registry, repository: ref.repository, digest: manifest.digest };
      const candidates = await fetchCandidates(client, pinned, manifest.digest);
      if (candidates.length === 0) throw new SignatureVerificationError(`no signatures found for ${formatReference(pinned)}`);
      const r = verifyCandidates(candidates, manifest.digest, policy, formatReference(ref));
      if (r.verified.length === 0) throw new SignatureVerificationError(`no valid signature for ${formatReference(pinned)}: ${r.failures.join("; ")}`);
    } finally {
      await client.close();
    }
  };
}
