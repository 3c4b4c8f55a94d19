// cosign's recorded answers (test/fixtures/sign/cosign, made by scripts/record-cosign.ts with
// cosign v2.6.1): its key files, a blob signature, the `.sig` manifest/config/payload and the
// v3 bundle referrer it pushed for a fixed image, and what `cosign verify` printed. Portcullis
// reads them all, writes the same `.sig` bytes, and prints the same verification output.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { generateKeyPairSync } from "node:crypto";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { loadPrivateKey, loadPublicKey, publicKeyPem, verifyBytes, signBytes } from "../../src/sign/keys.ts";
import { cosignSignStatement } from "../../src/sign/remote.ts";
import { appendSignatureLayers, bundleReferrerManifest, parseManifest, signatureConfig, signatureTag, OCI_MANIFEST_MEDIA_TYPE, SIMPLE_SIGNING_MEDIA_TYPE, OCI_CONFIG_MEDIA_TYPE } from "../../src/sign/layout.ts";
import { verifyCandidates } from "../../src/sign/verify.ts";
import { RegistryClient } from "../../src/oci/client.ts";
import { parseReference } from "../../src/oci/reference.ts";
import { startRegistry, registryMissing, type TestRegistry } from "../support/registry.ts";
import { pushFixedImage } from "./fixed-image.ts";
import { cli } from "../cli/helpers.ts";

const DIR = fileURLToPath(new URL("../fixtures/sign/cosign", import.meta.url));
const read = (f: string) => readFileSync(join(DIR, f));
const text = (f: string) => readFileSync(join(DIR, f), "utf8");

const sigManifest = read("legacy.sig.manifest.json");
const layer = parseManifest(sigManifest).layers[0];
const payload = read("legacy.payload.json");
const DIGEST = JSON.parse(payload.toString()).critical.image["docker-manifest-digest"] as string;

test("cosign's key pair: the private key decrypts with its password and matches the public key; its blob signature verifies", async () => {
  const priv = await loadPrivateKey(text("cosign.key"), "pw");
  assert.equal(publicKeyPem(priv), text("cosign.pub"));
  await assert.rejects(loadPrivateKey(text("cosign.key"), "not-pw"), /decryption failed/);
  const pub = loadPublicKey(text("cosign.pub"));
  const blob = read("blob.txt");
  const sig = Buffer.from(text("blob.sig").trim(), "base64");
  assert.ok(verifyBytes(pub, blob, sig));
  assert.ok(!verifyBytes(pub, Buffer.concat([blob, Buffer.from("x")]), sig));
  assert.ok(verifyBytes(pub, blob, signBytes(priv, blob)));
});

test("the .sig manifest and config Portcullis writes are byte for byte cosign's", () => {
  const built = appendSignatureLayers(undefined, [layer]);
  assert.equal(built.manifest.toString(), sigManifest.toString());
  assert.equal(built.config.toString(), read("legacy.sig.config.json").toString());
  assert.equal(signatureConfig([layer.digest]).toString(), read("legacy.sig.config.json").toString());
});

test("the bundle referrer and in-toto statement Portcullis writes are cosign's", () => {
  const recordedBundle = read("bundle.bundle.json");
  const recorded = parseManifest(read("bundle.referrer.manifest.json"));
  const statement = Buffer.from(JSON.parse(recordedBundle.toString()).dsseEnvelope.payload, "base64");
  assert.equal(cosignSignStatement(DIGEST).toString(), statement.toString());
  const created = new Date(recorded.annotations!["org.opencontainers.image.created"]);
  const built = bundleReferrerManifest(recorded.subject!, recordedBundle, "dsse-envelope", "https://sigstore.dev/cosign/sign/v1", created);
  assert.equal(built.manifest.toString(), read("bundle.referrer.manifest.json").toString());
});

test("cosign's signatures verify (its printed output reproduced); another key is refused", () => {
  const pub = loadPublicKey(text("cosign.pub"));
  const legacy = verifyCandidates([{ kind: "legacy", descriptor: layer, payload }], DIGEST, { keys: [pub], ignoreTlog: true });
  assert.deepEqual(legacy.failures, []);
  assert.equal(JSON.stringify(legacy.verified.map((v) => v.output)), text("legacy.verify.stdout.json").trim());

  const referrer = parseManifest(read("bundle.referrer.manifest.json"));
  assert.equal(referrer.artifactType, "application/vnd.dev.sigstore.bundle.v0.3+json");
  assert.equal(referrer.subject?.digest, DIGEST);
  const recorded = JSON.parse(text("bundle.verify.stdout.json"));
  const refText = recorded[0].critical.identity["docker-reference"];
  const b = verifyCandidates([{ kind: "bundle", descriptor: referrer.layers[0], bundle: read("bundle.bundle.json") }], DIGEST, { keys: [pub], ignoreTlog: true }, refText);
  assert.deepEqual(b.failures, []);
  assert.equal(JSON.stringify(b.verified.map((v) => v.output)), text("bundle.verify.stdout.json").trim());

  const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
  assert.equal(verifyCandidates([{ kind: "legacy", descriptor: layer, payload }], DIGEST, { keys: [other], ignoreTlog: true }).verified.length, 0);
  assert.equal(verifyCandidates([{ kind: "bundle", descriptor: referrer.layers[0], bundle: read("bundle.bundle.json") }], DIGEST, { keys: [other], ignoreTlog: true }).verified.length, 0);
});

let reg: TestRegistry | undefined;
let client: RegistryClient;
before(async () => {
  if (registryMissing()) return;
  reg = await startRegistry();
  client = new RegistryClient();
});
after(async () => {
  await client?.close();
  await reg?.stop();
});

test("cosign's .sig and bundle referrer, pushed back into a registry, verify through the CLI as cosign printed", { skip: registryMissing(), timeout: 60000 }, async () => {
  const legacyImg = await pushFixedImage(client, reg!.host, "fixed/legacy");
  assert.equal(legacyImg.digest, DIGEST, "the fixed image has the recorded digest");
  const r = parseReference(legacyImg.ref);
  await client.pushBlob(r, payload, SIMPLE_SIGNING_MEDIA_TYPE);
  await client.pushBlob(r, read("legacy.sig.config.json"), OCI_CONFIG_MEDIA_TYPE);
  await client.putManifest(r, sigManifest, OCI_MANIFEST_MEDIA_TYPE, signatureTag(DIGEST));
  const v = await cli(["verify-signature", "--key", join(DIR, "cosign.pub"), "--insecure-ignore-tlog", legacyImg.ref]);
  assert.equal(v.code, 0, v.err);
  assert.equal(v.out, `\n${text("legacy.verify.stdout.json").trim()}\n`);

  const bundleImg = await pushFixedImage(client, reg!.host, "fixed/bundle");
  const br = parseReference(bundleImg.ref);
  const referrerBytes = read("bundle.referrer.manifest.json");
  const referrer = parseManifest(referrerBytes);
  await client.pushBlob(br, read("bundle.bundle.json"), referrer.layers[0].mediaType);
  await client.pushBlob(br, Buffer.from("{}"), referrer.config.mediaType);
  await client.pushReferrer(br, referrerBytes, OCI_MANIFEST_MEDIA_TYPE);
  const ref = `${bundleImg.ref.replace(/:v1$/, "")}@${DIGEST}`;
  const vb = await cli(["verify-signature", "--key", join(DIR, "cosign.pub"), "--insecure-ignore-tlog", ref]);
  assert.equal(vb.code, 0, vb.err);
  const recorded = text("bundle.verify.stdout.json").trim().replace(/127\.0\.0\.1:\d+/g, reg!.host);
  assert.equal(vb.out, `\n${recorded}\n`);
});
