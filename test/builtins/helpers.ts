// Test helpers for builtin unit tests: a tiny reader for Rego literals and builtin calls (enough
// for `name(arg, ...)` with literal arguments, nested calls, sets and non-string keys), a fake
// BuiltinContext, and a runner for tables of [expression, expected-from-OPA] cases.
//
// Expected values are OPA's own output: `sprintf("%v", [[EXPR]])` gives the value in Rego syntax
// (sets stay sets), and errors carry OPA's message and code. gen-expected.ts produces the tables.

import { test } from "node:test";
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { RSet, equal, makeObject, numberFromText, toJSONText, type Value } from "../../src/rego/value.ts";
import { BuiltinError, BuiltinTypeError, type BuiltinContext } from "../../src/builtins/registry.ts";
import { getBuiltin } from "../../src/builtins/index.ts";

export function fakeContext(): BuiltinContext {
  return {
    strict: true,
    nowNs: 0n,
    cache: new Map(),
    print: () => {},
    location: undefined,
    runtime: {},
    awaitValue: () => {
      throw new Error("no async in unit tests");
    },
    checkCancel: () => {},
    checkSize: () => {},
  };
}

class Reader {
  i = 0;
  constructor(
    readonly s: string,
    readonly call: ((name: string, args: Value[]) => Value | undefined) | null,
  ) {}
  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }
  peek(): string {
    this.ws();
    return this.s[this.i];
  }
  expect(c: string): void {
    this.ws();
    if (this.s[this.i] !== c) throw new Error(`expected ${c} at ${this.i} in ${this.s}`);
    this.i++;
  }
  value(): Value | undefined {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') return this.string();
    if (c === "`") {
      const j = this.s.indexOf("`", this.i + 1);
      const v = this.s.slice(this.i + 1, j);
      this.i = j + 1;
      return v;
    }
    if (c === "[") {
      this.i++;
      const out: Value[] = [];
      while (this.peek() !== "]") {
        out.push(this.value() as Value);
        if (this.peek() === ",") this.i++;
      }
      this.i++;
      return out;
    }
    if (c === "{") {
      this.i++;
      if (this.peek() === "}") {
        this.i++;
        return makeObject([]);
      }
      const first = this.value() as Value;
      if (this.peek() === ":") {
        this.i++;
        const entries: [Value, Value][] = [[first, this.value() as Value]];
        while (this.peek() === ",") {
          this.i++;
          if (this.peek() === "}") break;
          const k = this.value() as Value;
          this.expect(":");
          entries.push([k, this.value() as Value]);
        }
        this.expect("}");
        return makeObject(entries);
      }
      const items: Value[] = [first];
      while (this.peek() === ",") {
        this.i++;
        if (this.peek() === "}") break;
        items.push(this.value() as Value);
      }
      this.expect("}");
      return new RSet(items);
    }
    const m = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    if (m) {
      this.i += m[0].length;
      return numberFromText(m[0])!;
    }
    const w = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(this.s.slice(this.i));
    if (!w) throw new Error(`cannot read ${this.s.slice(this.i)}`);
    this.i += w[0].length;
    if (w[0] === "true") return true;
    if (w[0] === "false") return false;
    if (w[0] === "null") return null;
    this.expect("(");
    const args: Value[] = [];
    let undef = false;
    while (this.peek() !== ")") {
      const a = this.value();
      if (a === undefined) undef = true;
      else args.push(a);
      if (this.peek() === ",") this.i++;
    }
    this.i++;
    if (w[0] === "set" && args.length === 0) return new RSet();
    if (undef) return undefined;
    if (!this.call) throw new Error(`call to ${w[0]} in a value`);
    return this.call(w[0], args);
  }
  string(): string {
    this.i++;
    let out = "";
    for (;;) {
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      const simple: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", a: "\x07", v: "\v", "\\": "\\", '"': '"', "/": "/" };
      if (e in simple) out += simple[e];
      else if (e === "x") {
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + 2), 16));
        this.i += 2;
      } else if (e === "u") {
        out += String.fromCharCode(parseInt(this.s.slice(this.i, this.i + 4), 16));
        this.i += 4;
      } else if (e === "U") {
        out += String.fromCodePoint(parseInt(this.s.slice(this.i, this.i + 8), 16));
        this.i += 8;
      } else throw new Error(`bad escape \\${e}`);
    }
  }
}

/** Read a Rego value literal (as OPA prints it with %v). */
export function readValue(text: string): Value {
  const r = new Reader(text, null);
  const v = r.value();
  if (v === undefined) throw new Error("undefined literal");
  return v;
}

/** Evaluate a builtin call expression with literal arguments through Portcullis' builtins. */
export function evalCall(text: string, ctx: BuiltinContext = fakeContext()): Value | undefined {
  const r = new Reader(text, (name, args) => {
    const b = getBuiltin(name);
    if (!b) throw new Error(`unknown builtin ${name}`);
    return b.impl(args, ctx);
  });
  const v = r.value();
  r.ws();
  if (r.i !== text.length) throw new Error(`trailing text in ${text}`);
  return v;
}

export type Expected =
  | { value: string } // OPA's %v text of the result
  | { undefined: true }
  | { error: string; code: "eval_type_error" | "eval_builtin_error" };

export function checkCase(expr: string, want: Expected): void {
  let got: Value | undefined;
  let err: unknown = null;
  try {
    got = evalCall(expr);
  } catch (e) {
    err = e;
  }
  if ("error" in want) {
    assert.ok(err !== null, `${expr}: expected error ${want.error}, got ${got === undefined ? "undefined" : toJSONText(got)}`);
    const code = err instanceof BuiltinTypeError ? "eval_type_error" : err instanceof BuiltinError ? "eval_builtin_error" : String(err);
    assert.equal((err as Error).message, want.error, expr);
    assert.equal(code, want.code, `${expr}: error kind`);
    return;
  }
  if (err !== null) throw err;
  if ("undefined" in want) {
    assert.equal(got, undefined, `${expr}: expected undefined`);
    return;
  }
  const exp = readValue(want.value);
  assert.ok(got !== undefined, `${expr}: got undefined, want ${want.value}`);
  assert.ok(equal(got, exp), `${expr}: got ${toJSONText(got)}${got instanceof RSet ? " (set)" : ""}, want ${want.value}`);
}

export function runCases(name: string, cases: [string, Expected][]): void {
  for (const [expr, want] of cases) {
    test(`${name}: ${expr}`, () => checkCase(expr, want));
  }
}

/** Each builtin's declaration and flags equal OPA's capabilities (modulo key order). */
export function checkDecls(names: string[]): void {
  const caps = JSON.parse(
    readFileSync(process.env.OPA_CAPABILITIES ?? "/work/shared/reference/opa-capabilities-v1.19.0.json", "utf8"),
  ) as { builtins: { name: string; decl: unknown; infix?: string; deprecated?: boolean; nondeterministic?: boolean }[] };
  const byName = new Map(caps.builtins.map((b) => [b.name, b]));
  for (const n of names) {
    test(`decl: ${n}`, () => {
      const want = byName.get(n);
      const got = getBuiltin(n);
      assert.ok(want, `${n} not in capabilities`);
      assert.ok(got, `${n} not registered`);
      assert.deepEqual(sortKeys(got.decl), sortKeys(want.decl));
      assert.equal(got.infix, want.infix);
      assert.equal(!!got.deprecated, !!want.deprecated);
      assert.equal(!!got.nondeterministic, !!want.nondeterministic);
    });
  }
}

function sortKeys(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x).sort()) out[k] = sortKeys((x as Record<string, unknown>)[k]);
    return out;
  }
  return x;
}
