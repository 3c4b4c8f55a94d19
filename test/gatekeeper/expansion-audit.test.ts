// Expansion in the audit (src/gatekeeper/audit/): each listed object's generated resources are
// reviewed (source Generated) and their violations reported against the object, as Gatekeeper's
// audit does (pkg/audit/manager.go). The objects and policy are the recorded gator case
// "test: violations of generated resources …" (test/gatekeeper/recorded/expansion.json): the
// audit must find the violations gator test found (object, constraint, action, message), except
// that the audit's input.review.namespaceObject is the object's Namespace (Gatekeeper's audit
// sends it; gator test sends {}), so that part of the message is compared without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { auditOnce } from "../../src/gatekeeper/audit/oneshot.ts";
import { loadCases, materialize } from "./gator-recorded.ts";

test("audit reports generated resources' violations against their generator, as gator test does", async () => {
  const c = loadCases("expansion.json").find((x) => x.gator.join(" ") === "test -o json -f policy -f objs.yaml");
  assert.ok(c, "the recorded case is present");
  const dir = materialize(c);
  try {
    const r = await auditOnce({ policyPaths: [path.join(dir, "policy")], files: [path.join(dir, "objs.yaml")] });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.summary.errors, []);
    const strip = (m: string) => m.replace(/ \(namespace object [^)]*\)$/, "");
    const ours = r.violations.map((v) => `${v.kind} ${v.namespace ?? ""}/${v.name} [${v.constraint.name}] ${v.enforcementAction}: ${strip(v.message)}`).sort();
    const gator = (JSON.parse(c.out!) as { violatingObject: { kind: string; metadata: { name: string; namespace?: string } }; constraint: { metadata: { name: string } }; enforcementAction: string; msg: string }[])
      .map((v) => `${v.violatingObject.kind} ${v.violatingObject.metadata.namespace ?? ""}/${v.violatingObject.metadata.name} [${v.constraint.metadata.name}] ${v.enforcementAction}: ${strip(v.msg)}`)
      .sort();
    assert.deepEqual(ours, gator);
    assert.ok(ours.some((l) => l.includes("[Implied by expand-deployments]")));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
