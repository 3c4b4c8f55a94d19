// conftest's artifact layout against a recorded `conftest push` (fixtures/conftest-push.json):
// the same config and the same layers (media type, digest, size, title) for the same files. Go's
// map order makes conftest's layer order vary from push to push, so layers compare as a set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { conftestContent, conftestFiles, imageManifest, layerPath } from "../../src/oci/index.ts";

const fixture = JSON.parse(readFileSync(new URL("./fixtures/conftest-push.json", import.meta.url), "utf8"));

test("the layers of a push are conftest's", () => {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-conftest-layout-"));
  for (const [f, text] of Object.entries(fixture.files as Record<string, string>)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const { manifest } = imageManifest(conftestContent(conftestFiles(["policy"], ["policy"], dir)));
  assert.deepEqual(manifest.config, fixture.manifest.config);
  const key = (l: { digest: string }) => l.digest;
  assert.deepEqual([...manifest.layers].sort((a, b) => key(a).localeCompare(key(b))), [...fixture.manifest.layers].sort((a: { digest: string }, b: { digest: string }) => key(a).localeCompare(key(b))));
  // absolute paths and paths outside the working directory get titles that can be pulled
  const abs = conftestFiles([join(dir, "policy")], [], "/");
  assert.deepEqual(abs.policies.map((p) => p.title), ["policy/deny.rego", "policy/lib/k8s.rego"]);
  const up = conftestFiles(["../policy"], [], join(dir, "elsewhere"));
  assert.deepEqual(up.policies.map((p) => p.title), ["policy/deny.rego", "policy/lib/k8s.rego"]);
  rmSync(dir, { recursive: true, force: true });
});

test("layer titles: nested paths are kept, escapes are refused", () => {
  assert.equal(layerPath("/d", "policy/x.rego"), "/d/policy/x.rego");
  for (const bad of ["../x", "a/../../x", "/etc/passwd", "C:/x", "\\x", "", "a\0b", ".", "a/.."]) {
    assert.throws(() => layerPath("/d", bad), /refused|invalid file name/, bad);
  }
});

test("--update sources that are OCI references, as conftest's detector finds them", async () => {
  const { ociSource } = await import("../../src/conftest/update.ts");
  assert.equal(ociSource("oci://ghcr.io/org/p:1"), "ghcr.io/org/p:1");
  assert.equal(ociSource("127.0.0.1:5000/org/p"), "127.0.0.1:5000/org/p");
  assert.equal(ociSource("localhost:5000/p:v1"), "localhost:5000/p:v1");
  assert.equal(ociSource("myreg.azurecr.io/policies"), "myreg.azurecr.io/policies");
  assert.equal(ociSource("quay.io/org/p"), "quay.io/org/p");
  assert.equal(ociSource("123456789012.dkr.ecr.eu-west-1.amazonaws.com/p"), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/p");
  for (const other of ["file::/tmp/x", "file:///tmp/x", "git::https://github.com/o/r", "https://example.com/p.rego", "github.com/o/r", "s3::https://s3.amazonaws.com/b/k", "localhost:5000"]) {
    assert.equal(ociSource(other), undefined, other);
  }
});
