// conftest's artifact layout against a recorded `conftest push` (fixtures/conftest-push.json):
// the same config and the same layers (media type, digest, size, title) for the same files. Go's
// map order makes conftest's layer order vary from push to push, so layers compare as a set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
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
});

test("layer titles: nested paths are kept, escapes are refused", () => {
  assert.equal(layerPath("/d", "policy/x.rego"), "/d/policy/x.rego");
  for (const bad of ["../x", "a/../../x", "/etc/passwd", "C:/x", "\\x", "", "a\0b", ".", "a/.."]) {
    assert.throws(() => layerPath("/d", bad), /refused|invalid file name/, bad);
  }
});
