// Expressions whose values cel-go (v0.26.0, in Kubernetes 1.34's CEL environment, Gatekeeper
// 3.21's) computes for Portcullis's evaluators to match: recorded by scripts/record-celgo-eval.ts
// into recorded/celgo-eval.json, checked by celgo-eval.test.ts. `o`, when given, is a JSON
// document bound as Kubernetes binds an object (integers as int, objects as maps).

export interface EvalCase {
  expr: string;
  o?: unknown;
}

const nulls = { a: null, l: [1, null], m: { b: null, c: 1 } };

export const EVAL_CASES: EvalCase[] = [
  // a map key whose value is null is in the map, whatever the map's origin and the key's type
  { expr: "'a' in {'a': null}" },
  { expr: "'b' in {'a': null}" },
  { expr: "'a' in {'a': dyn(null), 'b': dyn(1)}" },
  { expr: "'b' in {'a': dyn(null), 'b': dyn(1)}" },
  { expr: "1 in {1: null}" },
  { expr: "1u in dyn({1: null})" },
  { expr: "1.0 in dyn({1: null})" },
  { expr: "1.5 in dyn({1: null})" },
  { expr: "1 in dyn({1u: null})" },
  { expr: "true in {true: null}" },
  { expr: "!('a' in {'a': null})" },
  { expr: "'a' in {'a': null} && 'b' in {'b': null}" },
  { expr: "'a' in o", o: nulls },
  { expr: "'b' in o.m", o: nulls },
  { expr: "'z' in o.m", o: nulls },
  { expr: "'a' in {'a': 1}.transformMap(k, v, null)" },
  { expr: "'a' in {'a': null}.filter(k, true).map(k, k)" },
  { expr: "dyn(null) in dyn({'a': null})" },
  { expr: "dyn(null) in o", o: nulls },
  { expr: "dyn([1]) in dyn({'a': 1})" },
  { expr: "dyn({'a': 1}) in dyn({'a': 1})" },
  { expr: "dyn(1) in dyn({'a': 1})" },
  { expr: "dyn('a') in dyn({1: 1})" },
  { expr: "!(dyn(null) in o.m)", o: nulls },
  // has() of such a key, and the key's value
  { expr: "has({'a': null}.a)" },
  { expr: "has({'a': null}.b)" },
  { expr: "has(o.a)", o: nulls },
  { expr: "has(o.m.b)", o: nulls },
  { expr: "has(o.a.b)", o: nulls },
  { expr: "{'a': null}['a'] == null" },
  { expr: "{'a': null}.a == null" },
  { expr: "{'a': null}['b'] == null" },
  { expr: "{1: null}[1] == null" },
  { expr: "o.a == null", o: nulls },
  { expr: "o.m['b'] == null", o: nulls },
  { expr: "{'a': null}[?'a'].hasValue()" },
  { expr: "{'a': null}.?a.hasValue()" },
  { expr: "{'a': null}.?b.hasValue()" },
  { expr: "o.?a.hasValue()", o: nulls },
  { expr: "dyn({'a': null}).?a.orValue(1) == null" },
  // lists containing null
  { expr: "null in [null]" },
  { expr: "null in [dyn(1), dyn(null)]" },
  { expr: "dyn(null) in [1, 2]" },
  { expr: "null in []" },
  { expr: "null in o.l", o: nulls },
  { expr: "[null] == [null]" },
  { expr: "[dyn(1), dyn(null)].indexOf(null)" },
  { expr: "o.l.exists(x, x == null)", o: nulls },
  { expr: "o.l.filter(x, x != null).size()", o: nulls },
  // comprehensions over such maps
  { expr: "{'a': null}.exists(k, k == 'a')" },
  { expr: "{'a': null}.all(k, k in {'a': null})" },
  { expr: "{'a': dyn(null), 'b': dyn(2)}.filter(k, {'a': dyn(null), 'b': dyn(2)}[k] == null)" },
  { expr: "{'a': null}.exists_one(k, true)" },
  { expr: "o.exists(k, o[k] == null)", o: nulls },
  { expr: "o.m.all(k, k in o.m)", o: nulls },
  { expr: "{'a': null}.all(k, v, v == null)" },
  { expr: "size({'a': null})" },
  // equality of maps with null members
  { expr: "{'a': null} == {'a': null}" },
  { expr: "{'a': null} == {'b': null}" },
  { expr: "dyn({'a': null}) != {'a': 1}" },
  { expr: "sets.contains([{'a': null}], [{'a': null}])" },
  { expr: "sets.equivalent([{'a': null}], [{'a': null}])" },
  { expr: "sets.intersects([{'a': null}], [{'b': null}])" },
  { expr: "[{'a': null}].indexOf({'a': null})" },
  { expr: "[{'a': null}, {'a': null}].distinct().size()" },
  { expr: "{'a': null} in [{'a': null}]" },
  // literals mixing null with other constants are compile errors (Kubernetes' homogeneous aggregate literals)
  { expr: "'a' in {'a': null, 'b': 1}" },
  { expr: "null in [1, null]" },
  { expr: "[null, 'x'].size() == 2" },
  { expr: "[null, null].size() == 2" },
  // errors absorbed by || and &&, and not absorbed
  { expr: "dyn({'a': 1}).b || true" },
  { expr: "dyn({'a': 1}).b && false" },
  { expr: "dyn({'a': 1}).b || false" },
  { expr: "false || dyn({'a': 1}).b" },
  { expr: "dyn({'a': 1}).b ? 1 : 2" },
  { expr: "true ? 1 : dyn({'a': 1}).b" },
  { expr: "[1, 2].exists(x, dyn({'a': 1}).b || x == 2)" },
  { expr: "[1, 2].all(x, dyn({'a': 1}).b || x > 1)" },
  // a non-bool operand of the logical operators
  { expr: "dyn('a') && true" },
  { expr: "true && dyn('a')" },
  { expr: "false || dyn(1)" },
  { expr: "dyn(1) || dyn({}).a" },
  { expr: "dyn({}).a || dyn(1)" },
  { expr: "[1, 2].all(x, dyn(x))" },
  { expr: "[1, 2].exists(x, dyn(x))" },
  { expr: "dyn(1) ? 1 : 2" },
  { expr: "!dyn(1)" },
];
