// RSet keeps up to 8 elements in a list (compared, not hashed) and hashes them into a map past
// that or when `map` is read. Both forms must hold the same elements as hashing every element
// would: these tests build each set twice — through add() alone, and through add() after the map
// was forced — and compare the elements, their order and membership, and Rego's answers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RSet, ObjMap, hashKey, numberLiteral, numberText, compare, toJS, type Value } from "../../src/rego/value.ts";
import { Engine } from "../../src/index.ts";

/** The elements a set built by hashing every element holds: by hash key, the first number / the last other value kept. */
function byHashing(items: Value[]): Value[] {
  const m = new Map<unknown, Value>();
  for (const v of items) {
    const k = hashKey(v);
    if (typeof v !== "string" && (typeof v === "number" || typeof v === "bigint" || (typeof v === "object" && v !== null && "d" in v)) && m.has(k)) continue;
    m.set(k, v);
  }
  return Array.from(m.values());
}

function hashedFromStart(items: Value[]): RSet {
  const s = new RSet();
  void s.map; // forces the hashed form
  for (const v of items) s.add(v);
  return s;
}

const n10 = numberLiteral("1.0")!;
const obj = (o: Record<string, Value>): Value => Object.assign(Object.create(null), o) as Value;
const om = new ObjMap();
om.set(1, "one");

const CASES: Value[][] = [
  ["a", "b", "a", true, false, true, null, null],
  [1, n10, 2, 1, "1"],
  [n10, 1],
  [[1], [n10], [1, 2], [1]],
  [{ msg: "x", details: { a: 1 } }, { msg: "x", details: { a: 1 } }, { msg: "y" }, { details: { a: 1 }, msg: "x" }],
  [{ a: 1 }, { a: 1, b: 2 }, { b: 2, a: 1 }, {}, obj({}), obj({ a: 1 })],
  [{ constructor: 1 }, {}, { toString: "x" }, { constructor: 1 }],
  [new RSet([1, 2]), new RSet([2, 1]), new RSet([1, n10])],
  [om, { 1: "one" } as Value, om],
  // past the list's size: the set switches to its map half-way
  Array.from({ length: 20 }, (_, i) => ({ k: i % 11, v: [i % 3] })),
  Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? i % 13 : `s${i % 7}`)),
];

test("small sets hold the elements hashing would, in the same order", () => {
  for (const items of CASES) {
    const want = byHashing(items);
    for (const s of [new RSet(items), hashedFromStart(items)]) {
      assert.equal(s.size, want.length, JSON.stringify(toJS(items as Value)));
      assert.deepEqual(s.toArray(), want);
      assert.deepEqual(s.sorted(), want.slice().sort(compare));
      for (const v of items) assert.ok(s.has(v));
      assert.ok(!s.has("absent"));
      assert.ok(!s.has({ absent: true } as Value));
      // the first equal number stays, with its text
      const nums = s.toArray().filter((v) => typeof v === "number" || (typeof v === "object" && v !== null && "d" in v));
      for (const x of nums) assert.equal(numberText(x as number), numberText(items.find((v) => hashKey(v) === hashKey(x)) as number));
    }
  }
});

test("a small set read as a map, then added to, stays one set", () => {
  const s = new RSet([{ a: 1 }, "x"]);
  assert.equal(s.map.size, 2);
  s.add({ a: 1 });
  s.add("y");
  assert.equal(s.size, 3);
  assert.deepEqual(s.sorted(), ["x", "y", { a: 1 }]);
  assert.ok(s.map.has(hashKey("y")));
});

test("sets of objects in Rego: duplicates collapse, unions and comparisons are OPA's (recorded from opa eval 1.19)", () => {
  const e = new Engine();
  e.addModule(
    "p.rego",
    `package p
v contains {"msg": m, "n": n} if { some n in [1, 2, 1.0, 2, 3]; m := sprintf("m%v", [n]) }
w := {x | some x in [[1], [1.0], {"a": 1}, {"a": 1.0}, {"a": 1, "b": 2}]}
u := v | {{"msg": "m1", "n": 1}}
many := {x | some i in numbers.range(1, 12); x := {"k": i % 9}}
eq := {{"a": 1}, {"b": 2}} == {{"b": 2}, {"a": 1.0}}
`,
  );
  const q = (s: string) => {
    const rs = e.query(s);
    assert.ok(!(rs instanceof Promise));
    return rs[0]!.expressions[0]!.value;
  };
  // opa eval 1.19.0 answers (data.p.v, data.p.w, count(data.p.u), count(data.p.many), data.p.eq)
  assert.deepEqual(q("data.p.v"), [{ msg: "m1", n: 1 }, { msg: "m2", n: 2 }, { msg: "m3", n: 3 }]);
  assert.deepEqual(q("data.p.w"), [[1], { a: 1 }, { a: 1, b: 2 }]);
  assert.equal(q("count(data.p.u)"), 3);
  assert.equal(q("count(data.p.many)"), 9);
  assert.equal(q("data.p.eq"), true);
});
