import { test } from "node:test";
import assert from "node:assert/strict";
import { compileTemplate, TemplateError } from "../../src/gatekeeper/template.ts";
import { Client } from "../../src/gatekeeper/client.ts";
import { ConstraintError } from "../../src/gatekeeper/constraint.ts";

function tmpl(targets: unknown, opts: { name?: string; kind?: string; apiVersion?: string; schema?: object } = {}) {
  return {
    apiVersion: opts.apiVersion ?? "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: opts.name ?? "k8sx" },
    spec: {
      crd: { spec: { names: { kind: opts.kind ?? "K8sX" }, ...(opts.schema ? { validation: { openAPIV3Schema: opts.schema } } : {}) } },
      targets,
    },
  };
}
const rego = (src: string, extra: object = {}) => [{ target: "admission.k8s.gatekeeper.sh", rego: src, ...extra }];
const OK = 'package k8sx\nviolation[{"msg": "x"}] { input.review.object.kind == "Pod" }\n';

function throwsTemplate(t: object, re: RegExp, field?: string, reason?: string) {
  assert.throws(
    () => compileTemplate(t as any, "tmpl.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError, `expected TemplateError, got ${e}`);
      assert.match(e.message, re);
      assert.match(e.message, /tmpl\.yaml/, "the message names the file");
      if (field) assert.equal(e.field, field);
      if (reason) assert.equal(e.reason, reason);
      return true;
    },
  );
}

test("a valid template compiles, with the violation query under its package", () => {
  const t = compileTemplate(tmpl(rego(OK)) as any);
  assert.equal(t.kind, "K8sX");
  assert.equal(t.query, "data.k8sx.violation[r]");
  assert.equal(t.source.version, "v0");
});

/** Refused with gator's exact words (which name no file: that is in e.file). */
function throwsGator(t: object, message: string, reason?: string) {
  assert.throws(
    () => compileTemplate(t as any, "tmpl.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError, `expected TemplateError, got ${e}`);
      assert.equal(e.message, message);
      assert.equal(e.file, "tmpl.yaml");
      if (reason) assert.equal(e.reason, reason);
      return true;
    },
  );
}

test("name must be the lowercase kind", () => {
  throwsTemplate(tmpl(rego(OK), { name: "wrongname" }), /name "wrongname" is not equal to the lowercase of CRD's Kind: "k8sx"/, "metadata.name");
});

test("exactly one target, and the admission target", () => {
  throwsTemplate(tmpl([...rego(OK), ...rego(OK)]), /must declare exactly one target/, "spec.targets");
  throwsTemplate(tmpl([]), /must declare exactly one target/, "spec.targets");
  throwsTemplate(tmpl([{ target: "foo.bar", rego: OK }]), /target "foo.bar" not recognized/, "spec.targets[0].target");
});

test("a violation rule is required, as a partial set", () => {
  throwsGator(tmpl(rego('package k8sx\ndeny[{"msg": "x"}] { true }\n')), "invalid ConstraintTemplate: invalid rego: invalid module: missing required rules: [violation]");
  throwsTemplate(tmpl(rego('package k8sx\nviolation = [{"msg": "x"}]\n')), /"violation" must be a partial set rule/);
});

test("Rego may reference only input, data.inventory and data.lib", () => {
  throwsGator(tmpl(rego('package k8sx\nviolation[{"msg": "x"}] { data.foo.bar == 1 }\n')), "invalid ConstraintTemplate: invalid data references: check refs failed on module {template}: errors (1):\ndisallowed ref data.foo.bar\n");
  throwsGator(tmpl(rego('package k8sx\nviolation[{"msg": "x"}] { data.lib.foo.x }\n', { libs: ["package lib.foo\nx = data.other\n"] })), 'invalid ConstraintTemplate: invalid data references: check refs failed on module {libs["lib_0"]}: errors (1):\ndisallowed ref data.other\n');
  compileTemplate(tmpl(rego('package k8sx\nviolation[{"msg": "x"}] { data.inventory.cluster; data.lib.foo.x }\n', { libs: ["package lib.foo\nx = true\n"] })) as any);
});

test("libraries must be under package lib", () => {
  throwsGator(tmpl(rego('package k8sx\nviolation[{"msg": "x"}] { data.lib.foo.x }\n', { libs: ["package foo\nx = true\n"] })), "invalid ConstraintTemplate: invalid lib prefix: path data.foo not found in lib prefixes");
});

test("imports: future.keywords and data.lib only", () => {
  throwsGator(tmpl(rego('package k8sx\nimport input.review\nviolation[{"msg": "x"}] { true }\n')), 'invalid ConstraintTemplate: invalid import: cannot import input: "input.review"');
  throwsGator(tmpl(rego('package k8sx\nimport data.inventory\nviolation[{"msg": "x"}] { true }\n')), 'invalid ConstraintTemplate: invalid import: bad import: "data.inventory"');
  compileTemplate(tmpl(rego('package k8sx\nimport future.keywords.in\nimport data.lib.foo\nviolation[{"msg": "x"}] { foo.x; 1 in [1] }\n', { libs: ["package lib.foo\nx = true\n"] })) as any);
});

test("parse and compile errors carry Rego locations", () => {
  // A parse error is worded as gator words it (OPA's error list, the line and a caret; no file
  // name in the text — it is in e.file).
  assert.throws(
    () => compileTemplate(tmpl(rego('package k8sx\nviolation[{"msg": "x"}] { true\n')) as any, "tmpl.yaml"),
    (e: unknown) => {
      assert.ok(e instanceof TemplateError);
      assert.equal(e.message, 'invalid ConstraintTemplate: 1 error occurred: template:3: rego_parse_error: unexpected eof token\n\tviolation[{"msg": "x"}] { true\n\t                             ^');
      assert.equal(e.file, "tmpl.yaml");
      assert.equal(e.field, "spec.targets[0].rego");
      assert.equal(e.reason, "compile");
      return true;
    },
  );
  throwsGator(tmpl(rego('package k8sx\nviolation[{"msg": "x"}] { nosuchfn(1) }\n')), "unable to compile modules: 1 error occurred: template:2: rego_type_error: undefined function nosuchfn", "compile");
});

test("code[]: Rego v1 source; CEL wins over Rego unless turned off; CEL-only unsupported with CEL off", () => {
  const v1 = compileTemplate(
    tmpl([{ target: "admission.k8s.gatekeeper.sh", code: [{ engine: "Rego", source: { version: "v1", rego: 'package k8sx\nviolation contains {"msg": "x"} if { true }\n' } }] }]) as any,
  );
  assert.equal(v1.source.version, "v1");
  const bothTargets = [
    {
      target: "admission.k8s.gatekeeper.sh",
      code: [
        { engine: "K8sNativeValidation", source: { validations: [{ expression: "false", message: "no" }] } },
        { engine: "Rego", source: { rego: OK } },
      ],
    },
  ];
  const both = compileTemplate(tmpl(bothTargets) as any);
  assert.equal(both.source.field, "spec.targets[0].code[0].source");
  assert.ok(both.cel);
  const regoOnly = compileTemplate(tmpl(bothTargets) as any, undefined, undefined, { k8sNativeValidation: false });
  assert.equal(regoOnly.source.field, "spec.targets[0].code[1].source.rego");
  assert.equal(regoOnly.cel, undefined);
  const celOnly = tmpl([{ target: "admission.k8s.gatekeeper.sh", code: [{ engine: "K8sNativeValidation", source: { validations: [] } }] }]);
  assert.ok(compileTemplate(celOnly as any).cel);
  assert.throws(
    () => compileTemplate(celOnly as any, undefined, undefined, { k8sNativeValidation: false }),
    (e: any) => e.reason === "unsupported" && e.field === "spec.targets[0].code" && /no language driver is installed that handles this constraint template: available drivers: map\[Rego:1\], wanted ""/.test(e.message),
  );
  // The legacy rego field wins over code[] (as in Gatekeeper).
  const legacy = compileTemplate(tmpl([{ target: "admission.k8s.gatekeeper.sh", rego: OK, code: [{ engine: "Rego", source: { rego: 'package k8sx\nviolation[{"msg": "y"}] { true }\n' } }] }]) as any);
  assert.equal(legacy.source.field, "spec.targets[0].rego");
});

test("templates get separate engines: the same package in two templates does not collide", async () => {
  const c = new Client();
  c.addTemplate(tmpl(rego('package same\nviolation[{"msg": "from-a"}] { true }\n'), { name: "k8sa", kind: "K8sA" }) as any);
  c.addTemplate(tmpl(rego('package same\nviolation[{"msg": "from-b"}] { true }\n'), { name: "k8sb", kind: "K8sB" }) as any);
  c.addConstraint({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sA", metadata: { name: "a" } });
  c.addConstraint({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sB", metadata: { name: "b" } });
  const r = await c.review({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } });
  assert.deepEqual(r.results.map((v) => `${v.constraintName}:${v.msg}`), ["a:from-a", "b:from-b"]);
});

test("constraints are validated against the parameters schema", () => {
  const c = new Client();
  c.addTemplate(tmpl(rego(OK), { schema: { type: "object", properties: { n: { type: "integer" }, obj: { type: "object", properties: { a: { type: "boolean" } } } } } }) as any);
  const con = (parameters: object) => ({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "K8sX", metadata: { name: "c" }, spec: { parameters } });
  assert.throws(() => c.addConstraint(con({ n: "x" }), "c.yaml"), (e: unknown) => e instanceof ConstraintError && e.reason === "schema" && e.file === "c.yaml" && e.message === 'schema validation failed: [].spec.parameters.n: Invalid value: "string": spec.parameters.n in body must be of type integer: "string"');
  assert.throws(() => c.addConstraint(con({ obj: { a: true, extra: 1 }, unknown: 2 })), /unknown fields: \[spec\.parameters\.obj\.extra spec\.parameters\.unknown\]/);
  assert.throws(() => c.addConstraint({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "Nope", metadata: { name: "x" } }), /^ConstraintError: missing ConstraintTemplate: template "nope" not found$/);
  const ok = c.addConstraint(con({ n: 1 }));
  assert.equal(ok.enforcementAction, "deny", "enforcementAction defaults to deny");
  assert.equal(ok.object.spec.enforcementAction, "deny");
  // v1beta1 templates keep unknown parameters (legacySchema).
  const c2 = new Client();
  c2.addTemplate(tmpl(rego(OK), { apiVersion: "templates.gatekeeper.sh/v1beta1", schema: { type: "object", properties: { n: { type: "integer" } } } }) as any);
  c2.addConstraint(con({ n: 1, other: { x: 1 } }));
  // A v1 template without a schema declares no parameters.
  const c3 = new Client();
  c3.addTemplate(tmpl(rego(OK)) as any);
  assert.throws(() => c3.addConstraint(con({ a: 1 })), /unknown fields: \[spec\.parameters\]/);
});
