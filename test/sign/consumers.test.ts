// The consumers of policy artifacts verify before they write: `pull` and `test --update oci://…`
// with --verify-key (or keyless flags) refuse unsigned, wrongly signed and re-pushed (tampered)
// artifacts and write nothing; a signed artifact is pulled and tested.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRegistry, registryMissing, type TestRegistry } from "../support/registry.ts";
import { localSigstore } from "../support/sigstore-fixtures.ts";
import { cli } from "../cli/helpers.ts";

let reg: TestRegistry | undefined;
const dir = mkdtempSync(join(tmpdir(), "pc-consumers-"));

before(async () => {
  if (registryMissing()) return;
  reg = await startRegistry();
});
after(async () => {
  await reg?.stop();
});

async function withPassword<T>(f: () => Promise<T>): Promise<T> {
  const prev = process.env.COSIGN_PASSWORD;
  process.env.COSIGN_PASSWORD = "";
  try {
    return await f();
  } finally {
    if (prev === undefined) delete process.env.COSIGN_PASSWORD;
    else process.env.COSIGN_PASSWORD = prev;
  }
}

function policyDir(name: string, rule: string): string {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  writeFileSync(join(p, "deny.rego"), `package main\n\ndeny contains msg if {\n  ${rule}\n  msg := "denied by ${name}"\n}\n`);
  return p;
}

test("pull and test --update refuse unsigned, wrongly signed and re-pushed artifacts before writing, and take signed ones", { skip: registryMissing(), timeout: 60000 }, async () => {
  await withPassword(async () => {
    assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(dir, "sec")])).code, 0);
    assert.equal((await cli(["generate-key-pair", "--output-key-prefix", join(dir, "eve")])).code, 0);
  });
  const ref = `${reg!.host}/org/policy-conftest:1.0.0`;
  const push = await cli(["push", ref, policyDir("v1", "input.kind == \"Pod\"")]);
  assert.equal(push.code, 0, push.err);

  // unsigned: refused, nothing written
  const out1 = join(dir, "out1");
  const unsigned = await cli(["pull", "--verify-key", join(dir, "sec.pub"), "--insecure-ignore-tlog", "-p", out1, "--absolute-paths", ref]);
  assert.equal(unsigned.code, 1);
  assert.match(unsigned.err, /^Error: .*refused: no signatures found for /);
  assert.ok(!existsSync(out1), "nothing written");

  // signed by another key: refused
  await withPassword(async () => assert.equal((await cli(["sign", "--key", join(dir, "eve.key"), ref])).code, 0));
  const wrong = await cli(["pull", "--verify-key", join(dir, "sec.pub"), "--insecure-ignore-tlog", "-p", out1, "--absolute-paths", ref]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.err, /refused: no valid signature .*invalid signature/);
  assert.ok(!existsSync(out1));

  // signed by the team's key: pulled
  await withPassword(async () => assert.equal((await cli(["sign", "--key", join(dir, "sec.key"), ref])).code, 0));
  const ok = await cli(["pull", "--verify-key", join(dir, "sec.pub"), "--insecure-ignore-tlog", "-p", out1, "--absolute-paths", ref]);
  assert.equal(ok.code, 0, ok.err);
  assert.ok(readdirSync(out1, { recursive: true }).some((f) => String(f).endsWith("deny.rego")));
  // the key flag needs the log flag or a trusted root, as cosign does
  const noLog = await cli(["pull", "--verify-key", join(dir, "sec.pub"), "-p", join(dir, "out-nolog"), "--absolute-paths", ref]);
  assert.equal(noLog.code, 1);
  assert.match(noLog.err, /--insecure-ignore-tlog/);

  // test --update: the signed artifact is fetched and evaluated
  const input = join(dir, "pod.json");
  writeFileSync(input, JSON.stringify({ kind: "Pod" }));
  const t = await cli(["test", "--update", `oci://${ref}`, "-p", join(dir, "upd"), "--verify-key", join(dir, "sec.pub"), "--insecure-ignore-tlog", "--no-color", input]);
  assert.equal(t.code, 1, t.err);
  assert.match(t.out, /denied by v1/);

  // the tag re-pushed with other content (a new, unsigned digest): refused by both consumers
  assert.equal((await cli(["push", ref, policyDir("evil", "false")])).code, 0);
  const out2 = join(dir, "out2");
  const tampered = await cli(["pull", "--verify-key", join(dir, "sec.pub"), "--insecure-ignore-tlog", "-p", out2, "--absolute-paths", ref]);
  assert.equal(tampered.code, 1);
  assert.match(tampered.err, /refused: no signatures found/);
  assert.ok(!existsSync(out2));
  const upd2 = join(dir, "upd2");
  const t2 = await cli(["test", "--update", `oci://${ref}`, "-p", upd2, "--verify-key", join(dir, "sec.pub"), "--insecure-ignore-tlog", input]);
  assert.equal(t2.code, 1);
  assert.match(t2.err, /^Error: running test: .*pulling policy: .*refused: no signatures found/);
  assert.ok(!existsSync(upd2), "nothing written");
});

test("keyless verification on pull: the identity must match", { skip: registryMissing(), timeout: 60000 }, async () => {
  const ref = `${reg!.host}/org/keyless-policy:1`;
  assert.equal((await cli(["push", ref, policyDir("kl", "true")])).code, 0);
  // sign the artifact's digest as a keyless signer would (local CA and log)
  const { RegistryClient } = await import("../../src/oci/client.ts");
  const { parseReference } = await import("../../src/oci/reference.ts");
  const { simpleSigningPayload } = await import("../../src/sign/payload.ts");
  const layout = await import("../../src/sign/layout.ts");
  const ls = localSigstore();
  writeFileSync(join(dir, "root.json"), JSON.stringify(ls.trustedRoot));
  const client = new RegistryClient();
  try {
    const r = parseReference(ref);
    const d = await client.resolve(r);
    const leaf = ls.leaf({ identity: "release@example.com", issuer: "https://accounts.example.com" });
    const payload = simpleSigningPayload(`${reg!.host}/org/keyless-policy`, d.digest);
    const sig = crypto.sign("sha256", payload, leaf.key);
    const built = layout.appendSignatureLayers(undefined, [
      layout.signatureLayerDescriptor(payload, sig.toString("base64"), {
        [layout.ANNOTATION_CERTIFICATE]: leaf.certPem,
        [layout.ANNOTATION_CHAIN]: leaf.chainPem,
        [layout.ANNOTATION_BUNDLE]: ls.rekorBundle(payload, sig, leaf.certPem, Math.floor(Date.now() / 1000)),
      }),
    ]);
    await client.pushBlob(r, payload, layout.SIMPLE_SIGNING_MEDIA_TYPE);
    await client.pushBlob(r, built.config, layout.OCI_CONFIG_MEDIA_TYPE);
    await client.putManifest(r, built.manifest, layout.OCI_MANIFEST_MEDIA_TYPE, layout.signatureTag(d.digest));
  } finally {
    await client.close();
  }
  const flags = (id: string) => ["--certificate-identity", id, "--certificate-oidc-issuer", "https://accounts.example.com", "--trusted-root", join(dir, "root.json")];
  const out = join(dir, "kl-out");
  const bad = await cli(["pull", ...flags("eve@example.com"), "-p", out, "--absolute-paths", ref]);
  assert.equal(bad.code, 1);
  assert.match(bad.err, /expected identity not found in certificate/);
  assert.ok(!existsSync(out));
  const good = await cli(["pull", ...flags("release@example.com"), "-p", out, "--absolute-paths", ref]);
  assert.equal(good.code, 0, good.err);
  assert.ok(existsSync(out));
});
