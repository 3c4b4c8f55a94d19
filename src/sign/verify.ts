// Verifying cosign signatures of one image digest, as `cosign verify` does.
//
// A candidate is either a legacy `.sig` layer (simple-signing payload + annotations) or a
// Sigstore bundle found as an OCI 1.1 referrer (cosign v3: a DSSE envelope of an in-toto
// statement whose subject is the image, predicate type https://sigstore.dev/cosign/sign/v1).
//
// Key-based (`--key`): the payload's sha256 must equal the layer digest, the signature must
// verify under one of the keys, the claims (type, digest, `-a` annotations) must hold and,
// unless the transparency log is ignored, the Rekor bundle must verify against the log keys of
// the trusted root.
//
// Keyless (identities + trusted root): legacy layers are converted to a v0.1 Sigstore bundle
// (certificate + chain → x509CertificateChain, Rekor SET → inclusionPromise, body →
// canonicalizedBody, sha256(payload) → messageDigest) and every bundle is verified with
// @sigstore/verify: Fulcio chain to a CA of the trusted root at the log's integrated time, the
// embedded SCT against the CT log keys, the SET or inclusion proof against the Rekor keys, the
// log body against the signature; then the identity: the certificate's SAN against
// `--certificate-identity` (exact) or `--certificate-identity-regexp` (Go RE2, unanchored, as
// cosign's regexp.MatchString) and the OIDC issuer extension (1.3.6.1.4.1.57264.1.8, else .1.1)
// likewise. With the log ignored, the certificate chain is checked at the current time (cosign
// does the same when it has no log or timestamp time).

import type { KeyObject } from "node:crypto";
import { lazyRequire, nodeCrypto } from "../lazy.ts";
import { compileRE2, testRE } from "../builtins/re2.ts";
import { checkClaims, parseSimpleSigning, type SimpleSigning } from "./payload.ts";
import { ANNOTATION_BUNDLE, ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, ANNOTATION_RFC3161, ANNOTATION_SIGNATURE, sha256Digest, SIMPLE_SIGNING_MEDIA_TYPE, type Descriptor } from "./layout.ts";
import { decodePemAll, verifyBytes } from "./keys.ts";

type SigstoreVerify = typeof import("@sigstore/verify");
type SigstoreBundle = typeof import("@sigstore/bundle");
const sigstoreVerify = lazyRequire<SigstoreVerify>("@sigstore/verify");
const sigstoreBundle = lazyRequire<SigstoreBundle>("@sigstore/bundle");
const protobufSpecs = lazyRequire<{ TrustedRoot: { fromJSON(o: unknown): any } }>("@sigstore/protobuf-specs");

export const COSIGN_SIGN_PREDICATE_TYPE = "https://sigstore.dev/cosign/sign/v1";
const INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json";

export interface Identity {
  subject?: string;
  subjectRegExp?: string;
  issuer?: string;
  issuerRegExp?: string;
}

export interface VerifyPolicy {
  /** key-based: a signature verifying under any one of these keys */
  keys?: KeyObject[];
  /** keyless: a certificate matching any one of these identities */
  identities?: Identity[];
  /** parsed trusted_root.json (needed for keyless and for the log when not ignored) */
  trustedRoot?: TrustedRootJSON;
  ignoreTlog?: boolean;
  ignoreSct?: boolean;
  /** `-a key=value`: every one must be in the payload's `optional` */
  annotations?: Record<string, string>;
}

export type TrustedRootJSON = Record<string, unknown>;

export type Candidate =
  | { kind: "legacy"; descriptor: Descriptor; payload: Buffer }
  | { kind: "bundle"; descriptor: Descriptor; bundle: Buffer };

export interface Verified {
  /** the output object cosign prints for this signature */
  output: Record<string, unknown>;
  /** the digest of the layer or bundle */
  digest: string;
  keyless: boolean;
}

export interface VerifyResult {
  verified: Verified[];
  /** one reason per candidate that did not verify */
  failures: string[];
}

/** Reads and validates a trusted_root.json document (Sigstore's TrustedRoot). */
export function parseTrustedRoot(text: string): TrustedRootJSON {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error("trusted root: not JSON");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error("trusted root: not a JSON object");
  const mt = (doc as Record<string, unknown>).mediaType;
  if (typeof mt !== "string" || !mt.startsWith("application/vnd.dev.sigstore.trustedroot")) throw new Error(`trusted root: unexpected mediaType ${JSON.stringify(mt)}`);
  try {
    sigstoreVerify().toTrustMaterial(protobufSpecs().TrustedRoot.fromJSON(doc));
  } catch (e) {
    throw new Error(`trusted root: ${(e as Error).message}`);
  }
  return doc as TrustedRootJSON;
}

/** A compiled identity matcher; throws on a bad regular expression. */
export function compileIdentity(id: Identity): (subjects: string[], issuer: string | undefined) => string | undefined {
  if (id.subject === undefined && id.subjectRegExp === undefined) throw new Error("an identity needs --certificate-identity or --certificate-identity-regexp");
  if (id.issuer === undefined && id.issuerRegExp === undefined) throw new Error("an identity needs --certificate-oidc-issuer or --certificate-oidc-issuer-regexp");
  const subRE = id.subjectRegExp !== undefined ? compileRE2(id.subjectRegExp) : undefined;
  const issRE = id.issuerRegExp !== undefined ? compileRE2(id.issuerRegExp) : undefined;
  return (subjects, issuer) => {
    const iss = issuer ?? "";
    if (id.issuer !== undefined && iss !== id.issuer) return `expected oidc issuer not found in certificate: want ${id.issuer}, got ${iss}`;
    if (issRE && !testRE(issRE, iss)) return `expected oidc issuer not found in certificate: want match of ${id.issuerRegExp}, got ${iss}`;
    if (id.subject !== undefined && !subjects.includes(id.subject)) return `expected identity not found in certificate: want ${id.subject}, got ${subjects.join(", ") || "none"}`;
    if (subRE && !subjects.some((s) => testRE(subRE, s))) return `expected identity not found in certificate: want match of ${id.subjectRegExp}, got ${subjects.join(", ") || "none"}`;
    return undefined;
  };
}

/** Checks a policy for what its mode needs, before anything is fetched. */
export function checkPolicy(policy: VerifyPolicy): void {
  const hasKeys = (policy.keys?.length ?? 0) > 0;
  const hasIds = (policy.identities?.length ?? 0) > 0;
  if (!hasKeys && !hasIds) throw new Error("a verification key or a keyless identity is required");
  if (hasKeys && hasIds) throw new Error("give either keys or keyless identities, not both");
  if (hasIds) {
    if (!policy.trustedRoot) throw new Error("keyless verification needs a trusted root (--trusted-root trusted_root.json)");
    for (const id of policy.identities!) compileIdentity(id);
  }
  if (hasKeys && !policy.ignoreTlog && !policy.trustedRoot) throw new Error("verifying the transparency log entry needs a trusted root with the log's key (--trusted-root), or --insecure-ignore-tlog");
}

/** The SAN values of a certificate: emails, URIs, DNS names, IP addresses. */
function subjectsOf(certDer: Buffer): string[] {
  const san = new nodeCrypto.X509Certificate(certDer).subjectAltName ?? "";
  const out: string[] = [];
  // Node writes `type:value` entries separated by ", ", quoting values with special characters as JSON strings
  const re = /(email|URI|DNS|IP Address):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g;
  for (let m = re.exec(san); m; m = re.exec(san)) {
    const v = m[2].startsWith('"') ? (JSON.parse(m[2]) as string) : m[2];
    out.push(v);
  }
  return out;
}

function b64(s: string, what: string): Buffer {
  const t = s.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) throw new Error(`${what} is not base64`);
  return Buffer.from(t, "base64");
}

interface RekorBundle {
  SignedEntryTimestamp: string;
  Payload: { body: string; integratedTime: number; logIndex: number; logID: string };
}

function parseRekorBundle(text: string): RekorBundle {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new Error("the Rekor bundle annotation is not JSON");
  }
  const p = doc?.Payload;
  if (typeof doc?.SignedEntryTimestamp !== "string" || typeof p?.body !== "string" || typeof p.integratedTime !== "number" || typeof p.logIndex !== "number" || typeof p.logID !== "string" || !/^[0-9a-f]+$/.test(p.logID)) {
    throw new Error("the Rekor bundle annotation lacks SignedEntryTimestamp or Payload{body,integratedTime,logIndex,logID}");
  }
  return doc as RekorBundle;
}

/** A legacy `.sig` layer as a v0.1 Sigstore bundle (JSON), as cosign and Ratify convert them. */
export function legacyLayerToBundle(descriptor: Descriptor, payload: Buffer, opts: { keyHint?: string; withTlog: boolean }): Record<string, unknown> {
  const ann = descriptor.annotations ?? {};
  const sig = b64(ann[ANNOTATION_SIGNATURE] ?? "", "the signature annotation");
  let material: Record<string, unknown>;
  if (ann[ANNOTATION_CERTIFICATE]) {
    const certs = [...decodePemAll(ann[ANNOTATION_CERTIFICATE]), ...decodePemAll(ann[ANNOTATION_CHAIN] ?? "")].filter((b) => b.type === "CERTIFICATE");
    if (certs.length === 0) throw new Error("the certificate annotation holds no PEM certificate");
    material = { x509CertificateChain: { certificates: certs.map((c) => ({ rawBytes: c.bytes.toString("base64") })) } };
  } else {
    material = { publicKey: { hint: opts.keyHint ?? "" } };
  }
  const tlogEntries: unknown[] = [];
  if (opts.withTlog && ann[ANNOTATION_BUNDLE]) {
    const rb = parseRekorBundle(ann[ANNOTATION_BUNDLE]);
    let body: any;
    try {
      body = JSON.parse(b64(rb.Payload.body, "the Rekor entry body").toString("utf8"));
    } catch {
      throw new Error("the Rekor entry body is not JSON");
    }
    tlogEntries.push({
      logIndex: String(rb.Payload.logIndex),
      logId: { keyId: Buffer.from(rb.Payload.logID, "hex").toString("base64") },
      kindVersion: { kind: String(body?.kind ?? ""), version: String(body?.apiVersion ?? "") },
      integratedTime: String(rb.Payload.integratedTime),
      inclusionPromise: { signedEntryTimestamp: rb.SignedEntryTimestamp },
      canonicalizedBody: rb.Payload.body,
    });
  }
  const timestamps: unknown[] = [];
  if (ann[ANNOTATION_RFC3161]) {
    let ts: any;
    try {
      ts = JSON.parse(ann[ANNOTATION_RFC3161]);
    } catch {
      throw new Error("the RFC 3161 timestamp annotation is not JSON");
    }
    if (typeof ts?.SignedRFC3161Timestamp !== "string") throw new Error("the RFC 3161 timestamp annotation lacks SignedRFC3161Timestamp");
    timestamps.push({ signedTimestamp: ts.SignedRFC3161Timestamp });
  }
  return {
    mediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
    verificationMaterial: { ...material, tlogEntries, timestampVerificationData: { rfc3161Timestamps: timestamps } },
    messageSignature: {
      messageDigest: { algorithm: "SHA2_256", digest: nodeCrypto.createHash("sha256").update(payload).digest("base64") },
      signature: sig.toString("base64"),
    },
  };
}

interface BundleOutcome {
  subjects?: string[];
  issuer?: string;
  /** the raw value of the v1 issuer extension (1.3.6.1.4.1.57264.1.1), which cosign prints */
  issuerV1?: string;
}

const OID_ISSUER_V1 = "1.3.6.1.4.1.57264.1.1";

/** `optional` with its keys sorted, as Go marshals a map (cosign's output). */
function sortedOptional(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

/**
 * Verifies a Sigstore bundle (JSON) over `artifact` (message signatures) with @sigstore/verify:
 * keys (key-based) or the trusted root's CAs (keyless). Throws with the reason.
 */
function verifyBundle(bundleJSON: unknown, artifact: Buffer | undefined, policy: VerifyPolicy, key: KeyObject | undefined): BundleOutcome {
  const sv = sigstoreVerify();
  const bundle = sigstoreBundle().bundleFromJSON(bundleJSON);
  const entity = sv.toSignedEntity(bundle, artifact);
  const root = policy.trustedRoot ? protobufSpecs().TrustedRoot.fromJSON(policy.trustedRoot) : protobufSpecs().TrustedRoot.fromJSON({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] });
  const trust = sv.toTrustMaterial(root, (hint: string) => {
    if (!key) throw new sv.VerificationError({ code: "PUBLIC_KEY_ERROR", message: `no public key for hint ${JSON.stringify(hint)}` });
    return { publicKey: key, validFor: () => true };
  });
  let opts: Record<string, number> = {};
  if (policy.ignoreTlog) {
    entity.tlogEntries = [];
    const rfc = entity.timestamps.filter((t) => t.$case === "timestamp-authority");
    if (entity.key.$case === "certificate" && rfc.length === 0) {
      // no log or TSA time: the certificate is checked at the current time, as cosign does
      entity.timestamps = [{ $case: "transparency-log", tlogEntry: { inclusionPromise: { signedEntryTimestamp: Buffer.alloc(0) }, logId: { keyId: Buffer.from("current time") }, integratedTime: String(Math.floor(Date.now() / 1000)) } as any }];
    } else {
      entity.timestamps = rfc;
    }
    opts = { tlogThreshold: 0, timestampThreshold: entity.key.$case === "certificate" ? 1 : 0 };
  } else {
    opts = { tlogThreshold: 1, timestampThreshold: entity.key.$case === "certificate" ? 1 : 0 };
  }
  opts.ctlogThreshold = policy.ignoreSct ? 0 : 1;
  const signer = new sv.Verifier(trust, opts).verify(entity);
  if (entity.key.$case !== "certificate") return {};
  const leaf = new nodeCrypto.X509Certificate(entity.key.certificate.root.toDER());
  // Fulcio certificates are for code signing (cosign checks the extended key usage)
  if (!(leaf.keyUsage ?? []).includes("1.3.6.1.5.5.7.3.3")) throw new Error("the certificate is not for code signing (extended key usage)");
  const v1 = entity.key.certificate.extension(OID_ISSUER_V1)?.value.toString("ascii");
  return { subjects: subjectsOf(entity.key.certificate.root.toDER()), issuer: signer.identity?.extensions?.issuer, ...(v1 !== undefined ? { issuerV1: v1 } : {}) };
}

function matchIdentity(policy: VerifyPolicy, o: BundleOutcome): string | undefined {
  let reason: string | undefined;
  for (const id of policy.identities ?? []) {
    const r = compileIdentity(id)(o.subjects ?? [], o.issuer);
    if (r === undefined) return undefined;
    reason ??= r;
  }
  return reason ?? "no identity to match";
}

function errText(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.replace(/\s+/g, " ").trim();
}

function keyHint(key: KeyObject): string {
  return nodeCrypto.createHash("sha256").update(key.export({ format: "der", type: "spki" })).digest("hex");
}

function verifyLegacy(c: { descriptor: Descriptor; payload: Buffer }, digest: string, policy: VerifyPolicy): Verified {
  const { descriptor, payload } = c;
  if (descriptor.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE) throw new Error(`layer media type ${descriptor.mediaType} is not a simple-signing payload`);
  if (sha256Digest(payload) !== descriptor.digest) throw new Error("the payload does not match the layer digest");
  const ann = descriptor.annotations ?? {};
  if (!ann[ANNOTATION_SIGNATURE]) throw new Error("the layer has no signature annotation");
  const sig = b64(ann[ANNOTATION_SIGNATURE], "the signature annotation");
  let parsed: SimpleSigning;
  const output = (): Record<string, unknown> => JSON.parse(payload.toString("utf8"));
  const keyless = (policy.identities?.length ?? 0) > 0;
  let out: Record<string, unknown>;
  if (!keyless) {
    const key = policy.keys!.find((k) => verifyBytes(k, payload, sig));
    if (!key) throw new Error("invalid signature when validating ASN.1 encoded signature");
    parsed = parseSimpleSigning(payload);
    const bad = checkClaims(parsed, digest, policy.annotations);
    if (bad) throw new Error(bad);
    out = output();
    if (!policy.ignoreTlog) {
      if (!ann[ANNOTATION_BUNDLE]) throw new Error("signature not found in transparency log (no Rekor bundle; --insecure-ignore-tlog skips the log)");
      verifyBundle(legacyLayerToBundle(descriptor, payload, { keyHint: keyHint(key), withTlog: true }), payload, policy, key);
    }
  } else {
    if (!ann[ANNOTATION_CERTIFICATE]) throw new Error("the signature has no certificate (keyless verification needs one)");
    const o = verifyBundle(legacyLayerToBundle(descriptor, payload, { withTlog: !policy.ignoreTlog }), payload, policy, undefined);
    const bad = matchIdentity(policy, o);
    if (bad) throw new Error(bad);
    parsed = parseSimpleSigning(payload);
    const badClaim = checkClaims(parsed, digest, policy.annotations);
    if (badClaim) throw new Error(badClaim);
    out = output();
    const optional = (typeof out.optional === "object" && out.optional !== null ? out.optional : {}) as Record<string, unknown>;
    out.optional = { ...optional, ...(o.issuerV1 !== undefined ? { [OID_ISSUER_V1]: o.issuerV1 } : {}), Issuer: o.issuer ?? "", Subject: o.subjects?.[0] ?? "" };
  }
  if (ann[ANNOTATION_BUNDLE] && !policy.ignoreTlog) {
    const optional = (typeof out.optional === "object" && out.optional !== null ? out.optional : {}) as Record<string, unknown>;
    // cosign re-marshals its bundle struct: fields in the struct's order
    const rb = parseRekorBundle(ann[ANNOTATION_BUNDLE]);
    const bundle = { SignedEntryTimestamp: rb.SignedEntryTimestamp, Payload: { body: rb.Payload.body, integratedTime: rb.Payload.integratedTime, logIndex: rb.Payload.logIndex, logID: rb.Payload.logID } };
    out.optional = { ...optional, Bundle: bundle };
  }
  if (typeof out.optional === "object" && out.optional !== null) out.optional = sortedOptional(out.optional as Record<string, unknown>);
  return { output: out, digest: descriptor.digest, keyless };
}

function verifyBundleCandidate(c: { descriptor: Descriptor; bundle: Buffer }, digest: string, policy: VerifyPolicy, refText: string | undefined): Verified {
  if (sha256Digest(c.bundle) !== c.descriptor.digest) throw new Error("the bundle does not match its layer digest");
  let doc: any;
  try {
    doc = JSON.parse(c.bundle.toString("utf8"));
  } catch {
    throw new Error("the bundle is not JSON");
  }
  if (!doc?.dsseEnvelope) throw new Error("the bundle holds no DSSE envelope (cosign's image signature bundles are in-toto statements)");
  if (policy.annotations && Object.keys(policy.annotations).length > 0) throw new Error("a bundle signature carries no annotations to check (-a)");
  const keyless = (policy.identities?.length ?? 0) > 0;
  let outcome: BundleOutcome = {};
  if (keyless) {
    outcome = verifyBundle(doc, undefined, policy, undefined);
    const bad = matchIdentity(policy, outcome);
    if (bad) throw new Error(bad);
  } else {
    const errors: string[] = [];
    const ok = policy.keys!.some((k) => {
      try {
        verifyBundle(doc, undefined, policy, k);
        return true;
      } catch (e) {
        errors.push(errText(e));
        return false;
      }
    });
    if (!ok) throw new Error(errors[0] ?? "no key");
  }
  const env = doc.dsseEnvelope;
  if (env.payloadType !== INTOTO_PAYLOAD_TYPE) throw new Error(`DSSE payload type ${env.payloadType} is not ${INTOTO_PAYLOAD_TYPE}`);
  let statement: any;
  try {
    statement = JSON.parse(b64(String(env.payload ?? ""), "the DSSE payload").toString("utf8"));
  } catch (e) {
    throw new Error(`the DSSE payload is not an in-toto statement: ${errText(e)}`);
  }
  if (statement?.predicateType !== COSIGN_SIGN_PREDICATE_TYPE) throw new Error(`predicate type ${statement?.predicateType} is not ${COSIGN_SIGN_PREDICATE_TYPE}`);
  const hex = digest.slice("sha256:".length);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  if (!subjects.some((s: any) => s?.digest?.sha256 === hex)) throw new Error(`the statement's subject is not ${digest}`);
  // cosign prints a bundle signature in the simple-signing shape, the predicate type as its type
  const out: Record<string, unknown> = {
    critical: { identity: { "docker-reference": refText ?? "" }, image: { "docker-manifest-digest": digest }, type: statement.predicateType },
    optional: keyless ? sortedOptional({ ...(outcome.issuerV1 !== undefined ? { [OID_ISSUER_V1]: outcome.issuerV1 } : {}), Issuer: outcome.issuer ?? "", Subject: outcome.subjects?.[0] ?? "" }) : null,
  };
  return { output: out, digest: c.descriptor.digest, keyless };
}

/** Verifies every candidate signature of `digest` under `policy` (`refText`: the reference as the user gave it, which cosign echoes for bundle signatures). */
export function verifyCandidates(candidates: Candidate[], digest: string, policy: VerifyPolicy, refText?: string): VerifyResult {
  checkPolicy(policy);
  const verified: Verified[] = [];
  const failures: string[] = [];
  for (const c of candidates) {
    try {
      verified.push(c.kind === "legacy" ? verifyLegacy(c, digest, policy) : verifyBundleCandidate(c, digest, policy, refText));
    } catch (e) {
      failures.push(`${c.descriptor.digest.slice(0, 19)}: ${errText(e)}`);
    }
  }
  return { verified, failures };
}
