// The expansion system's contract beyond what the recorded gator cases show: the mutation hook
// (Gatekeeper mutates each resultant, source Generated, and gator the generator first, source
// Original), the refusal of mutators when no mutation system is wired, replacing and removing
// templates (a cycle cleared by a replacement), and resultants' names/owners as Gatekeeper's
// pkg/expansion builds them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Expander, ExpansionSystem, expandAll, parseExpansionTemplate, type MutationContext } from "../../src/gatekeeper/expansion/index.ts";
import type { Obj } from "../../src/gatekeeper/yaml.ts";

function et(name: string, kinds: string[], group: string, source: string, gen: { group: string; version: string; kind: string }): Obj {
  return { apiVersion: "expansion.gatekeeper.sh/v1beta1", kind: "ExpansionTemplate", metadata: { name }, spec: { applyTo: [{ groups: [group], versions: ["v1"], kinds }], templateSource: source, generatedGVK: gen } };
}
const deployments = et("expand-deployments", ["Deployment"], "apps", "spec.template", { group: "", version: "v1", kind: "Pod" });
const deployment: Obj = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "Web", namespace: "shop" }, spec: { template: { metadata: { ownerReferences: [{ apiVersion: "v1", kind: "X", name: "x", controller: true }] }, spec: { containers: [{ name: "c", image: "nginx" }] } } } };
const assign: Obj = { apiVersion: "mutations.gatekeeper.sh/v1", kind: "Assign", metadata: { name: "pull-always" }, spec: {} };

test("the mutation hook runs on the generator (Original) and on each resultant (Generated)", async () => {
  const calls: [string, MutationContext["source"], string | undefined][] = [];
  const mutation = (mutators: Obj[]) => {
    assert.deepEqual(mutators, [assign]);
    return (obj: Obj, ctx: MutationContext) => {
      calls.push([obj.kind, ctx.source, ctx.namespace?.metadata?.name]);
      if (obj.kind === "Pod") obj.spec.containers[0].imagePullPolicy = "Always";
    };
  };
  const ns: Obj = { apiVersion: "v1", kind: "Namespace", metadata: { name: "shop" } };
  const out = await expandAll([deployments, assign, ns, structuredClone(deployment)], { mutation });
  assert.equal(out.length, 1);
  assert.equal(out[0].spec.containers[0].imagePullPolicy, "Always");
  // gator's Expander: every input object is a base (mutated, then expanded); only the Deployment generates
  assert.deepEqual(calls.filter((c) => c[0] !== "ExpansionTemplate" && c[0] !== "Assign" && c[0] !== "Namespace"), [
    ["Deployment", "Original", "shop"],
    ["Pod", "Generated", "shop"],
  ]);
});

test("mutators without a mutation system: refused when something would be generated, ignored otherwise", async () => {
  await assert.rejects(() => expandAll([deployments, assign, deployment]), /error parsing resources: mutator Assign "pull-always" cannot be applied: no mutation system is available/);
  assert.deepEqual(await expandAll([assign, deployment]), []);
  // every input is a base object, in input order (the ExpansionTemplate first here), as in gator
  const failing = () => () => {
    throw new Error("location spec.containers: bad path");
  };
  await assert.rejects(() => expandAll([deployments, assign, deployment], { mutation: failing }), /error mutating base resource expand-deployments: location spec\.containers: bad path/);
});

test("a resultant: generated kind, lower-case name, the generator's namespace, owner references kept in Go's shape", async () => {
  const er = new Expander([deployments]);
  const [r] = await er.expand(structuredClone(deployment));
  assert.equal(r.templateName, "expand-deployments");
  assert.equal(r.enforcementAction, "");
  assert.deepEqual(r.obj.metadata, {
    name: "web-pod",
    namespace: "shop",
    ownerReferences: [
      { apiVersion: "v1", kind: "X", name: "x", uid: "", controller: true },
      { apiVersion: "apps/v1", kind: "Deployment", name: "Web", uid: "" },
    ],
  });
  assert.equal(r.obj.apiVersion, "v1");
  assert.equal(r.obj.kind, "Pod");
  // the generator is untouched
  assert.equal(deployment.spec.template.metadata.name, undefined);
});

test("upsert replaces by name; a replacement that breaks a cycle brings both templates back", () => {
  const s = new ExpansionSystem();
  const a = parseExpansionTemplate(et("a", ["Deployment"], "apps", "spec.template", { group: "", version: "v1", kind: "Pod" }));
  const b = parseExpansionTemplate(et("b", ["Pod"], "", "spec", { group: "apps", version: "v1", kind: "Deployment" }));
  s.upsert(a);
  assert.throws(() => s.upsert(b), /template forms expansion cycle/);
  assert.deepEqual(s.conflicts(), ["a", "b"]);
  assert.equal(s.templatesFor({ group: "apps", version: "v1", kind: "Deployment" }).length, 0);
  s.upsert(parseExpansionTemplate(et("b", ["Pod"], "", "spec", { group: "batch", version: "v1", kind: "Job" })));
  assert.deepEqual(s.conflicts(), []);
  assert.deepEqual(s.templatesFor({ group: "apps", version: "v1", kind: "Deployment" }).map((t) => t.name), ["a"]);
  assert.deepEqual(s.templatesFor({ group: "", version: "v1", kind: "Pod" }).map((t) => t.name), ["b"]);
  s.remove("b");
  assert.equal(s.size, 1);
  assert.deepEqual(s.templatesFor({ group: "", version: "v1", kind: "Pod" }), []);
});

test("template validation: name length and Gatekeeper's conversion errors", () => {
  const long = et("x".repeat(64), ["Deployment"], "apps", "spec.template", { group: "", version: "v1", kind: "Pod" });
  assert.throws(() => new ExpansionSystem().upsertObject(long), /^ExpansionError: ExpansionTemplate name must be less than 64 characters$/);
  assert.throws(() => parseExpansionTemplate({ ...deployments, spec: { ...deployments.spec, templateSource: 3 } }), /cannot restore string from int64/);
  assert.throws(() => parseExpansionTemplate({ ...deployments, spec: { ...deployments.spec, generatedGVK: "Pod" } }), /cannot restore struct from string/);
});
