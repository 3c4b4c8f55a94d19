// The constraint CRD Portcullis generates for a template (as Gatekeeper's frameworks/crds
// CreateCRD + CreateSchema do) and the template status errors, without an API server.
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileTemplate } from "../../src/gatekeeper/template.ts";
import { constraintCRD, preserveUnknownFields, templateStatusErrors } from "../../src/gatekeeper/controller/index.ts";

const tmpl = (apiVersion: string, validation: object | undefined, rego = 'package x\nviolation[{"msg": "m"}] { input.review.object.x }\n', name = "k8sx", kind = "K8sX") => ({
  apiVersion,
  kind: "ConstraintTemplate",
  metadata: { name, labels: { team: "a" } },
  spec: { crd: { spec: { names: { kind }, ...(validation ? { validation } : {}) } }, targets: [{ target: "admission.k8s.gatekeeper.sh", rego }] },
});

const params = { type: "object", properties: { tags: { type: "array", items: { type: "string" } }, nested: { type: "object", properties: { n: { type: "integer" } } } } };

test("constraint CRD of a v1 template", () => {
  const crd = constraintCRD(compileTemplate(tmpl("templates.gatekeeper.sh/v1", { openAPIV3Schema: params })));
  assert.equal(crd.metadata.name, "k8sx.constraints.gatekeeper.sh");
  assert.deepEqual(crd.metadata.labels, { team: "a", "gatekeeper.sh/constraint": "yes" });
  assert.deepEqual(crd.spec.names, { kind: "K8sX", listKind: "K8sXList", plural: "k8sx", singular: "k8sx", categories: ["constraint", "constraints"] });
  assert.equal(crd.spec.scope, "Cluster");
  assert.deepEqual(crd.spec.versions.map((v: { name: string; storage: boolean }) => [v.name, v.storage]), [["v1beta1", true], ["v1alpha1", false]]);
  const schema = crd.spec.versions[0].schema.openAPIV3Schema;
  assert.deepEqual(schema.properties.spec.properties.parameters, params); // strict: as written
  assert.deepEqual(schema.properties.spec.properties.enforcementAction, { type: "string", default: "deny" });
  assert.deepEqual(schema.properties.metadata, { type: "object", properties: { name: { type: "string", maxLength: 63 } } });
  assert.deepEqual(schema.properties.status, { type: "object", "x-kubernetes-preserve-unknown-fields": true });
  assert.deepEqual(crd.spec.versions[0].subresources, { status: {} });
  assert.deepEqual(schema.properties.spec.properties.match.properties.source.enum, ["All", "Generated", "Original"]);
  // no schema in v1: no parameters field at all
  const none = constraintCRD(compileTemplate(tmpl("templates.gatekeeper.sh/v1", undefined)));
  assert.equal(none.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.parameters, undefined);
});

test("legacySchema (v1beta1 default) preserves unknown fields at every object level", () => {
  const crd = constraintCRD(compileTemplate(tmpl("templates.gatekeeper.sh/v1beta1", { openAPIV3Schema: params })));
  const p = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.parameters;
  assert.equal(p["x-kubernetes-preserve-unknown-fields"], true);
  assert.equal(p.properties.nested["x-kubernetes-preserve-unknown-fields"], true);
  assert.equal(p.properties.tags["x-kubernetes-preserve-unknown-fields"], undefined);
  const bare = constraintCRD(compileTemplate(tmpl("templates.gatekeeper.sh/v1beta1", undefined)));
  assert.deepEqual(bare.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.parameters, { "x-kubernetes-preserve-unknown-fields": true });
  assert.deepEqual(preserveUnknownFields({ type: "array" }), { type: "array", items: { "x-kubernetes-preserve-unknown-fields": true } });
});

test("template status errors: Rego's code and location, Gatekeeper's create_error", () => {
  const errs = (t: object) => {
    try {
      compileTemplate(t);
    } catch (e) {
      return templateStatusErrors(e);
    }
    throw new Error("compiled");
  };
  const parse = errs(tmpl("templates.gatekeeper.sh/v1", undefined, "package x\nviolation[{\"msg\": m}] {\n  m := concat(\"\", [\"a\"\n}\n"));
  assert.equal(parse.length, 1); // as opa check reports it
  assert.equal(parse[0].code, "rego_parse_error");
  assert.match(parse[0].location!, /^template:4(:\d+)?$/);
  const unsafe = errs(tmpl("templates.gatekeeper.sh/v1", undefined, 'package x\nviolation[{"msg": m}] {\n  y == 1\n  m := "x"\n}\n'));
  assert.equal(unsafe[0].code, "rego_unsafe_var_error");
  assert.match(unsafe[0].message, /var y is unsafe/);
  assert.match(unsafe[0].location!, /^template:3/);
  const named = errs(tmpl("templates.gatekeeper.sh/v1", undefined, undefined, "wrong", "K8sX"));
  assert.equal(named[0].code, "create_error");
  assert.match(named[0].message, /is not equal to the lowercase of CRD's Kind/);
  const noViolation = errs(tmpl("templates.gatekeeper.sh/v1", undefined, "package x\ndeny[m] { m := 1 }\n"));
  assert.equal(noViolation[0].code, "ingest_error");
  assert.equal(noViolation[0].message, "Could not ingest Rego: invalid ConstraintTemplate: invalid rego: invalid module: missing required rules: [violation]");
});

test("portcullis controller: cluster source errors are one line with exit 1", { skip: process.env.KUBERNETES_SERVICE_HOST ? "running in a pod" : false }, async () => {
  const { cli } = await import("../cli/helpers.ts");
  const missing = await cli(["controller", "--kubeconfig", "/nonexistent/kubeconfig", "--cert-dir", "/nonexistent/certs", "--metrics-addr", "0", "--health-addr", "0"]);
  assert.equal(missing.code, 1);
  assert.equal(missing.err, "error: --kubeconfig /nonexistent/kubeconfig: no such file\n");
  const outside = await cli(["controller", "--in-cluster", "--cert-dir", "/nonexistent/certs", "--metrics-addr", "0", "--health-addr", "0"]);
  assert.equal(outside.code, 1);
  assert.equal(outside.err, "error: cluster: in-cluster configuration: not running in a pod (no KUBERNETES_SERVICE_HOST or no /var/run/secrets/kubernetes.io/serviceaccount/token)\n");
});
