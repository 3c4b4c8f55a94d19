import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runSuites, parseSuites, checkAssertion, formatText, formatJSON, countCases, findSuiteFiles } from "../../src/gatekeeper/suite.ts";

function fixture(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pc-gk-suite-"));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

const TEMPLATE = `apiVersion: templates.gatekeeper.sh/v1
kind: ConstraintTemplate
metadata:
  name: k8slabel
spec:
  crd:
    spec:
      names:
        kind: K8sLabel
      validation:
        openAPIV3Schema:
          type: object
          properties:
            key: {type: string}
  targets:
  - target: admission.k8s.gatekeeper.sh
    rego: |
      package k8slabel
      violation[{"msg": msg}] {
        not input.review.object.metadata.labels[input.parameters.key]
        msg := concat("", ["missing label ", input.parameters.key])
      }
      violation[{"msg": "update"}] {
        input.review.operation == "UPDATE"
      }
      violation[{"msg": "ns-inventory"}] {
        data.inventory.cluster.v1.Namespace[input.review.object.metadata.namespace].metadata.labels.flag == "on"
      }
`;
const CONSTRAINT = `apiVersion: constraints.gatekeeper.sh/v1beta1
kind: K8sLabel
metadata:
  name: need-owner
spec:
  match:
    kinds: [{apiGroups: [""], kinds: [Pod]}]
  parameters:
    key: owner
`;
const BAD_CONSTRAINT = CONSTRAINT.replace("key: owner", "key: 5");
const POD = (labels: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: ns1\n  labels: {${labels}}\n`;

const SUITE = `kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
metadata:
  name: labels
tests:
- name: owner
  template: template.yaml
  constraint: samples/constraint.yaml
  cases:
  - name: allowed
    object: samples/allowed.yaml
    assertions:
    - violations: no
  - name: disallowed
    object: samples/disallowed.yaml
    assertions:
    - violations: yes
    - violations: 1
      message: "missing label"
    - message: "^missing label owner$"
    - violations: 0
      message: nothing-like-this
  - name: update
    object: samples/update.yaml
    assertions:
    - violations: 1
      message: update
  - name: inventory
    object: samples/allowed.yaml
    inventory: [samples/ns.yaml]
    assertions:
    - violations: 1
      message: ns-inventory
  - name: skipped
    skip: true
    object: samples/allowed.yaml
    assertions:
    - violations: 99
- name: bad-constraint-expected
  template: template.yaml
  constraint: samples/bad-constraint.yaml
  invalid: true
`;

const FILES = {
  "suite.yaml": SUITE,
  "template.yaml": TEMPLATE,
  "samples/constraint.yaml": CONSTRAINT,
  "samples/bad-constraint.yaml": BAD_CONSTRAINT,
  "samples/allowed.yaml": POD("owner: me"),
  "samples/disallowed.yaml": POD("app: x"),
  "samples/ns.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns1\n  labels: {flag: 'on'}\n",
  "samples/update.yaml": `kind: AdmissionReview
apiVersion: admission.k8s.io/v1
request:
  operation: UPDATE
  object: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: ns1, labels: {owner: a}}}
  oldObject: {apiVersion: v1, kind: Pod, metadata: {name: p, namespace: ns1}}
`,
};

test("parseSuites reads tests, cases and assertions", () => {
  const [s] = parseSuites(SUITE, "suite.yaml");
  assert.equal(s.name, "labels");
  assert.equal(s.tests.length, 2);
  assert.equal(s.tests[0].cases!.length, 5);
  assert.equal(s.tests[0].cases![1].assertions!.length, 4);
  assert.equal(s.tests[0].cases![1].assertions![0].violations, true, "violations: yes reads as YAML 1.1 true");
  assert.equal(s.tests[1].invalid, true);
  assert.deepEqual(parseSuites("kind: Other\napiVersion: v1\n", "x.yaml"), []);
  assert.throws(() => parseSuites("kind: Suite\napiVersion: test.gatekeeper.sh/v1alpha1\ntests: 5\n", "bad.yaml"), /bad\.yaml: tests must be a list/);
});

test("assertions: yes/no/count, unanchored message regex, invalid values", () => {
  const msgs = ["missing label owner", "other"];
  assert.equal(checkAssertion({ violations: "yes" }, msgs), null);
  assert.equal(checkAssertion({}, msgs), null, "violations defaults to yes");
  assert.equal(checkAssertion({ violations: 2 }, msgs), null);
  assert.equal(checkAssertion({ violations: 1, message: "label" }, msgs), null);
  assert.equal(checkAssertion({ violations: "no", message: "absent" }, msgs), null);
  assert.equal(checkAssertion({ violations: "no" }, []), null);
  assert.equal(checkAssertion({ violations: "no" }, msgs), "unexpected number of violations: got 2 violations but want none: got messages [missing label owner other]");
  assert.equal(checkAssertion({ violations: 3, message: "o" }, msgs), 'unexpected number of violations: got 2 violations containing "o" but want exactly 3: got messages [missing label owner other]');
  assert.equal(checkAssertion({ violations: "yes", message: "nomatch" }, msgs), 'unexpected number of violations: got 0 violations containing "nomatch" but want at least 1: got messages [missing label owner other]');
  assert.match(checkAssertion({ violations: "maybe" }, msgs)!, /must be a nonnegative integer, "yes", or "no"/);
  assert.match(checkAssertion({ violations: -1 }, msgs)!, /must be a nonnegative integer/);
});

test("runSuites runs a suite: paths relative to the suite, inventory, AdmissionReview, invalid, skip", async () => {
  const dir = fixture(FILES);
  const rs = await runSuites([dir]);
  assert.equal(rs.length, 1);
  const out = formatText(rs, { verbose: true });
  assert.deepEqual(rs[0].tests.map((t) => [t.name, t.error ?? null]), [["owner", null], ["bad-constraint-expected", null]], out);
  assert.deepEqual(rs[0].tests[0].cases.map((c) => [c.name, c.skipped, c.error ?? null]), [
    ["allowed", false, null],
    ["disallowed", false, null],
    ["update", false, null],
    ["inventory", false, null],
    ["skipped", true, null],
  ]);
  assert.deepEqual(countCases(rs), { total: 5, passed: 4, failed: 0, skipped: 1 });
  assert.match(out, /^=== RUN   owner\n    === RUN   allowed\n    --- PASS: allowed\t\(\d+\.\d{3}s\)\n/);
  assert.match(out, /    === SKIP  skipped\n/);
  assert.match(out, /\nok\t.*suite\.yaml\t\d+\.\d{3}s\nPASS\n\n$/);
  const json = JSON.parse(formatJSON(rs));
  assert.equal(json.passed, true);
  assert.equal(json.suites[0].tests[0].cases[1].name, "disallowed");
});

test("failures are reported like gator verify", async () => {
  const dir = fixture({
    ...FILES,
    "suite.yaml": `kind: Suite
apiVersion: test.gatekeeper.sh/v1alpha1
tests:
- name: t
  template: template.yaml
  constraint: samples/constraint.yaml
  cases:
  - name: wrong
    object: samples/disallowed.yaml
    assertions:
    - violations: no
  - name: empty
    object: samples/allowed.yaml
    assertions: []
  - name: missing
    object: samples/nope.yaml
    assertions:
    - violations: no
- name: bad-constraint
  template: template.yaml
  constraint: samples/bad-constraint.yaml
  cases:
  - name: c
    object: samples/allowed.yaml
    assertions:
    - violations: no
- name: invalid-but-valid
  template: template.yaml
  constraint: samples/constraint.yaml
  invalid: true
- name: no-template
  template: samples/none.yaml
  constraint: samples/constraint.yaml
- name: skipped
  skip: true
  template: x.yaml
`,
  });
  const rs = await runSuites([path.join(dir, "suite.yaml")]);
  const out = formatText(rs);
  assert.match(out, /    --- FAIL: wrong\t\(\d\.\d{3}s\)\n        unexpected number of violations: got 1 violations but want none: got messages \[missing label owner\]\n/);
  assert.match(out, /    --- FAIL: empty\t.*\n        invalid Case: assertions must be non-empty\n/);
  assert.match(out, /    --- FAIL: missing\t.*\n        open .*nope\.yaml: no such file or directory\n/);
  assert.match(out, /--- FAIL: bad-constraint\t.*\n  schema validation failed: \[\]\.spec\.parameters\.key: Invalid value: "number": spec\.parameters\.key in body must be of type string: "number"\n/);
  assert.match(out, /--- FAIL: invalid-but-valid\t.*\n  constraint should have failed schema validation: got error <nil> but want schema validation failed\n/);
  assert.match(out, /--- FAIL: no-template\t.*\n  reading ConstraintTemplate from ".*none\.yaml"/);
  assert.doesNotMatch(out, /skipped/);
  assert.match(out, /\nFAIL\t.*suite\.yaml\t.*\nFAIL\n\n$/);
  assert.deepEqual(countCases(rs), { total: 4, passed: 0, failed: 4, skipped: 0 });
});

test("--run filters tests and cases; dir/... recurses", async () => {
  const dir = fixture(Object.fromEntries(Object.entries(FILES).map(([k, v]) => [`nested/${k}`, v])));
  assert.deepEqual(findSuiteFiles(dir), []);
  assert.equal(findSuiteFiles(path.join(dir, "...")).length, 1);
  let rs = await runSuites([path.join(dir, "...")], { run: /^disallowed$/ });
  assert.deepEqual(rs[0].tests[0].cases.filter((c) => !c.skipped).map((c) => c.name), ["disallowed"]);
  assert.equal(rs[0].tests[1].skipped, true);
  rs = await runSuites([path.join(dir, "...")], { run: "owner//inv" });
  assert.deepEqual(rs[0].tests[0].cases.filter((c) => !c.skipped).map((c) => c.name), ["inventory"]);
  rs = await runSuites([path.join(dir, "...")], { run: /^owner$/ });
  assert.equal(rs[0].tests[0].cases.filter((c) => !c.skipped).length, 4);
});
