// Interop with the real cosign (~/go/bin/cosign, v2.6.1) on a loopback registry, both ways:
// keys made by each are used by the other; Portcullis signs → `cosign verify` accepts and prints
// what `portcullis verify-signature` prints; cosign signs → Portcullis verifies; tampered
// payloads, wrong keys and wrong keyless identities are refused by both. Skips without cosign or
// docker-registry (the recorded answers in cosign-recorded.test.ts run without them).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RegistryClient } from "../../src/oci/client.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { simpleSigningPayload } from "../../src/sign/payload.ts";
import { ANNOTATION_BUNDLE, ANNOTATION_CERTIFICATE, ANNOTATION_CHAIN, ANNOTATION_SIGNATURE, appendSignatureLayers, parseManifest, signatureLayerDescriptor, signatureTag, SIMPLE_SIGNING_MEDIA_TYPE, OCI_CONFIG_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE } from "../../src/sign/layout.ts";
import { startRegistry, registryMissing, goTool, type TestRegistry } from "../support/registry.ts";
import { localSigstore } from "../support/sigstore-fixtures.ts";
import { pushFixedImage } from "./fixed-image.ts";
import { cli } from "../cli/helpers.ts";

const COSIGN = goTool("cosign");
const skip = !COSIGN ? "cosign is not installed (go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.1)" : registryMissing();
const dir = mkdtempSync(join(tmpdir(), "pc-cosign-"));
const env = { ...process.env, COSIGN_PASSWORD: "pw", TUF_ROOT: join(dir, "tuf"), HOME: dir };

function cosign(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(COSIGN!, args, { cwd: dir, env, encoding: "utf8", timeout: 60000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

let reg: TestRegistry | undefined;
let client: RegistryClient;
before(async () => {
  if (skip) return;
  reg = await startRegistry();
  client = new RegistryClient();
});
after(async () => {
  await client?.close();
  await reg?.stop();
});

async function withPassword<T>(f: () => Promise<T>): Promise<T> {
  const prev = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = "pw";
  try {
    return await f();
  } finally {
    if (prev === undefined) delete process.env.COSIGN_PASSWORD;
    else process.env.COSIGN_PASSWORD = prev;
  }
}

test("key files and blob signatures, both ways", { skip, timeout: 60000 }, async () => {
  assert.equal(cosign(["generate-key-pair", "--output-key-prefix", "cos"]).code, 0);
  await withPassword(async () => assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(dir, "pc")])).code, 0));
  writeFileSync(join(dir, "blob"), "bytes to sign\n");
  // cosign signs with Portcullis's key; Portcullis verifies it, and the other way round
  assert.equal(cosign(["sign-blob", "--key", "pc.key", "--tlog-upload=false", "-y", "--output-signature", "cos-by-pc.sig", "blob"]).code, 0);
  assert.equal((await cli(["verify-blob", "--key", join(dir, "pc.pub"), "--signature", join(dir, "cos-by-pc.sig"), join(dir, "blob")])).code, 0);
  const s = await withPassword(() => cli(["sign-blob", "--key", join(dir, "cos.key"), "--output-signature", join(dir, "pc-by-cos.sig"), join(dir, "blob")]));
  assert.equal(s.code, 0, s.err);
  const v = cosign(["verify-blob", "--key", "cos.pub", "--signature", "pc-by-cos.sig", "--insecure-ignore-tlog", "blob"]);
  assert.equal(v.code, 0, v.err);
  assert.match(v.err, /Verified OK/);
  // refused by both with the wrong key
  assert.notEqual(cosign(["verify-blob", "--key", "pc.pub", "--signature", "pc-by-cos.sig", "--insecure-ignore-tlog", "blob"]).code, 0);
  assert.equal((await cli(["verify-blob", "--key", join(dir, "pc.pub"), "--signature", join(dir, "pc-by-cos.sig"), join(dir, "blob")])).code, 1);
});

test("images: Portcullis signs → cosign verify accepts (same output); cosign signs → Portcullis verifies; tampered and wrong keys refused by both", { skip, timeout: 90000 }, async () => {
  const pcImg = await pushFixedImage(client, reg!.host, "interop/pc");
  const s = await withPassword(() => cli(["sign", "--key", join(dir, "pc.key"), "-a", "team=sec", pcImg.ref]));
  assert.equal(s.code, 0, s.err);
  const cv = cosign(["verify", "--key", "pc.pub", "--insecure-ignore-tlog", "-a", "team=sec", pcImg.ref]);
  assert.equal(cv.code, 0, cv.err);
  const pv = await cli(["verify-signature", "--key", join(dir, "pc.pub"), "--insecure-ignore-tlog", "-a", "team=sec", pcImg.ref]);
  assert.equal(pv.code, 0, pv.err);
  assert.equal(pv.out, cv.out);
  assert.notEqual(cosign(["verify", "--key", "cos.pub", "--insecure-ignore-tlog", pcImg.ref]).code, 0);
  assert.notEqual(cosign(["verify", "--key", "pc.pub", "--insecure-ignore-tlog", "-a", "team=ops", pcImg.ref]).code, 0);
  assert.equal((await cli(["verify-signature", "--key", join(dir, "pc.pub"), "--insecure-ignore-tlog", "-a", "team=ops", pcImg.ref])).code, 1);

  const cosImg = await pushFixedImage(client, reg!.host, "interop/cos");
  assert.equal(cosign(["sign", "--key", "cos.key", "--tlog-upload=false", "-y", `${cosImg.ref.replace(/:v1$/, "")}@${cosImg.digest}`]).code, 0);
  const pv2 = await cli(["verify-signature", "--key", join(dir, "cos.pub"), "--insecure-ignore-tlog", cosImg.ref]);
  assert.equal(pv2.code, 0, pv2.err);
  assert.equal(pv2.out, cosign(["verify", "--key", "cos.pub", "--insecure-ignore-tlog", cosImg.ref]).out);
  assert.equal((await cli(["verify-signature", "--key", join(dir, "pc.pub"), "--insecure-ignore-tlog", cosImg.ref])).code, 1);

  // the new bundle format, both ways (cosign wants a trusted root there, even an empty one)
  writeFileSync(join(dir, "empty_root.json"), JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1", tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));
  const nb = await pushFixedImage(client, reg!.host, "interop/pc-bundle");
  const sb = await withPassword(() => cli(["sign", "--new-bundle-format", "--key", join(dir, "pc.key"), nb.ref]));
  assert.equal(sb.code, 0, sb.err);
  const cvb = cosign(["verify", "--new-bundle-format", "--trusted-root", "empty_root.json", "--key", "pc.pub", "--insecure-ignore-tlog", nb.ref]);
  assert.equal(cvb.code, 0, cvb.err);
  const pvb = await cli(["verify-signature", "--key", join(dir, "pc.pub"), "--insecure-ignore-tlog", nb.ref]);
  assert.equal(pvb.code, 0, pvb.err);
  assert.equal(pvb.out, cvb.out);
  assert.notEqual(cosign(["verify", "--new-bundle-format", "--trusted-root", "empty_root.json", "--key", "cos.pub", "--insecure-ignore-tlog", nb.ref]).code, 0);
  const cb = await pushFixedImage(client, reg!.host, "interop/cos-bundle");
  assert.equal(cosign(["sign", "--new-bundle-format", "--key", "cos.key", "--tlog-upload=false", "-y", `${cb.ref.replace(/:v1$/, "")}@${cb.digest}`]).code, 0);
  const pcb = await cli(["verify-signature", "--key", join(dir, "cos.pub"), "--insecure-ignore-tlog", cb.ref]);
  assert.equal(pcb.code, 0, pcb.err);
  assert.equal(pcb.out, cosign(["verify", "--new-bundle-format", "--trusted-root", "empty_root.json", "--key", "cos.pub", "--insecure-ignore-tlog", cb.ref]).out);

  // tamper with cosign's .sig: a payload claiming an annotation, under the original signature
  const r = parseReference(cosImg.ref);
  const m = parseManifest((await client.getManifest({ ...r, tag: signatureTag(cosImg.digest) })).bytes);
  const forged = simpleSigningPayload(`${reg!.host}/interop/cos`, cosImg.digest, { approved: "true" });
  const built = appendSignatureLayers(undefined, [signatureLayerDescriptor(forged, m.layers[0].annotations![ANNOTATION_SIGNATURE])]);
  await client.pushBlob(r, forged, SIMPLE_SIGNING_MEDIA_TYPE);
  await client.pushBlob(r, built.config, OCI_CONFIG_MEDIA_TYPE);
  await client.putManifest(r, built.manifest, OCI_MANIFEST_MEDIA_TYPE, signatureTag(cosImg.digest));
  assert.notEqual(cosign(["verify", "--key", "cos.pub", "--insecure-ignore-tlog", cosImg.ref]).code, 0);
  const pt = await cli(["verify-signature", "--key", join(dir, "cos.pub"), "--insecure-ignore-tlog", cosImg.ref]);
  assert.equal(pt.code, 1);
  assert.match(pt.err, /invalid signature/);
});

test("keyless: a local CA/CT/Rekor trusted root; the same identity accepted and refused by both", { skip, timeout: 90000 }, async () => {
  const ls = localSigstore();
  writeFileSync(join(dir, "trusted_root.json"), JSON.stringify(ls.trustedRoot));
  const img = await pushFixedImage(client, reg!.host, "interop/keyless");
  const r = parseReference(img.ref);
  const leaf = ls.leaf({ identity: "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main", issuer: "https://token.actions.githubusercontent.com" });
  const payload = simpleSigningPayload(`${reg!.host}/interop/keyless`, img.digest);
  const sig = crypto.sign("sha256", payload, leaf.key);
  const built = appendSignatureLayers(undefined, [
    signatureLayerDescriptor(payload, sig.toString("base64"), {
      [ANNOTATION_CERTIFICATE]: leaf.certPem,
      [ANNOTATION_CHAIN]: leaf.chainPem,
      [ANNOTATION_BUNDLE]: ls.rekorBundle(payload, sig, leaf.certPem, Math.floor(Date.now() / 1000)),
    }),
  ]);
  await client.pushBlob(r, payload, SIMPLE_SIGNING_MEDIA_TYPE);
  await client.pushBlob(r, built.config, OCI_CONFIG_MEDIA_TYPE);
  await client.putManifest(r, built.manifest, OCI_MANIFEST_MEDIA_TYPE, signatureTag(img.digest));
  const flags = (id: string[]) => [...id, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "--trusted-root", join(dir, "trusted_root.json"), img.ref];
  const good = ["--certificate-identity-regexp", "^https://github.com/org/repo/"];
  const cv = cosign(["verify", ...flags(good)]);
  assert.equal(cv.code, 0, cv.err);
  const pv = await cli(["verify-signature", ...flags(good)]);
  assert.equal(pv.code, 0, pv.err);
  assert.equal(pv.out, cv.out);
  const bad = ["--certificate-identity", "https://github.com/org/other/.github/workflows/release.yml@refs/heads/main"];
  const cb = cosign(["verify", ...flags(bad)]);
  assert.notEqual(cb.code, 0);
  assert.match(cb.err, /none of the expected identities matched/);
  const pb = await cli(["verify-signature", ...flags(bad)]);
  assert.equal(pb.code, 1);
  assert.match(pb.err, /expected identity not found in certificate/);
  // a trusted root from another CA: refused by both
  writeFileSync(join(dir, "other_root.json"), JSON.stringify(localSigstore().trustedRoot));
  const otherFlags = [...good, "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com", "--trusted-root", join(dir, "other_root.json"), img.ref];
  assert.notEqual(cosign(["verify", ...otherFlags]).code, 0);
  assert.equal((await cli(["verify-signature", ...otherFlags])).code, 1);
});
