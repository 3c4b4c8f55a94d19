// Fast paths of the evaluator (src/rego/compiler.ts): an iteration that binds one variable runs
// the direct expressions after it in its callback (ITER, iterate); object patterns of variables
// and values match in one loop (SIMPLE); negations with hoisted single values are direct (join
// those loops); object literals with constant keys are ordinary objects with their keys created
// in sorted order (constKeyObject; `__proto__` keeps the prototype-less form); sprintf's width
// check scans the format (strings.ts hasWidth). Every answer was recorded from OPA 1.19
// (`opa eval -d p.rego -i input.json data.p.<rule>`), and is checked twice: on a plain engine
// (fast paths on) and on an engine with evaluation hooks (the general closures: fast paths off).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine } from "../../src/index.ts";
import { toJS, sortedKeys, type PlainObject } from "../../src/rego/value.ts";

const POLICY = "package p\n\n# iterations followed by direct expressions (iterate)\nnames contains n if {\n\tc := input.containers[_]\n\tn := c.name\n\tstartswith(n, \"a\")\n}\n\npairs contains [f, n] if {\n\tc := input.spec[f][_]\n\tis_object(c)\n\tn := object.get(c, \"name\", \"none\")\n\tnot startswith(n, \"x\")\n}\n\nfirsts contains v if {\n\tsome x in input.nums\n\ty := x * 2\n\ty > 2\n\tsome z in input.nums\n\tv := [x, z, y]\n\tz > x\n}\n\nafter contains [n, k] if {\n\tc := input.containers[_]\n\tn := c.name\n\tk := count(n)\n\tk > 1\n\tc.image == \"nginx\"\n}\n\n# an iteration alone, and over objects and sets\nvals contains x if some x in input.obj\nsetv contains x if some x in {3, 1, 2}\nalone contains x if x := input.nums[_]\n\n# early exit through negation and existence\nhas_big if {\n\tx := input.nums[_]\n\ty := x + 1\n\ty > 3\n}\n\nno_neg if {\n\tnot neg_any\n}\n\nneg_any if {\n\tx := input.nums[_]\n\tx < 0\n}\n\n# object patterns of simple parts\nfound contains m if general[{\"msg\": m, \"field\": \"containers\"}]\nsame contains m if general[{\"msg\": m, \"field\": m}]\ntyped contains m if {\"msg\": m, \"field\": \"x\"} = input.objs[_]\n\ntwice contains m if {\"a\": m, \"b\": m} = input.objs[_]\nbound contains m if {\n\tm := \"c-alpha\"\n\tgeneral[{\"msg\": m, \"field\": \"containers\"}]\n}\n\ngeneral contains {\"msg\": n, \"field\": f} if {\n\tc := input.spec[f][_]\n\tn := sprintf(\"c-%v\", [c.name])\n}\n\ngeneral contains {\"msg\": \"initContainers\", \"field\": \"initContainers\"}\n\n# object literals with constant keys: order, integer-like keys, __proto__, undefined members\nlits := [\n\t{\"b\": 1, \"a\": 2},\n\t{\"a\": 2, \"b\": 1},\n\t{\"z\": 1, \"y\": 2, \"x\": 3, \"w\": 4},\n\t{\"10\": 1, \"9\": 2, \"b\": 3},\n\t{\"__proto__\": 1, \"a\": 2},\n\t{\"constructor\": 1, \"toString\": 2},\n]\n\nlit_eq if {\"b\": 1, \"a\": 2} == {\"a\": 2, \"b\": 1}\n\nlit_set := {{\"b\": 1, \"a\": 2}, {\"a\": 2, \"b\": 1}, {\"x\": 1}}\n\nlit_keys := [k | some k, _ in {\"zz\": 1, \"aa\": 2, \"mm\": 3}]\n\nproto_comp := {k: 1 | some k in [\"__proto__\", \"b\"]}\n\nlit_dyn := [{\"b\": input.nums[0], \"a\": 2}, {\"z\": 1, \"y\": input.nums[1], \"x\": 3, \"w\": 4}, {\"10\": input.nums[2], \"9\": 2, \"b\": 3}, {\"__proto__\": input.nums[0], \"a\": 2}]\n\nundef_member := {\"a\": 1, \"b\": input.missing}\n\n# negations with hoisted values\nhoisted contains n if {\n\tc := input.containers[_]\n\tn := c.name\n\tnot startswith(c.image, \"ng\")\n}\n\nhoisted_undef contains n if {\n\tc := input.containers[_]\n\tn := c.name\n\tnot startswith(c.missing, \"x\")\n}\n\n# sprintf widths\nfmt := [sprintf(\"%5d|%-4s|%.2f|%0d|%%5|%v\", [42, \"ab\", 3.14159, 7, 1])]\n";

const INPUT = {"containers": [{"name": "alpha", "image": "nginx"}, {"name": "beta", "image": "redis"}, {"name": "a", "image": "nginx"}, {"name": "xeno", "image": "ngx"}], "spec": {"containers": [{"name": "alpha"}, {"name": "xray"}], "initContainers": [{"name": "init"}], "hostNetwork": true, "volumes": [{"name": "v"}, "s"]}, "nums": [1, 2, 3], "obj": {"b": 1, "a": 2, "c": 3}, "objs": [{"msg": "a", "field": "x"}, {"msg": "b", "field": "x", "extra": 1}, {"msg": "c", "field": "y"}, "str", {"a": 1, "b": 1}, {"a": 1, "b": 2}, {"field": "x", "msg": {"n": 1}}]};

/** OPA 1.19's answers (sets as arrays in OPA's order); parsed from JSON text, so that `__proto__` is an own key. */
const EXPECTED = JSON.parse("{\"names\": [\"a\", \"alpha\"], \"pairs\": [[\"containers\", \"alpha\"], [\"initContainers\", \"init\"], [\"volumes\", \"v\"]], \"firsts\": [[2, 3, 4]], \"after\": [[\"alpha\", 5]], \"vals\": [1, 2, 3], \"setv\": [1, 2, 3], \"alone\": [1, 2, 3], \"has_big\": true, \"no_neg\": true, \"found\": [\"c-alpha\", \"c-xray\"], \"same\": [\"initContainers\"], \"typed\": [\"a\", {\"n\": 1}], \"twice\": [1], \"bound\": [\"c-alpha\"], \"lits\": [{\"a\": 2, \"b\": 1}, {\"a\": 2, \"b\": 1}, {\"w\": 4, \"x\": 3, \"y\": 2, \"z\": 1}, {\"10\": 1, \"9\": 2, \"b\": 3}, {\"__proto__\": 1, \"a\": 2}, {\"constructor\": 1, \"toString\": 2}], \"lit_eq\": true, \"lit_set\": [{\"a\": 2, \"b\": 1}, {\"x\": 1}], \"lit_keys\": [\"aa\", \"mm\", \"zz\"], \"hoisted\": [\"beta\"], \"hoisted_undef\": [], \"fmt\": [\"   42|ab  |3.14|7|%5|1\"], \"lit_dyn\": [{\"a\": 2, \"b\": 1}, {\"w\": 4, \"x\": 3, \"y\": 2, \"z\": 1}, {\"10\": 3, \"9\": 2, \"b\": 3}, {\"__proto__\": 1, \"a\": 2}], \"proto_comp\": {\"__proto__\": 1, \"b\": 1}}") as Record<string, unknown>;

function engines(): [string, Engine][] {
  const plain = new Engine();
  plain.addModule("p.rego", POLICY);
  const hooked = new Engine({ hooks: { expr() {} } });
  hooked.addModule("p.rego", POLICY);
  return [
    ["plain", plain],
    ["hooks", hooked],
  ];
}

function value(e: Engine, q: string): unknown {
  const rs = e.query(q, { input: INPUT }) as { expressions: { value: unknown }[] }[];
  return rs.length === 0 ? undefined : rs[0].expressions[0].value;
}

test("fast paths: iterations, object patterns, literals, hoisted negations and sprintf widths answer as OPA, with and without hooks", () => {
  for (const [name, e] of engines()) {
    for (const [rule, want] of Object.entries(EXPECTED)) assert.deepStrictEqual(value(e, `data.p.${rule}`), want, `${name}: ${rule}`);
    // A literal with an undefined member is undefined (OPA: no result).
    assert.equal(value(e, "data.p.undef_member"), undefined, `${name}: undef_member`);
  }
});

test("fast paths: object literals list their keys in order; __proto__ stays an own key", () => {
  const e = engines()[0][1];
  const lits = value(e, "data.p.lits") as Record<string, unknown>[];
  assert.deepStrictEqual(lits.map((o) => Object.keys(o).sort()), [["a", "b"], ["a", "b"], ["w", "x", "y", "z"], ["10", "9", "b"], ["__proto__", "a"], ["constructor", "toString"]]);
  assert.equal(Object.hasOwn(lits[4], "__proto__"), true);
  assert.equal((lits[4] as Record<string, unknown>)["__proto__"], 1);
  // The evaluator's own values (a literal with a variable member is built at evaluation): keys
  // created in sorted order, so sortedKeys needs no sort.
  const raw = (e.queryRaw("x := data.p.lit_dyn", { input: INPUT }) as { bindings: Map<string, unknown> }[])[0].bindings.get("x") as PlainObject[];
  assert.deepStrictEqual(Object.keys(raw[0]), ["a", "b"]);
  assert.deepStrictEqual(Object.keys(raw[1]), ["w", "x", "y", "z"]);
  assert.deepStrictEqual(sortedKeys(raw[2]), ["10", "9", "b"]);
  assert.equal(Object.getPrototypeOf(raw[0]), Object.prototype);
  assert.equal(Object.getPrototypeOf(raw[3]), null);
  assert.deepStrictEqual(toJS(raw[3] as never), JSON.parse('{"__proto__": 1, "a": 2}'));
  // (converting to JavaScript keeps the key: an assignment would have set the prototype instead)
  const y = value(e, 'data.p.proto_comp') as Record<string, unknown>;
  assert.deepStrictEqual(Object.keys(y), ["__proto__", "b"]);
  assert.equal(Object.getPrototypeOf(y), Object.prototype);
});

test("a number kept as a decimal is a scalar: its fields are not members (OPA 1.19: undefined)", async () => {
  const { parseJSON } = await import("../../src/gotext/json.ts");
  const e = new Engine();
  e.addModule("p.rego", 'package p\nz := w if { n := json.unmarshal("[1e400]")[0]; w := n["d"] }\nq := w if { w := input.big.d }\nt := w if { w := input.big.text }\nk := [k | some k, _ in input.big]\n');
  const input = parseJSON('{"big": 1e400}');
  // (was the decimal's internal fields: `{"d": [10], "e": 400, "s": 1}`, `"1e400"`)
  for (const r of ["z", "q", "t"]) assert.deepStrictEqual(e.query(`data.p.${r}`, { input }), [], r);
  assert.deepStrictEqual((e.query("data.p.k", { input }) as { expressions: { value: unknown }[] }[])[0].expressions[0].value, []);
});
