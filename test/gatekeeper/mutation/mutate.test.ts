// Gatekeeper mutation: `portcullis mutate` and the mutation package against answers recorded from
// Gatekeeper v3.23.1's own pkg/mutation (a Go program that ingests the same files with
// MutatorForAssign/…/System.Upsert and runs System.Mutate on every other object, decoded as the
// webhook decodes a request's object). The gatekeeper-library mutation samples run when a copy
// of the library's `mutation/` folder is present (PORTCULLIS_GK_MUTATION_SAMPLES, or
// ../shared/gatekeeper-library/mutation); their recorded outputs are in fixtures/library/.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "../../cli/helpers.ts";
import { parsePath, pathString, mutateImage, MutationSystem, toGoYaml } from "../../../src/gatekeeper/mutation/index.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const fx = (f: string) => path.join(here, "fixtures", f);
const read = (f: string) => fs.readFileSync(fx(f), "utf8");
const noUuid = (s: string) => s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "UUID");

test("mutate: paths, keyed lists, globs, quoted keys, integer keys, fromMetadata, AssignMetadata, ModifySet, AssignImage as Gatekeeper", async () => {
  const r = await cli(["mutate", "-f", fx("paths.yaml")]);
  assert.equal(r.err, "");
  assert.equal(r.code, 0);
  assert.equal(r.out, read("paths.expected.yaml"));
});

test("mutate: invalid mutators are refused with Gatekeeper's texts, exit 1", async () => {
  const r = await cli(["mutate", "-f", fx("invalid.yaml")]);
  assert.equal(r.code, 1);
  const got = r.err
    .trimEnd()
    .split("\n")
    .map((l) => l.replace(/^invalid mutator [A-Za-z]+ /, ""));
  assert.deepEqual(got, read("invalid.expected.txt").trimEnd().split("\n"));
  assert.equal(got.length, 41);
});

for (const name of ["runtime-mismatch", "runtime-errors"]) {
  test(`mutate: ${name}: an object that cannot be mutated is reported as Gatekeeper reports it and not printed`, async () => {
    const r = await cli(["mutate", "-f", fx(`${name}.yaml`)]);
    assert.equal(r.code, 1);
    const got = noUuid(r.err)
      .trimEnd()
      .split("\n")
      .map((l) => l.replace(/^[A-Za-z]+ [^:]*: /, ""));
    assert.deepEqual(got, read(`${name}.expected.txt`).trimEnd().split("\n"));
    assert.equal(r.out, "");
  });
}

test("mutate: mutators with conflicting schemas are all left out, the others applied", async () => {
  const r = await cli(["mutate", "-f", fx("conflicts.yaml")]);
  assert.equal(r.code, 1);
  const lines = noUuid(r.err).trimEnd().split("\n");
  // The union of the conflicts Gatekeeper's System.Upsert reported for this file.
  assert.equal(
    lines[0],
    "the following mutators have conflicting schemas: [Assign.mutations.gatekeeper.sh /as-list,Assign.mutations.gatekeeper.sh /as-object,Assign.mutations.gatekeeper.sh /deeper,Assign.mutations.gatekeeper.sh /keyed-by-image,Assign.mutations.gatekeeper.sh /keyed-by-name,AssignImage.mutations.gatekeeper.sh /img] (none of them is applied)",
  );
  // An Unknown (Assign) and a Set (ModifySet) terminal do not conflict: the Assign's string then fails the ModifySet.
  assert.equal(lines[1], "Pod default/p: mutation UUID for mutator ModifySet.mutations.gatekeeper.sh /as-set failed for  Pod default p: b is not a list of values, cannot treat it as a set");
});

test("mutate: bad flags and input are clear errors", async () => {
  let r = await cli(["mutate"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no input: give -f FILE/);
  r = await cli(["mutate", "-f", fx("paths.yaml"), "--operation", "DELETE"]);
  assert.equal(r.code, 2);
  assert.match(r.err, /--operation must be CREATE or UPDATE/);
  r = await cli(["mutate", "-f", fx("nonexistent.yaml")]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^Error: reading: .*no such file or directory/);
});

test("mutate: operations: an UPDATE-only mutator applies only with --operation UPDATE", async () => {
  const plain = await cli(["mutate", "-f", fx("paths.yaml")]);
  assert.doesNotMatch(plain.out, /priority: 5/);
  const upd = await cli(["mutate", "-f", fx("paths.yaml"), "--operation", "UPDATE"]);
  assert.equal(upd.code, 0);
  assert.match(upd.out, /priority: 5/);
  const json = await cli(["mutate", "-f", fx("paths.yaml"), "-o", "json"]);
  const docs = json.out.split("\n---\n").map((d) => JSON.parse(d));
  assert.equal(docs.length, 6);
  assert.equal(docs[1].spec.containers[0].imagePullPolicy, "Always");
});

test("ModifySet without operation defaults to merge (the CRD's default)", () => {
  const sys = MutationSystem.build([
    { apiVersion: "mutations.gatekeeper.sh/v1", kind: "ModifySet", metadata: { name: "m" }, spec: { applyTo: [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }], location: "spec.containers[name: *].args", parameters: { values: { fromList: ["b", "a"] } } } },
  ]);
  const object = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "x" }, spec: { containers: [{ name: "c", args: ["a"] }] } };
  const r = sys.mutate({ object, namespace: null, source: "Original", operation: "CREATE" });
  assert.equal(r.mutated, true);
  assert.deepEqual(object.spec.containers[0].args, ["a", "b"]);
});

test("ModifySet merge into a missing list sets the list of all values; prune leaves it missing (Gatekeeper's setter)", () => {
  const ms = (name: string, operation: string) => ({
    apiVersion: "mutations.gatekeeper.sh/v1",
    kind: "ModifySet",
    metadata: { name },
    spec: { applyTo: [{ groups: [""], kinds: ["Pod"], versions: ["v1"] }], location: `spec.containers[name: *].${name}`, parameters: { operation, values: { fromList: ["a", "a"] } } },
  });
  const sys = MutationSystem.build([ms("args", "merge"), ms("command", "prune")]);
  const object = { apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "x" }, spec: { containers: [{ name: "c" }] } };
  sys.mutate({ object, namespace: null, source: "Original", operation: "" });
  assert.deepEqual(object.spec.containers[0], { name: "c", args: ["a", "a"] });
});

test("location grammar round trips as Gatekeeper prints paths", () => {
  assert.equal(pathString(parsePath("spec.containers[name:*].image")), "spec.containers[name: *].image");
  assert.equal(pathString(parsePath(`metadata.annotations."a.b/c"`)), `metadata.annotations."a.b/c"`);
  assert.equal(pathString(parsePath(`spec.ports[ containerPort : 80 ].name`)), "spec.ports[containerPort: 80].name");
  assert.equal(pathString(parsePath(`spec.x['it\\'s']`.replace("['it\\'s']", `.'it\\'s'`))), `spec.x."it's"`);
  assert.deepEqual(parsePath("a[k: 007]")[1], { type: "List", keyField: "k", keyValue: 7, glob: false });
  assert.throws(() => parsePath("a[k: 99999999999999999999]"), /invalid integer: overflow in integer string/);
});

test("AssignImage splits references as Gatekeeper", () => {
  assert.equal(mutateImage("m.io", "", "", "nginx"), "m.io/nginx");
  assert.equal(mutateImage("m.io", "", "", "docker.io/library/nginx:1"), "m.io/library/nginx:1");
  assert.equal(mutateImage("", "", ":v2", "localhost:5000/a/b@sha256:00"), "localhost:5000/a/b:v2");
  assert.equal(mutateImage("", "x/y", "", "registry:5000/a:1"), "registry:5000/x/y:1");
  assert.equal(mutateImage("", "", ":1", ""), ":1");
});

test("go-yaml v2 key order and scalars", () => {
  assert.equal(toGoYaml({ b10: 1, b9: 2, B: 3, "-": 4, a: [[1, 2], []], s: "a: b", n: "null", e: {} }), `'-': 4\nB: 3\na:\n- - 1\n  - 2\n- []\nb9: 2\nb10: 1\ne: {}\n"n": "null"\ns: 'a: b'\n`);
});

const samplesDir = [process.env.PORTCULLIS_GK_MUTATION_SAMPLES, path.join(here, "../../../../shared/gatekeeper-library/mutation"), "/work/shared/gatekeeper-library/mutation"].find(
  (d) => d && fs.existsSync(path.join(d, "pod-security-policy")),
);

test("gatekeeper-library mutation samples: output equals Gatekeeper's", { skip: samplesDir ? false : "no copy of gatekeeper-library's mutation/ folder (set PORTCULLIS_GK_MUTATION_SAMPLES)" }, async () => {
  const expected = fs.readdirSync(fx("library")).filter((f) => f.endsWith(".expected.yaml"));
  assert.equal(expected.length, 6);
  for (const f of expected) {
    const name = f.replace(/\.expected\.yaml$/, "");
    const r = await cli(["mutate", "-f", path.join(samplesDir!, "pod-security-policy", name, "samples")]);
    assert.equal(r.err, "", name);
    assert.equal(r.out, read(path.join("library", f)), name);
  }
});
