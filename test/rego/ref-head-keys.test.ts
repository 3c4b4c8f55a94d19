// Reading an object built by rules with variable keys (`q[k] := v`, `n[a][b] := v`) at a known
// key: OPA unifies the rules' keys with it before their bodies, so a conflict (or an error)
// under another key does not make `q["a"]` fail, while reading `q` whole, or iterating it, does.
// Every expected answer and error (code, message, row) is opa eval 1.19.0's on the same module.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, RegoError } from "../../src/index.ts";

const MODULE = `package p

q[k] := v if {
	some k in ["a", "b"]
	some v in [1, 2]
	k == "b"
}

q["a"] := 1

r1 := q["a"]

r2 := [v | v := q[x]]

r3 if {
	x := "a"
	q[x] == 1
}

r4 := q.a

n[a][b] := v if {
	some a in ["x", "y"]
	some b in ["u", "w"]
	some v in [1, 2]
	a == "y"
}

n.x.u := 5

r5 := n.x.u

r6 := n.x

r7 := n.y

t[k] := to_number(k) if some k in ["1", "z"]

r8 := t["1"]

w[a][b] := v if {
	some a in ["x", "y"]
	some b in ["u", "w"]
	some v in [1, 2]
	b == "w"
}

w.x.u := 5

r9 := w.x.u

r10 := w.x

m[k] := v if {
	some k in [1, 2, 2]
	some v in [k, 10]
	k == 2
}

r11 := m[1]

r12 := m[2]

o[k].c := 2 if some k in ["a", "b"]

o[k].c := 3 if k := "b"

o.a.d := 4

r13 := o.a

r14 := o.b.c

s[k] := v if {
	some k in ["a", "b"]
	v := input.x[k]
}

r15 := x if {
	x := [s.a, s.b] with input.x as {"a": 3, "b": 4}
}

r16 := [s.a, s.b]
`;

type Outcome = { value: unknown } | { undefined: true } | { code: string; message: string; row: number };

function outcome(e: Engine, rule: string): Outcome {
  try {
    const rs = e.query(`data.p.${rule}`, { input: { x: { a: 1, b: 2 } } }) as { expressions: { value: unknown }[] }[];
    return rs.length === 0 ? { undefined: true } : { value: rs[0].expressions[0].value };
  } catch (err) {
    if (!(err instanceof RegoError)) throw err;
    const first = err.errors[0];
    return { code: first.code, message: first.message, row: first.location?.row ?? 0 };
  }
}

const conflict = (row: number): Outcome => ({ code: "eval_conflict_error", message: "object keys must be unique", row });

const WANT: Record<string, Outcome> = {
  r1: { value: 1 },
  r2: conflict(3),
  r3: { value: true },
  r4: { value: 1 },
  r5: { value: 5 },
  r6: { value: { u: 5 } },
  r7: conflict(22),
  r8: { value: 1 },
  r9: { value: 5 },
  r10: conflict(41),
  r11: { undefined: true },
  r12: conflict(54),
  r13: { value: { c: 2, d: 4 } },
  r14: conflict(66),
  r15: { value: [3, 4] },
  r16: { value: [1, 2] },
};

test("a known key reads only its entries of an object built by rules with variable keys (opa eval 1.19.0's answers)", () => {
  const e = new Engine();
  e.addModule("p.rego", MODULE);
  for (const [rule, want] of Object.entries(WANT)) assert.deepEqual(outcome(e, rule), want, rule);
});

test("an error under another key is not raised either (strict builtin errors)", () => {
  const e = new Engine({ strictBuiltinErrors: true });
  e.addModule("p.rego", MODULE);
  assert.deepEqual(outcome(e, "r8"), { value: 1 });
});

test("within one query, the whole object read after a key still reports its conflict, and the key read after the whole object its value", () => {
  const e = new Engine();
  e.addModule("p.rego", `${MODULE}\nboth1 := [q.a, count(q)]\n\nboth2 := [count(q), q.a]\n`);
  assert.deepEqual(outcome(e, "both1"), conflict(3));
  assert.deepEqual(outcome(e, "both2"), conflict(3));
});
