// Comprehension indexing (src/rego/compindex.ts): a comprehension keyed by variables of the
// enclosing body is evaluated once per query and looked up, and gives exactly what the unindexed
// evaluation gives. The expected values and the counts of `print` calls (how many times a
// comprehension body ran: n when indexed, n² when not) were recorded from OPA 1.19
// (`opa eval -d x.rego data.x`).
import test from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

const SEMANTICS = `package t

items := [
	{"name": "a", "team": "x", "env": "prod", "n": 1},
	{"name": "b", "team": "y", "env": "dev", "n": 2},
	{"name": "c", "team": "x", "env": "dev", "n": 1},
	{"name": "a", "team": "x", "env": "prod", "n": 3},
	{"name": "d", "team": "z", "env": "prod", "n": 2},
]

# grouping: order and duplicates of an array comprehension per key
by_team := {t: names | some it in items; t := it.team; names := [m.name | some m in items; m.team == t]}

# a key no element has: an empty collection, not undefined
empty := {t: names | some t in ["x", "w"]; names := [m.name | some m in items; m.team == t]}

# two keys
by_team_env := {k: names | some it in items; t := it.team; e := it.env; k := sprintf("%s/%s", [t, e]); names := [m.name | some m in items; m.team == t; m.env == e]}

# set and object comprehensions
sets := {t: s | some t in ["x", "y", "w"]; s := {m.name | some m in items; m.team == t}}
objs := {t: o | some t in ["x", "y", "w"]; o := {m.env: m.n | some m in items; m.team == t; m.name != "a"}}

# \`=\` binds the key in the body as well; a number key matches 1 and 1.0
by_n := {n: names | some n in [1, 2, 3, 4]; names := [m.name | some m in items; m.n = n]}
by_n_float := [names | some n in [1.0, 2]; names := [m.name | some m in items; m.n == n]]

# the key bound by \`some … in\` and by \`:=\` (a local assignment shadows nothing outside)
shadow := [names | some t in ["x", "y"]; names := [m.name | some m in items; t := m.team]]

# negation around a comprehension with a key
lonely contains t if {
	some it in items
	t := it.team
	not count([m | some m in items; m.team == t]) > 1
}

# nested: the inner comprehension names the key (not indexable), or only its own locals
nested_key := {t: c | some t in ["x", "y"]; c := [n | some m in items; m.team == t; n := count([1 | some o in items; o.team == t])]}
nested_local := {t: c | some t in ["x", "y"]; c := [n | some m in items; m.team == t; n := [o.name | some o in items; o.env == m.env]]}

# a function keyed by its argument
members(t) := [m.name | some m in items; m.team == t]
fn := [members(t) | some t in ["x", "y", "z", "w"]]

# the comprehension under \`with\`: a new input each time
from_input := {t: names | some t in ["x", "y"]; names := [m.name | some m in input.items; m.team == t]}
with_input := [v | some k in [1, 2]; v := from_input with input as {"items": [{"name": sprintf("i%d", [k]), "team": "x"}]}]

# a body whose expressions another order would enumerate differently (array order)
pairs := {t: ps | some t in ["x"]; ps := [[a, m.name] | some a in ["p", "q"]; some m in items; m.team == t]}

# keys from the outer body that the comprehension looks a collection up with (not indexed, same answer)
lookup := {t: v | some t in ["x", "y"]; v := [m | m := {"x": [1, 2], "y": [3]}[t][_]]}
`;

// OPA 1.19's answer for data.t (without items), keys sorted.
const OPA_SEMANTICS = {"by_n":{"1":["a","c"],"2":["b","d"],"3":["a"],"4":[]},"by_n_float":[["a","c"],["b","d"]],"by_team":{"x":["a","c","a"],"y":["b"],"z":["d"]},"by_team_env":{"x/dev":["c"],"x/prod":["a","a"],"y/dev":["b"],"z/prod":["d"]},"empty":{"w":[],"x":["a","c","a"]},"fn":[["a","c","a"],["b"],["d"],[]],"from_input":{"x":[],"y":[]},"lonely":["y","z"],"lookup":{"x":[1,2],"y":[3]},"nested_key":{"x":[3,3,3],"y":[1]},"nested_local":{"x":[["a","a","d"],["b","c"],["a","a","d"]],"y":[["b","c"]]},"objs":{"w":{},"x":{"dev":1},"y":{"dev":2}},"pairs":{"x":[["p","a"],["p","c"],["p","a"],["q","a"],["q","c"],["q","a"]]},"sets":{"w":[],"x":["a","c"],"y":["b"]},"shadow":[["a","b","c","a","d"],["a","b","c","a","d"]],"with_input":[{"x":["i1"],"y":[]},{"x":["i2"],"y":[]}]};

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
  return v;
}

function value(e: Engine, query: string, input?: unknown): unknown {
  const rs = e.query(query, input === undefined ? {} : { input });
  if (!Array.isArray(rs) || rs.length !== 1) throw new Error(`${query}: ${JSON.stringify(rs)}`);
  return sorted(JSON.parse(JSON.stringify(rs[0].expressions[0].value)));
}

test("indexed comprehensions give OPA's answers: undefined vs empty, several keys, sets, objects, 1 and 1.0, some/:=/not/with, nested, functions", () => {
  const e = new Engine();
  e.addModule("t.rego", SEMANTICS);
  const got = value(e, "data.t") as Record<string, unknown>;
  delete got.items;
  assert.deepEqual(got, OPA_SEMANTICS);
  // Each rule on its own (a rule's index is built by the first evaluation that needs it).
  for (const [k, v] of Object.entries(OPA_SEMANTICS)) {
    const one = new Engine();
    one.addModule("t.rego", SEMANTICS);
    assert.deepEqual(value(one, `data.t.${k}`), v, k);
  }
});

const VISITS = `package q

items := [{"name": "a", "team": "x", "env": "p"}, {"name": "b", "team": "y", "env": "d"}, {"name": "c", "team": "x", "env": "d"}]

basic := {t: ns | some it in items; t := it.team; ns := [m.name | some m in items; print("basic"); m.team == t]}
two := [ns | some it in items; t := it.team; e := it.env; ns := [m.name | some m in items; print("two"); m.team == t; m.env == e]]
neg contains t if { some it in items; t := it.team; not count([m | some m in items; print("neg"); m.team == t]) > 1 }
nested := [ns | some it in items; t := it.team; ns := [m.name | some m in items; print("nested"); m.team == t; count([1 | some o in items; o.team == t]) > 0]]
lookup := [v | some t in ["x", "y"]; v := [m | print("lookup"); m := {"x": [1, 2], "y": [3]}[t][_]]]
with_expr := [ns | some it in items; t := it.team; ns := [m.name | some m in input.items; print("with"); m.team == t] with input as {"items": items}]
members(t) := [m.name | some m in items; print("fn"); m.team == t]
fn := [members(t) | some t in ["x", "y", "x", "z"]]
count_arg := [n | some it in items; t := it.team; n := count([m | some m in items; print("count"); m.team == t])]
other_outer := [ns | some it in items; t := it.team; u := it.env; ns := [m.name | some m in items; print("other"); m.team == t; u != ""]]
head_only := [ns | some it in items; t := it.team; ns := [t | some m in items; print("head"); m.team == "x"]]
unify := [ns | some it in items; t := it.team; ns := [m.name | some m in items; print("unify"); m.team = t]]
setc := [ns | some it in items; t := it.team; ns := {m.name | some m in items; print("set"); m.team == t}]
objc := [ns | some it in items; t := it.team; ns := {m.name: m.env | some m in items; print("obj"); m.team == t}]
`;

// How many times each comprehension body ran in OPA 1.19 (its print output): 3 (the items) where
// OPA indexes the comprehension, 9 where it does not.
const OPA_VISITS: Record<string, number> = {
  basic: 3, // keyed by t
  two: 3, // two keys, t and e
  neg: 3, // in a negated expression (OPA hoists the call's argument out of the negation)
  nested: 9, // a nested comprehension names the key: not indexed
  lookup: 2, // the key is looked up in a reference (input.a[t]): indexing would enumerate it
  with_expr: 9, // an expression with \`with\`: not indexed
  count_arg: 3, // a comprehension as a call argument
  other_outer: 9, // closes over u, which its body does not bind: not indexed
  head_only: 9, // the outer variable appears in the head only
  unify: 3, // \`=\` rather than \`==\`
  setc: 3,
  objc: 3,
};

test("indexed comprehensions run their bodies as often as OPA's (print output), and linearly", () => {
  for (const [rule, n] of Object.entries(OPA_VISITS)) {
    const lines: string[] = [];
    const e = new Engine({ printHook: (s) => lines.push(s) });
    e.addModule("q.rego", VISITS);
    e.query(`data.q.${rule}`);
    assert.equal(lines.length, n, rule);
  }
  // A function keyed by its argument: OPA 1.19 builds the index again in every call (12 runs for
  // 4 calls); Portcullis keeps it for the query (and memoises the calls).
  const lines: string[] = [];
  const e = new Engine({ printHook: (s) => lines.push(s) });
  e.addModule("q.rego", VISITS);
  assert.deepEqual(value(e, "data.q.fn"), [["a", "c"], ["b"], ["a", "c"], []]);
  assert.equal(lines.length, 3);
  // 5,000 items grouped by 50 teams: the body runs 5,000 times, not 25 million.
  const n = 5000;
  const items = Array.from({ length: n }, (_, i) => ({ name: `i${i}`, team: `t${i % 50}` }));
  const big: string[] = [];
  const e2 = new Engine({ printHook: (s) => big.push(s) });
  e2.addModule("g.rego", "package g\nby_team := {t: ns | some it in input.items; t := it.team; ns := [m.name | some m in input.items; print(1); m.team == t]}\n");
  const by = value(e2, "data.g.by_team", { items }) as Record<string, string[]>;
  assert.equal(Object.keys(by).length, 50);
  assert.deepEqual(by.t7.slice(0, 3), ["i7", "i57", "i107"]);
  assert.equal(big.length, n);
});

test("an indexed object comprehension still reports a key conflict, for the key looked up only", () => {
  const src = `package c
items := [{"name": "a", "team": "x", "v": 1}, {"name": "a", "team": "y", "v": 1}, {"name": "a", "team": "y", "v": 2}]
ok := [o | some t in ["x"]; o := {m.name: m.v | some m in items; m.team == t}]
bad := [o | some t in ["x", "y"]; o := {m.name: m.v | some m in items; m.team == t}]
`;
  const e = new Engine();
  e.addModule("c.rego", src);
  assert.deepEqual(value(e, "data.c.ok"), [{ a: 1 }]);
  // Unindexed, OPA 1.19 reports this conflict too; its indexed path keeps the last value
  // silently ([{"a": 1}, {"a": 2}]). Portcullis keeps the error.
  assert.throws(
    () => e.query("data.c.bad"),
    (err: unknown) => err instanceof RegoError && err.errors[0].code === "eval_conflict_error" && err.errors[0].message === "object keys must be unique",
  );
});

test("the index belongs to its with scope: a new input builds a new one", () => {
  const e = new Engine();
  e.addModule(
    "w.rego",
    `package w
by_team := {t: ns | some it in input.items; t := it.team; ns := [m.name | some m in input.items; m.team == t]}
both := [by_team, b2] if b2 := by_team with input as {"items": [{"name": "z", "team": "q"}]}
`,
  );
  assert.deepEqual(value(e, "data.w.both", { items: [{ name: "a", team: "x" }, { name: "b", team: "x" }] }), [{ x: ["a", "b"] }, { q: ["z"] }]);
});

test("keys in every bodies, composite keys, a key tested twice, a key in the head, 1 and 1.0 (OPA's answers)", () => {
  const e = new Engine();
  e.addModule("e.rego", `package e

items := [{"team": "x", "owner": "x", "meta": {"a": 1}}, {"team": "y", "owner": "x", "meta": {"a": 2}}, {"team": "x", "owner": "y", "meta": {"a": 1}}, {"team": 1.0, "owner": 1, "meta": [1]}]

ev if { every t in ["x", "y"] { count([m | some m in items; m.team == t]) > 0 } }
composite := [c | some it in items; meta := it.meta; c := count([m | some m in items; m.meta == meta])]
twice := [ns | some t in ["x", "y", 1]; ns := [m.meta | some m in items; m.team == t; m.owner == t]]
head_key := [ts | some t in ["x", "z"]; ts := [t | some m in items; m.team == t]]
nums := [ns | some t in [1, 1.0]; ns := [m.owner | some m in items; m.team == t]]
objkey := [o | some t in ["x"]; o := {t: m.owner | some m in items; m.team == t; m.owner == "x"}]
`);
  const got = value(e, "data.e") as Record<string, unknown>;
  delete got.items;
  assert.deepEqual(got, {
    composite: [2, 1, 2, 1],
    ev: true,
    head_key: [["x", "x"], []],
    nums: [[1], [1]],
    objkey: [{ x: "x" }],
    twice: [[{ a: 1 }], [], [[1]]],
  });
});
