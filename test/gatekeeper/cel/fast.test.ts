// Portcullis's CEL evaluator (fast.ts) on the edges of CEL's semantics, each expression run on it
// and on @bufbuild/cel's interpreter (the evaluator it replaces, whose answers the conformance
// tests pin to cel-go's): the same value or the same error text, and the same cost. Error
// absorption by && and || and ?:, errors kept in a comprehension's accumulator, indexing
// errors, heterogeneous numeric equality, `in`, has() on views, maps and null members, list
// concatenation, the string functions run directly, qualified function names, and the forms
// left to @bufbuild/cel (decided at compile time).
import { test } from "node:test";
import assert from "node:assert/strict";
import { compile, CostMeter, toCelInput, useFastEvaluator, fromCel, type Declarations } from "../../../src/gatekeeper/cel/engine.ts";
import { compileCelSource, evaluateCel, type CelReviewInput } from "../../../src/gatekeeper/cel/driver.ts";
import type { Obj } from "../../../src/gatekeeper/yaml.ts";

const doc = {
  metadata: { name: "p", labels: { app: "x", empty: "" }, annotations: null },
  spec: {
    containers: [
      { name: "a", image: "nginx:latest", ports: [{ containerPort: 80 }], resources: { limits: { cpu: "1" } } },
      { name: "b", image: "registry.k8s.io/pause:3.9", securityContext: { privileged: true } },
    ],
    hostNetwork: false,
    replicas: 3,
    ratio: 1.5,
  },
};

const decl: Declarations = { vars: new Set(["object", "params"]) };

function run(expr: string, fast: boolean): { fast: boolean; out: string; cost: number } {
  useFastEvaluator(fast);
  try {
    let p: ReturnType<typeof compile>;
    try {
      p = compile(expr, decl);
    } catch (e) {
      return { fast: false, out: `compile error: ${(e as Error).message}`, cost: 0 };
    }
    const m = new CostMeter(1_000_000);
    let out: string;
    try {
      out = JSON.stringify(fromCel(p.eval({ object: toCelInput(doc), params: toCelInput({ prefixes: ["nginx", "registry.k8s.io/"], n: 2 }) }, m)), (_k, v) => (typeof v === "bigint" ? `${v}n` : v));
    } catch (e) {
      out = `error: ${(e as Error).message}`;
    }
    return { fast: p.fast, out, cost: m.used };
  } finally {
    useFastEvaluator(true);
  }
}

const CASES = [
  // absorption
  "object.nope == 1 || true",
  "true || object.nope == 1",
  "object.nope == 1 && false",
  "object.nope == 1 && true",
  "object.nope == 1 || object.other == 2",
  "1 || true",
  "'a' && false",
  "'a' && true",
  "(object.nope ? 1 : 2)",
  "(1 ? 1 : 2)",
  "true ? object.metadata.name : object.nope",
  // comprehensions keep errors in the accumulator
  "object.spec.containers.all(c, c.securityContext.privileged)",
  "object.spec.containers.exists(c, c.securityContext.privileged)",
  "object.spec.containers.exists_one(c, has(c.securityContext))",
  "object.spec.containers.map(c, c.name)",
  "object.spec.containers.filter(c, c.image.startsWith('nginx')).map(c, c.image)",
  "object.spec.containers.map(c, c.ports[0].containerPort)",
  "object.metadata.labels.all(k, k != '')",
  "object.metadata.labels.map(k, object.metadata.labels[k])",
  "[1, 2, 3].all(i, v, i < v)",
  "{'a': 1}.exists(k, v, v == 1)",
  "object.spec.replicas.all(x, true)",
  // indexing and selection errors
  "object.spec.containers[2]",
  "object.spec.containers[-1]",
  "object.spec.containers[1u]",
  "object.spec.containers[1.0]",
  "object.spec.containers[1.5]",
  "object.spec.containers['a']",
  "object.spec.containers[true]",
  "object.metadata.labels[1]",
  "object.metadata.labels['app']",
  "object.metadata.labels['nope']",
  "object.metadata.name.size",
  "object.spec.replicas.x",
  "object.metadata.annotations.x",
  "{1: 'a'}[1.0]",
  "{1: 'a'}[1u]",
  "[1, 2][null]",
  // equality, in, arithmetic
  "object.spec.replicas == 3.0",
  "object.spec.replicas == 3u",
  "object.spec.ratio == 1.5",
  "[1, 2] == dyn([1.0, 2u])",
  "[object.spec.replicas, 2] == [3.0, 2.0]",
  "[object.spec.replicas] == [3u]",
  "object.spec.replicas in [1.0, 3.0]",
  "[object.metadata.name, 1].join(', ')",
  "{'a': 1} == {'a': 1.0}",
  "null == null",
  "object.metadata.annotations == null",
  "'nginx:latest' in object.spec.containers.map(c, c.image)",
  "3 in [1, 2, 3.0]",
  "'app' in object.metadata.labels",
  "'annotations' in object.metadata",
  "object.spec.replicas + 9223372036854775807",
  "object.spec.replicas / 0",
  "object.spec.containers + [1]",
  "[] + object.spec.containers",
  "size(object.spec.containers + object.spec.containers)",
  "'a' + 'b'",
  "b'a' + b'b'",
  "1 + 'a'",
  // has()
  "has(object.metadata.annotations)",
  "has(object.metadata.nope)",
  "has(object.spec.containers[0].resources.limits.cpu)",
  "has({'a': null}.a)",
  "has(object.metadata.name.x)",
  // string functions and conversions
  "string(object.spec.ratio)",
  "string(1.0e20)",
  "string(object.spec.replicas)",
  "string(b'abc')",
  "dyn(object.spec.containers)[0].name",
  "dyn(1u)",
  "'a*b*c'.replace('*', '-')",
  "'a*b*c'.replace('', '-')",
  "'a*b*c'.replace('*', '-', 1)",
  "'😀😀'.replace('', '.')",
  "['a', 'b'].join(', ')",
  "['a', 1].join(', ')",
  "[].join()",
  "object.spec.containers.map(c, c.name).join()",
  "size('😀é')",
  "size(object.metadata.labels)",
  "object.spec.containers[0].image.endsWith(':latest') && object.spec.containers[0].image.startsWith('nginx')",
  "'abc'.contains('')",
  "'AbC-ÄÖ'.lowerAscii() + 'AbC-äö'.upperAscii()",
  "object.metadata.name == null || null == object.spec.replicas || object.spec.ratio == null || null != true",
  "object.metadata.annotations == null && object.spec.containers != null",
  "params.prefixes.exists(p, object.spec.containers[1].image.startsWith(p))",
  "object.metadata.name.matches('^p$')",
  "sets.contains([1, 2], [1])",
  "optional.of(1).value()",
  "object.?metadata.?name.orValue('none')",
  "object.metadata.?nope.orValue('none')",
  "[?optional.none(), 1]",
  "{?'a': optional.of(1)}",
  "quantity(object.spec.containers[0].resources.limits.cpu).isGreaterThan(quantity('500m'))",
  "int('x')",
  "type(1) == int",
  "duration('1s') + duration('2s') == duration('3s')",
  "timestamp('2024-01-01T00:00:00Z').getFullYear()",
  // the nodes run here on their own (eqNode, relNode, hasNode, sizeNode, inNode, addNode, strMethodNode)
  "object.spec.replicas > 2 && object.spec.replicas >= 3 && object.spec.replicas < 4 && object.spec.replicas <= 3",
  "object.spec.ratio > 1.0 && object.spec.ratio <= 1.5 && !(object.spec.ratio < 1.5) && object.spec.ratio >= 1.5",
  "object.metadata.name < 'q' && 'é' > object.metadata.name && '😀' > 'ﬀ' && object.metadata.labels.app >= 'x'",
  "object.spec.replicas > 2.5",
  "object.spec.replicas < 4u",
  "object.spec.replicas > 'a'",
  "object.metadata.annotations < 1",
  "0.0/0.0 < 1.0 || 0.0/0.0 >= 1.0",
  "has(object.metadata.annotations.x)",
  "has(params.nope.x)",
  "has({'a': 1}.b) || has({'a': 1}.a)",
  "!object.spec.hostNetwork && !object.spec.replicas",
  "!object.metadata.annotations",
  "size(object.spec.containers) + size(object.metadata) + size([1, 2]) + size(object.spec.containers.map(c, c.name)) + size('ab')",
  "size(object.spec.replicas)",
  "object.metadata.name in ['p', 'q'] && 'x' in object.spec.containers.map(c, c.name) == false && 'labels' in object.metadata && !('nope' in object.metadata)",
  "object.metadata.name in {'p': 1} && 'annotations' in object.metadata",
  "object.spec.replicas in object.spec.containers",
  "'a' in object.metadata.name",
  "object.spec.containers + object.spec.containers.map(c, c.name) + [] + ['z']",
  "size([] + object.spec.containers + [])",
  "object.metadata.name + '-' + object.metadata.labels.app",
  "object.metadata.name + 1",
  "[] + [object.metadata.name] + [1] + object.spec.containers.map(c, c.name) + [object.spec.replicas]",
  "object.metadata.name + [1]",
  "object.metadata.labels + ['a']",
  "object.spec.containers.map(c, c.name) + [object.nope]",
  "object.spec.containers.filter(c, has(c.ports)).map(c, [c.name, c.ports[0].containerPort])",
  "object.metadata.name == 'p' && object.metadata.name != 'q' && object.spec.replicas == 3 && object.spec.replicas != 4 && object.spec.hostNetwork == false && object.spec.ratio != 2.5",
  "object.metadata.name == object.spec.replicas || object.spec.replicas != 'a'",
  "object.spec.containers[0].image.startsWith(object.spec.containers[0].name) || object.spec.containers[0].image.contains('latest') && object.spec.containers[0].image.endsWith('st')",
  "object.metadata.name.startsWith(1)",
  "object.spec.replicas.endsWith('a')",
];

/** Not run on Portcullis's evaluator: three mixed-type literals refused at compile time (as cel-go does), and a type identifier (left to @bufbuild/cel). */
const SLOW = ["[1, 2] == dyn([1.0, 2u])", "3 in [1, 2, 3.0]", "['a', 1].join(', ')", "type(1) == int"];

test("Portcullis's CEL evaluator answers as @bufbuild/cel on CEL's edges, at the same cost", () => {
  const slow: string[] = [];
  const diffs: string[] = [];
  for (const expr of CASES) {
    const a = run(expr, true);
    const b = run(expr, false);
    assert.equal(b.fast, false);
    if (!a.fast) slow.push(expr);
    if (a.out !== b.out || a.cost !== b.cost) diffs.push(`${expr}: ${a.out} (cost ${a.cost}) vs ${b.out} (cost ${b.cost})`);
  }
  assert.deepEqual(diffs, []);
  // Left to @bufbuild/cel: a type identifier; refused at compile time: the rest.
  assert.deepEqual(slow, SLOW);
});

test("Portcullis's CEL evaluator: the cost limit stops a runaway comprehension as the interpreter does", () => {
  const expr = "[1,2,3,4,5,6,7,8,9,10].all(a, [1,2,3,4,5,6,7,8,9,10].all(b, [1,2,3,4,5,6,7,8,9,10].all(c, a + b + c > 0)))";
  for (const fast of [true, false]) {
    useFastEvaluator(fast);
    try {
      const p = compile(expr, decl);
      assert.equal(p.fast, fast);
      assert.throws(() => p.eval({ object: null, params: null }, new CostMeter(1000)), /operation cancelled: actual cost limit exceeded/);
      const m = new CostMeter(1_000_000);
      assert.equal(p.eval({ object: null, params: null }, m), true);
      assert.ok(m.used > 1000);
    } finally {
      useFastEvaluator(true);
    }
  }
});

test("CEL driver: the constraints of one review share its documents' views, and another object is never answered from them", () => {
  const t = compileCelSource({
    variables: [{ name: "image", expression: "variables.anyObject.spec.containers[0].image" }],
    validations: [{ expression: "!variables.image.endsWith(':latest')", messageExpression: "'latest: ' + variables.image + ' in ' + request.operation" }],
  });
  const pod = (image: string): Obj => ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", image }] } });
  const request: Obj = { kind: { group: "", version: "v1", kind: "Pod" }, operation: "CREATE", name: "p" };
  const constraint: Obj = { kind: "K8sNoLatest", metadata: { name: "c" }, spec: {} };
  const input = (object: Obj): CelReviewInput => ({ object, oldObject: null, request, operation: "CREATE", constraint, namespaceObject: null });
  const latest = pod("nginx:latest");
  assert.deepEqual(evaluateCel(t, input(latest)), ["latest: nginx:latest in CREATE"]);
  assert.deepEqual(evaluateCel(t, input(latest)), ["latest: nginx:latest in CREATE"]);
  // the same request object, another object: its own answer
  assert.deepEqual(evaluateCel(t, input(pod("nginx:1.25"))), []);
  assert.deepEqual(evaluateCel(t, input(pod("redis:latest"))), ["latest: redis:latest in CREATE"]);
  // DELETE: object is null for CEL, anyObject is oldObject
  assert.deepEqual(evaluateCel(t, { ...input(latest), request: { ...request, operation: "DELETE" }, object: null, oldObject: pod("old:latest"), operation: "DELETE" }), ["latest: old:latest in DELETE"]);
  // the same request object reviewed for DELETE after CREATE (the same object): not the CREATE views
  assert.deepEqual(evaluateCel(t, { ...input(latest), operation: "DELETE", oldObject: pod("gone:latest") }), [
    `expression '!variables.image.endsWith(':latest')' resulted in error: composited variable "image" fails to evaluate: no such key: spec`,
  ]);
});
