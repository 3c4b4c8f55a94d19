// Mutators in expansion, against gator (v3.23.1) expand: the Deployment is mutated as Original
// and its generated Pod as Generated (Assign, AssignMetadata with match.source Generated,
// AssignImage, ModifySet on the generator); a conflict and a mutator that cannot be built fail
// with gator's texts. The answers are recorded; with ~/go/bin/gator present they are also
// compared live.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cli } from "../../cli/helpers.ts";

const fx = (f: string) => join(dirname(fileURLToPath(import.meta.url)), "fixtures", f);
const GATOR = join(homedir(), "go", "bin", "gator");

const extra = {
  conflict: `---
apiVersion: mutations.gatekeeper.sh/v1
kind: Assign
metadata:
  name: clash
spec:
  applyTo:
  - groups: [""]
    kinds: ["Pod"]
    versions: ["v1"]
  location: "spec.containers.imagePullPolicy"
  parameters:
    assign:
      value: Never
`,
  bad: `---
apiVersion: mutations.gatekeeper.sh/v1
kind: Assign
metadata:
  name: bad
spec:
  applyTo:
  - groups: [""]
    kinds: ["Pod"]
    versions: ["v1"]
  location: "metadata.labels.x"
  parameters:
    assign:
      value: Never
`,
};
const recordedErr = {
  conflict: "error expanding resources: error upserting mutator: the following mutators have conflicting schemas: [Assign.mutations.gatekeeper.sh /always-pull,Assign.mutations.gatekeeper.sh /clash,AssignImage.mutations.gatekeeper.sh /mirror]\n",
  bad: "error expanding resources: error parsing resources: assign bad can't change metadata\n",
};

function gator(file: string): { code: number; out: string; err: string } {
  try {
    const out = execFileSync(GATOR, ["expand", "--filename", file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return { code: 0, out, err: "" };
  } catch (e) {
    const x = e as { status: number; stdout: string; stderr: string };
    return { code: x.status, out: x.stdout, err: x.stderr };
  }
}

test("portcullis expand applies the mutators as gator expand does", async () => {
  const r = await cli(["expand", "-n", fx("expand-mutate.yaml")]);
  assert.equal(r.err, "");
  assert.equal(r.code, 0);
  assert.equal(r.out, readFileSync(fx("expand-mutate.gator.yaml"), "utf8"));
});

for (const name of ["conflict", "bad"] as const) {
  test(`portcullis expand: ${name} mutators fail as in gator`, async () => {
    const f = join(mkdtempSync(join(tmpdir(), "portcullis-expmut-")), `${name}.yaml`);
    writeFileSync(f, readFileSync(fx("expand-mutate.yaml"), "utf8") + extra[name]);
    const r = await cli(["expand", "-n", f]);
    assert.equal(r.code, 1);
    assert.equal(r.out, "");
    assert.equal(r.err, recordedErr[name]);
  });
}

test("live: gator expand gives the recorded answers", { skip: existsSync(GATOR) ? false : "gator is not installed (~/go/bin/gator)" }, () => {
  assert.deepEqual(gator(fx("expand-mutate.yaml")), { code: 0, out: readFileSync(fx("expand-mutate.gator.yaml"), "utf8"), err: "" });
  for (const name of ["conflict", "bad"] as const) {
    const f = join(mkdtempSync(join(tmpdir(), "portcullis-expmut-")), `${name}.yaml`);
    writeFileSync(f, readFileSync(fx("expand-mutate.yaml"), "utf8") + extra[name]);
    const g = gator(f);
    assert.equal(g.code, 1);
    assert.equal(g.err, recordedErr[name]);
  }
});
