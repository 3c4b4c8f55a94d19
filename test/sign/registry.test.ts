// Signatures in a real registry (Debian's docker-registry on loopback): portcullis sign /
// verify-signature with keys and keyless certificates, cosign v3 bundle referrers, refusals,
// verifyArtifact.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient } from "../../src/oci/client.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { simpleSigningPayload } from "../../src/sign/payload.ts";
import { ANNOTATION_BUNDLE, ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, appendSignatureLayers, bundleReferrerManifest, parseManifest, signatureLayerDescriptor, signatureTag, SIMPLE_SIGNING_MEDIA_TYPE, OCI_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE, sha256Digest } from "../../src/sign/layout.ts";
import { verifyArtifact, SignatureVerificationError } from "../../src/sign/remote.ts";
import { pushTestImage } from "./fixed-image.ts";
import { startRegistry, registryMissing, type TestRegistry } from "../support/registry.ts";
import { localSigstore } from "../support/sigstore-fixtures.ts";

import { cli } from "../cli/helpers.ts";

let reg: TestRegistry | undefined;
let client: RegistryClient;
const dir = mkdtempSync(join(tmpdir(), "pc-sign-"));

before(async () => {
  if (registryMissing()) return;
  reg = await startRegistry();
  client = new RegistryClient();
});
after(async () => {
  await client?.close();
  await reg?.stop();
});

async function withPassword<T>(pw: string, f: () => Promise<T>): Promise<T> {
  const prev = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = pw;
  try {
    return await f();
  } finally {
    if (prev === undefined) delete process.env.COSIGN_PASSWORD;
    else process.env.COSIGN_PASSWORD = prev;
  }
}

test("sign and verify-signature with a key: payload, refusals of wrong keys, unsigned and tampered images", { skip: registryMissing(), timeout: 60000 }, async () => {
  const img = await pushTestImage(client, reg!.host, "team/app", "v1", "a");
  const unsigned = await pushTestImage(client, reg!.host, "team/other", "v1", "b");
  await withPassword("pw", async () => {
    assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(dir, "team")])).code, 0);
    assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(dir, "other")])).code, 0);
    const s = await cli(["sign", "--key", join(dir, "team.key"), img.ref]);
    assert.equal(s.code, 0, s.err);
    assert.equal(s.err, `Pushing signature to: ${reg!.host}/team/app\n`);
    // signing the same claims again adds no layer (cosign's dupe detection); new annotations do
    assert.equal((await cli(["sign", "--key", join(dir, "team.key"), img.ref])).code, 0);
    assert.equal((await cli(["sign", "--key", join(dir, "team.key"), "-a", "env=prod", img.ref])).code, 0);
  });
  const sigManifest = parseManifest((await client.getManifest({ ...parseReference(img.ref), tag: signatureTag(img.digest) })).bytes);
  assert.equal(sigManifest.layers.length, 2);
  assert.equal(sigManifest.layers[0].mediaType, SIMPLE_SIGNING_MEDIA_TYPE);
  assert.equal(sigManifest.config.mediaType, OCI_CONFIG_MEDIA_TYPE);

  const v = await cli(["verify-signature", "--key", join(dir, "team.pub"), "--insecure-ignore-tlog", img.ref]);
  assert.equal(v.code, 0, v.err);
  const out = JSON.parse(v.out);
  assert.deepEqual(out[0], { critical: { identity: { "docker-reference": `${reg!.host}/team/app` }, image: { "docker-manifest-digest": img.digest }, type: "cosign container image signature" }, optional: null });
  assert.deepEqual(out[1].optional, { env: "prod" });
  assert.match(v.err, /The signatures were verified against the specified public key/);
  const va = await cli(["verify-signature", "--key", join(dir, "team.pub"), "--insecure-ignore-tlog", "-a", "env=prod", img.ref]);
  assert.equal(JSON.parse(va.out).length, 1);

  const wrong = await cli(["verify-signature", "--key", join(dir, "other.pub"), "--insecure-ignore-tlog", img.ref]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /^Error: no valid signature for .*invalid signature/);
  assert.equal(wrong.err.split("\n").length, 2, "one line");
  const none = await cli(["verify-signature", "--key", join(dir, "team.pub"), "--insecure-ignore-tlog", unsigned.ref]);
  assert.equal(none.code, 1);
  assert.match(none.err, /^Error: no signatures found for /);
  const tlog = await cli(["verify-signature", "--key", join(dir, "team.pub"), img.ref]);
  assert.equal(tlog.code, 1);
  assert.match(tlog.err, /--insecure-ignore-tlog/);

  // tampered: the payload blob swapped for one claiming another digest, the signature kept
  const tamperedImg = await pushTestImage(client, reg!.host, "team/tampered", "v1", "c");
  await withPassword("pw", async () => assert.equal((await cli(["sign", "--key", join(dir, "team.key"), tamperedImg.ref])).code, 0));
  const tref = parseReference(tamperedImg.ref);
  const orig = parseManifest((await client.getManifest({ ...tref, tag: signatureTag(tamperedImg.digest) })).bytes);
  const forged = simpleSigningPayload(`${reg!.host}/team/tampered`, tamperedImg.digest, { env: "prod" });
  const forgedLayer = { ...signatureLayerDescriptor(forged, orig.layers[0].annotations!["dev.cosignproject.cosign/signature"]) };
  const built = appendSignatureLayers(undefined, [forgedLayer]);
  await client.pushBlob(tref, forged, SIMPLE_SIGNING_MEDIA_TYPE);
  await client.pushBlob(tref, built.config, OCI_CONFIG_MEDIA_TYPE);
  await client.putManifest(tref, built.manifest, OCI_MANIFEST_MEDIA_TYPE, signatureTag(tamperedImg.digest));
  const t = await cli(["verify-signature", "--key", join(dir, "team.pub"), "--insecure-ignore-tlog", tamperedImg.ref]);
  assert.equal(t.code, 1);
  assert.match(t.err, /invalid signature/);

  // verifyArtifact, what pull/test/run call: the verified digest, or a refusal
  const { loadPublicKey } = await import("../../src/sign/keys.ts");
  const policy = { keys: [loadPublicKey(readFileSync(join(dir, "team.pub"), "utf8"))], ignoreTlog: true };
  assert.equal((await verifyArtifact(img.ref, policy)).digest, img.digest);
  await assert.rejects(verifyArtifact(unsigned.ref, policy), SignatureVerificationError);
  await assert.rejects(verifyArtifact(tamperedImg.ref, policy), /invalid signature/);
});

test("keyless signatures (.sig layers with certificate, chain and Rekor bundle) and cosign v3 bundle referrers", { skip: registryMissing(), timeout: 60000 }, async () => {
  const ls = localSigstore();
  writeFileSync(join(dir, "trusted_root.json"), JSON.stringify(ls.trustedRoot));
  const img = await pushTestImage(client, reg!.host, "keyless/app", "v1", "k");
  const ref = parseReference(img.ref);
  const leaf = ls.leaf({ identity: "ci@example.com", issuer: "https://issuer.example.com" });
  const payload = simpleSigningPayload(`${reg!.host}/keyless/app`, img.digest);
  const sig = crypto.sign("sha256", payload, leaf.key);
  const layer = signatureLayerDescriptor(payload, sig.toString("base64"), {
    [ANNOTATION_CERTIFICATE]: leaf.certPem,
    [ANNOTATION_CHAIN]: leaf.chainPem,
    [ANNOTATION_BUNDLE]: ls.rekorBundle(payload, sig, leaf.certPem, Math.floor(Date.now() / 1000)),
  });
  const built = appendSignatureLayers(undefined, [layer]);
  await client.pushBlob(ref, payload, SIMPLE_SIGNING_MEDIA_TYPE);
  await client.pushBlob(ref, built.config, OCI_CONFIG_MEDIA_TYPE);
  await client.putManifest(ref, built.manifest, OCI_MANIFEST_MEDIA_TYPE, signatureTag(img.digest));

  const ok = await cli(["verify-signature", "--certificate-identity", "ci@example.com", "--certificate-oidc-issuer", "https://issuer.example.com", "--trusted-root", join(dir, "trusted_root.json"), img.ref]);
  assert.equal(ok.code, 0, ok.err);
  const out = JSON.parse(ok.out)[0];
  assert.equal(out.optional.Subject, "ci@example.com");
  assert.equal(out.optional.Issuer, "https://issuer.example.com");
  assert.equal(typeof out.optional.Bundle.SignedEntryTimestamp, "string");
  const wrongId = await cli(["verify-signature", "--certificate-identity", "eve@example.com", "--certificate-oidc-issuer", "https://issuer.example.com", "--trusted-root", join(dir, "trusted_root.json"), img.ref]);
  assert.equal(wrongId.code, 1);
  assert.match(wrongId.err, /expected identity not found in certificate/);
  const regexp = await cli(["verify-signature", "--certificate-identity-regexp", "@example\\.com$", "--certificate-oidc-issuer-regexp", "issuer", "--trusted-root", join(dir, "trusted_root.json"), img.ref]);
  assert.equal(regexp.code, 0, regexp.err);
  const noRoot = await cli(["verify-signature", "--certificate-identity", "ci@example.com", "--certificate-oidc-issuer", "https://issuer.example.com", img.ref]);
  assert.equal(noRoot.code, 1);
  assert.match(noRoot.err, /trusted root/);

  // a cosign v3 bundle referrer (DSSE in-toto statement), found through the referrers tag schema
  const v3 = await pushTestImage(client, reg!.host, "keyless/v3", "v1", "v3");
  const { privateKey, publicKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  writeFileSync(join(dir, "v3.pub"), publicKey.export({ format: "pem", type: "spki" }) as string);
  const statement = Buffer.from(JSON.stringify({ _type: "https://in-toto.io/Statement/v1", subject: [{ digest: { sha256: v3.digest.slice(7) } }], predicateType: "https://sigstore.dev/cosign/sign/v1" }));
  const ptype = "application/vnd.in-toto+json";
  const pae = Buffer.concat([Buffer.from(`DSSEv1 ${ptype.length} ${ptype} ${statement.length} `), statement]);
  const bundle = Buffer.from(
    JSON.stringify({
      mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
      verificationMaterial: { publicKey: { hint: "" }, tlogEntries: [], timestampVerificationData: { rfc3161Timestamps: [] } },
      dsseEnvelope: { payload: statement.toString("base64"), payloadType: ptype, signatures: [{ sig: crypto.sign("sha256", pae, privateKey).toString("base64"), keyid: "" }] },
    }),
  );
  const v3ref = parseReference(v3.ref);
  const subject = await client.resolve(v3ref);
  const rm = bundleReferrerManifest(subject, bundle, "dsse-envelope", "https://sigstore.dev/cosign/sign/v1", new Date());
  await client.pushBlob(v3ref, bundle, rm.layer.mediaType);
  await client.pushBlob(v3ref, Buffer.from("{}"), "application/vnd.oci.empty.v1+json");
  await client.pushReferrer(v3ref, rm.manifest, OCI_MANIFEST_MEDIA_TYPE);
  const v3ok = await cli(["verify-signature", "--key", join(dir, "v3.pub"), "--insecure-ignore-tlog", v3.ref]);
  assert.equal(v3ok.code, 0, v3ok.err);
  assert.deepEqual(JSON.parse(v3ok.out)[0], { critical: { identity: { "docker-reference": v3.ref }, image: { "docker-manifest-digest": v3.digest }, type: "https://sigstore.dev/cosign/sign/v1" }, optional: null });
  const v3bad = await cli(["verify-signature", "--key", join(dir, "team.pub"), "--insecure-ignore-tlog", v3.ref]);
  assert.equal(v3bad.code, 1);
  assert.equal(sha256Digest(bundle), rm.layer.digest);
});
