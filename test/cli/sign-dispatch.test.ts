// `portcullis sign` is opa sign (--signing-key, bundles) and cosign sign (--key, one registry
// reference) in one command: the flag sets may not be mixed, and each error is one line, exit 1.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cli } from "./helpers.ts";

test("sign: --key with opa sign's flags is refused; cosign flags without --key too", async () => {
  let r = await cli(["sign", "--key", "cosign.key", "--signing-key", "k.pem", "localhost:5000/x:1"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^Error: --signing-key cannot be used with --key/);
  r = await cli(["sign", "--new-bundle-format", "-b", "dir"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^Error: --new-bundle-format is a cosign sign flag: give --key/);
  r = await cli(["sign", "--key", "cosign.key", "a:1", "b:1"]);
  assert.equal(r.code, 1);
  assert.equal(r.err, "Error: sign --key takes exactly one image or artifact reference, got 2\n");
});

test("sign: --signing-key signs a bundle directory as opa sign (HS256 secret)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sign-dispatch-"));
  const b = join(dir, "b");
  const out = join(dir, "out");
  (await import("node:fs")).mkdirSync(b);
  (await import("node:fs")).mkdirSync(out);
  writeFileSync(join(b, "p.rego"), "package p\n\nx := 1\n");
  const r = await cli(["sign", "-b", b, "--signing-key", "secret", "--signing-alg", "HS256", "-o", out]);
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(join(out, ".signatures.json")));
});
