import { test } from "node:test";
import assert from "node:assert/strict";
import { parseManifests, ManifestError } from "../../src/gatekeeper/yaml.ts";

test("YAML 1.1 scalars as Kubernetes reads them", () => {
  const [o] = parseManifests("a: yes\nb: off\nc: 010\nd: 0x1F\ne: 1_000\nf: 2024-01-01\ng: '1'\nh: ~\ni: 1e3\nj: y\nk: 12:30\n");
  assert.deepEqual(o, { a: true, b: false, c: 8, d: 31, e: 1000, f: "2024-01-01", g: "1", h: null, i: 1000, j: true, k: "12:30" });
});

test("multi-document streams skip empty documents and flatten Lists", () => {
  const objs = parseManifests("---\nkind: A\n---\n---\nkind: List\napiVersion: v1\nitems:\n- kind: B\n- kind: C\n");
  assert.deepEqual(objs.map((o) => o.kind), ["A", "B", "C"]);
  assert.equal(parseManifests("kind: List\nitems: [{kind: B}]", "x", { flattenLists: false })[0].kind, "List");
});

test("errors name the file", () => {
  assert.throws(() => parseManifests("a: [", "bad.yaml"), (e: unknown) => e instanceof ManifestError && /bad\.yaml/.test(e.message));
  assert.throws(() => parseManifests("- 1\n- 2\n", "list.yaml"), /list\.yaml: document 1 is not an object/);
});
