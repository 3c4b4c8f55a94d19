// cosign's key files: generate, read back, refuse wrong passwords and tampered parameters; the
// CLI's generate-key-pair / sign-blob / verify-blob.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodePem, generateKeyPair, loadPrivateKey, loadPublicKey, signBytes, verifyBytes, encodePem, SIGSTORE_PRIVATE_KEY_PEM } from "../../src/sign/keys.ts";
import { cli } from "../cli/helpers.ts";

test("a generated key pair has cosign's shape and reads back with its password only", async () => {
  const files = await generateKeyPair("s3cret");
  const block = decodePem(files.privatePem)!;
  assert.equal(block.type, SIGSTORE_PRIVATE_KEY_PEM);
  const doc = JSON.parse(block.bytes.toString());
  assert.deepEqual(Object.keys(doc), ["kdf", "cipher", "ciphertext"]);
  assert.deepEqual(doc.kdf.params, { N: 65536, r: 8, p: 1 });
  assert.equal(doc.kdf.name, "scrypt");
  assert.equal(doc.cipher.name, "nacl/secretbox");
  assert.equal(Buffer.from(doc.kdf.salt, "base64").length, 32);
  assert.equal(Buffer.from(doc.cipher.nonce, "base64").length, 24);
  assert.match(files.publicPem, /^-----BEGIN PUBLIC KEY-----\n/);

  const priv = await loadPrivateKey(files.privatePem, "s3cret");
  const pub = loadPublicKey(files.publicPem);
  const sig = signBytes(priv, Buffer.from("hello"));
  assert.ok(verifyBytes(pub, Buffer.from("hello"), sig));
  assert.ok(!verifyBytes(pub, Buffer.from("hellO"), sig));
  await assert.rejects(loadPrivateKey(files.privatePem, "wrong"), /decryption failed/);

  // a tampered work factor is refused before any key derivation
  const tampered = encodePem(SIGSTORE_PRIVATE_KEY_PEM, Buffer.from(JSON.stringify({ ...doc, kdf: { ...doc.kdf, params: { N: 1 << 24, r: 8, p: 1 } } })));
  await assert.rejects(loadPrivateKey(tampered, "s3cret"), /unsupported scrypt parameters/);
  await assert.rejects(loadPrivateKey("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", ""), /unsupported pem type: FOO/);
  await assert.rejects(loadPrivateKey("not pem", ""), /invalid pem block/);
});

test("plain PEM private keys (PKCS#8, SEC1) are read; Ed25519 and small RSA keys are refused", async () => {
  const { privateKey } = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" });
  const p8 = privateKey.export({ format: "pem", type: "pkcs8" }) as string;
  const sec1 = privateKey.export({ format: "pem", type: "sec1" }) as string;
  assert.equal((await loadPrivateKey(p8, undefined)).asymmetricKeyType, "ec");
  assert.equal((await loadPrivateKey(sec1, undefined)).asymmetricKeyType, "ec");
  const ed = crypto.generateKeyPairSync("ed25519").privateKey.export({ format: "pem", type: "pkcs8" }) as string;
  await assert.rejects(loadPrivateKey(ed, undefined), /unsupported key type ed25519/);
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ format: "pem", type: "pkcs8" }) as string;
  await assert.rejects(loadPrivateKey(rsa, undefined), /too small/);
});

test("portcullis generate-key-pair, sign-blob and verify-blob", async () => {
  const dir = mkdtempSync(join(tmpdir(), "pc-keys-"));
  const prefix = join(dir, "team");
  const prev = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = "";
  try {
    const g = await cli(["generate-key-pair", "--output-key-prefix", prefix]);
    assert.equal(g.code, 0, g.err);
    assert.equal(g.err, `Private key written to ${prefix}.key\nPublic key written to ${prefix}.pub\n`);
    assert.equal(statSync(`${prefix}.key`).mode & 0o777, 0o600);
    const again = await cli(["generate-key-pair", "--output-key-prefix", prefix]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already exists/);

    const blob = join(dir, "blob.txt");
    writeFileSync(blob, "policy bundle bytes\n");
    const s = await cli(["sign-blob", "--key", `${prefix}.key`, blob]);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /^[A-Za-z0-9+/]+=*\n$/);
    writeFileSync(join(dir, "blob.sig"), s.out);
    const v = await cli(["verify-blob", "--key", `${prefix}.pub`, "--signature", join(dir, "blob.sig"), blob]);
    assert.equal(v.code, 0, v.err);
    assert.equal(v.err, "Verified OK\n");
    writeFileSync(blob, "policy bundle bytes, changed\n");
    const bad = await cli(["verify-blob", "--key", `${prefix}.pub`, "--signature", join(dir, "blob.sig"), blob]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /invalid signature/);
    process.env.COSIGN_PASSWORD = "other";
    const wrong = await cli(["sign-blob", "--key", `${prefix}.key`, blob]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.err, /^Error: signing .*decryption failed/);
  } finally {
    if (prev === undefined) delete process.env.COSIGN_PASSWORD;
    else process.env.COSIGN_PASSWORD = prev;
  }
});
