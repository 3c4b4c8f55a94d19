// Signature verification without a registry: legacy `.sig` layers (key-based and keyless, with
// Rekor SETs and SCTs from a local CA/log) and cosign v3 bundles.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { simpleSigningPayload } from "../../src/sign/payload.ts";
import { signatureLayerDescriptor, ANNOTATION_BUNDLE, ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, sha256Digest, SIGSTORE_BUNDLE_V03_MEDIA_TYPE } from "../../src/sign/layout.ts";
import { verifyCandidates, parseTrustedRoot, type Candidate, type VerifyPolicy } from "../../src/sign/verify.ts";
import { localSigstore } from "../support/sigstore-fixtures.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const OTHER = `sha256:${"cd".repeat(32)}`;
const REF = "127.0.0.1:5000/team/app";

function keyPair() {
  return crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
}

function legacy(payload: Buffer, sig: Buffer, extra: Record<string, string> = {}): Candidate {
  return { kind: "legacy", descriptor: signatureLayerDescriptor(payload, sig.toString("base64"), extra), payload };
}

test("key-based: a signature by the key verifies; wrong key, tampered payload, wrong digest and missing annotations are refused", () => {
  const { privateKey, publicKey } = keyPair();
  const other = keyPair();
  const payload = simpleSigningPayload(REF, DIGEST, { team: "sec" });
  const good = legacy(payload, crypto.sign("sha256", payload, privateKey));
  const policy: VerifyPolicy = { keys: [publicKey], ignoreTlog: true };
  const r = verifyCandidates([good], DIGEST, policy);
  assert.deepEqual(r.failures, []);
  assert.equal(r.verified.length, 1);
  assert.deepEqual(r.verified[0].output, JSON.parse(payload.toString()));

  assert.match(verifyCandidates([good], DIGEST, { keys: [other.publicKey], ignoreTlog: true }).failures[0], /invalid signature/);
  assert.equal(verifyCandidates([good], DIGEST, { keys: [other.publicKey, publicKey], ignoreTlog: true }).verified.length, 1);

  const tampered: Candidate = { ...good, payload: Buffer.from(payload.toString().replace(REF, "evil/app")) } as Candidate;
  assert.match(verifyCandidates([tampered], DIGEST, policy).failures[0], /does not match the layer digest/);
  // re-pointing the layer digest at the tampered payload leaves the signature invalid
  const repointed: Candidate = { kind: "legacy", descriptor: { ...good.descriptor, digest: sha256Digest((tampered as { payload: Buffer }).payload), size: (tampered as { payload: Buffer }).payload.length }, payload: (tampered as { payload: Buffer }).payload };
  assert.match(verifyCandidates([repointed], DIGEST, policy).failures[0], /invalid signature/);

  assert.match(verifyCandidates([good], OTHER, policy).failures[0], /payload digest .* does not match/);
  assert.equal(verifyCandidates([good], DIGEST, { ...policy, annotations: { team: "sec" } }).verified.length, 1);
  assert.match(verifyCandidates([good], DIGEST, { ...policy, annotations: { team: "ops" } }).failures[0], /missing or incorrect annotation: team=ops/);
  // raw r‖s signatures (KMS-style) are accepted too
  const raw = legacy(payload, crypto.sign("sha256", payload, { key: privateKey, dsaEncoding: "ieee-p1363" }));
  assert.equal(verifyCandidates([raw], DIGEST, policy).verified.length, 1);
});

test("key-based with the log: the Rekor SET must verify against the trusted root's log key", () => {
  const ls = localSigstore();
  const { privateKey, publicKey } = keyPair();
  const payload = simpleSigningPayload(REF, DIGEST);
  const sig = crypto.sign("sha256", payload, privateKey);
  const pubPem = publicKey.export({ format: "pem", type: "spki" }) as string;
  const now = Math.floor(Date.now() / 1000);
  const withSET = legacy(payload, sig, { [ANNOTATION_BUNDLE]: ls.rekorBundle(payload, sig, pubPem, now) });
  const root = parseTrustedRoot(JSON.stringify(ls.trustedRoot));
  const r = verifyCandidates([withSET], DIGEST, { keys: [publicKey], trustedRoot: root });
  assert.deepEqual(r.failures, []);
  assert.equal((r.verified[0].output.optional as Record<string, any>).Bundle.Payload.integratedTime, now);

  const badSET = legacy(payload, sig, { [ANNOTATION_BUNDLE]: ls.rekorBundle(payload, sig, pubPem, now, keyPair().privateKey) });
  assert.match(verifyCandidates([badSET], DIGEST, { keys: [publicKey], trustedRoot: root }).failures[0], /inclusion promise could not be verified/);
  assert.match(verifyCandidates([legacy(payload, sig)], DIGEST, { keys: [publicKey], trustedRoot: root }).failures[0], /not found in transparency log/);
  assert.throws(() => verifyCandidates([withSET], DIGEST, { keys: [publicKey] }), /--insecure-ignore-tlog/);
});

function keylessLayer(ls: ReturnType<typeof localSigstore>, leafOpts: Parameters<ReturnType<typeof localSigstore>["leaf"]>[0], opts: { time?: number; noBundle?: boolean; digest?: string } = {}): Candidate {
  const leaf = ls.leaf(leafOpts);
  const payload = simpleSigningPayload(REF, opts.digest ?? DIGEST);
  const sig = crypto.sign("sha256", payload, leaf.key);
  const ann: Record<string, string> = { [ANNOTATION_CERTIFICATE]: leaf.certPem, [ANNOTATION_CHAIN]: leaf.chainPem };
  if (!opts.noBundle) ann[ANNOTATION_BUNDLE] = ls.rekorBundle(payload, sig, leaf.certPem, opts.time ?? Math.floor(Date.now() / 1000));
  return legacy(payload, sig, ann);
}

test("keyless: Fulcio-style chain, SCT, SET and identity are all checked", () => {
  const ls = localSigstore();
  const root = parseTrustedRoot(JSON.stringify(ls.trustedRoot));
  const ID = "dev@example.com";
  const ISS = "https://issuer.example.com";
  const policy: VerifyPolicy = { identities: [{ subject: ID, issuer: ISS }], trustedRoot: root };
  const good = keylessLayer(ls, { identity: ID, issuer: ISS });
  const r = verifyCandidates([good], DIGEST, policy);
  assert.deepEqual(r.failures, []);
  assert.deepEqual((r.verified[0].output.optional as Record<string, unknown>).Subject, ID);
  assert.deepEqual((r.verified[0].output.optional as Record<string, unknown>).Issuer, ISS);

  // identities
  assert.match(verifyCandidates([good], DIGEST, { ...policy, identities: [{ subject: "other@example.com", issuer: ISS }] }).failures[0], /expected identity not found/);
  assert.match(verifyCandidates([good], DIGEST, { ...policy, identities: [{ subject: ID, issuer: "https://evil" }] }).failures[0], /expected oidc issuer not found/);
  assert.equal(verifyCandidates([good], DIGEST, { ...policy, identities: [{ subjectRegExp: "@example\\.com$", issuerRegExp: "^https://issuer\\." }] }).verified.length, 1);
  assert.match(verifyCandidates([good], DIGEST, { ...policy, identities: [{ subjectRegExp: "^ops@", issuer: ISS }] }).failures[0], /want match of/);
  const uri = keylessLayer(ls, { identity: "https://github.com/org/repo/.github/workflows/ci.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com" });
  assert.equal(verifyCandidates([uri], DIGEST, { identities: [{ subjectRegExp: "^https://github.com/org/", issuer: "https://token.actions.githubusercontent.com" }], trustedRoot: root }).verified.length, 1);

  // the log time must fall inside the certificate's validity
  const late = keylessLayer(ls, { identity: ID, issuer: ISS }, { time: Math.floor(Date.now() / 1000) + 3600 });
  assert.match(verifyCandidates([late], DIGEST, policy).failures[0], /certificate chain/i);
  // an SCT signed by another log, or none
  assert.match(verifyCandidates([keylessLayer(ls, { identity: ID, issuer: ISS, sctKey: keyPair().privateKey })], DIGEST, policy).failures[0], /SCT verification failed/);
  assert.match(verifyCandidates([keylessLayer(ls, { identity: ID, issuer: ISS, noSCT: true })], DIGEST, policy).failures[0], /expected 1 SCTs, got 0/);
  assert.equal(verifyCandidates([keylessLayer(ls, { identity: ID, issuer: ISS, noSCT: true })], DIGEST, { ...policy, ignoreSct: true }).verified.length, 1);
  // not for code signing
  assert.match(verifyCandidates([keylessLayer(ls, { identity: ID, issuer: ISS, noCodeSigning: true })], DIGEST, policy).failures[0], /code signing/);
  // a certificate from another CA
  const stranger = localSigstore();
  assert.match(verifyCandidates([keylessLayer(stranger, { identity: ID, issuer: ISS })], DIGEST, policy).failures[0], /certificate chain|inclusion promise/i);
  // no log entry: refused unless the log is ignored; then the certificate must be valid now
  const noLog = keylessLayer(ls, { identity: ID, issuer: ISS }, { noBundle: true });
  assert.match(verifyCandidates([noLog], DIGEST, policy).failures[0], /expected 1 timestamps, got 0|tlog/);
  assert.equal(verifyCandidates([noLog], DIGEST, { ...policy, ignoreTlog: true }).verified.length, 1);
  const expired = keylessLayer(ls, { identity: ID, issuer: ISS, notBefore: new Date(Date.now() - 3600e3) }, { noBundle: true });
  assert.match(verifyCandidates([expired], DIGEST, { ...policy, ignoreTlog: true }).failures[0], /certificate chain/i);
  // keyless claims: the digest still has to match
  assert.match(verifyCandidates([keylessLayer(ls, { identity: ID, issuer: ISS }, { digest: OTHER })], DIGEST, policy).failures[0], /payload digest/);
  assert.throws(() => verifyCandidates([good], DIGEST, { identities: [{ subject: ID, issuer: ISS }] }), /trusted root/);
  assert.throws(() => verifyCandidates([good], DIGEST, { identities: [{ subject: ID }], trustedRoot: root }), /oidc-issuer/);
});

function dsseBundle(key: crypto.KeyObject, subjectDigest: string): Buffer {
  const statement = { _type: "https://in-toto.io/Statement/v1", subject: [{ digest: { sha256: subjectDigest.slice(7) } }], predicateType: "https://sigstore.dev/cosign/sign/v1" };
  const payload = Buffer.from(JSON.stringify(statement));
  const type = "application/vnd.in-toto+json";
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${type.length} ${type} ${payload.length} `), payload]);
  const sig = crypto.sign("sha256", pae, key);
  return Buffer.from(
    JSON.stringify({
      mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE,
      verificationMaterial: { publicKey: { hint: "" }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: { payload: payload.toString("base64"), payloadType: type, signatures: [{ sig: sig.toString("base64"), keyid: "" }] },
    }),
  );
}

test("cosign v3 bundles: a DSSE in-toto statement about the digest verifies under the key", () => {
  const { privateKey, publicKey } = keyPair();
  const bundle = dsseBundle(privateKey, DIGEST);
  const c: Candidate = { kind: "bundle", descriptor: { mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, digest: sha256Digest(bundle), size: bundle.length }, bundle };
  const r = verifyCandidates([c], DIGEST, { keys: [publicKey], ignoreTlog: true });
  assert.deepEqual(r.failures, []);
  assert.equal((r.verified[0].output.critical as any).type, "https://sigstore.dev/cosign/sign/v1");
  assert.match(verifyCandidates([c], OTHER, { keys: [publicKey], ignoreTlog: true }).failures[0], /subject is not/);
  assert.match(verifyCandidates([c], DIGEST, { keys: [keyPair().publicKey], ignoreTlog: true }).failures[0], /signature/);
  const forged = Buffer.from(bundle.toString().replace(/"payload":"[^"]*"/, `"payload":"${Buffer.from("{}").toString("base64")}"`));
  const f: Candidate = { kind: "bundle", descriptor: { mediaType: SIGSTORE_BUNDLE_V03_MEDIA_TYPE, digest: sha256Digest(forged), size: forged.length }, bundle: forged };
  assert.match(verifyCandidates([f], DIGEST, { keys: [publicKey], ignoreTlog: true }).failures[0], /signature/);
});
