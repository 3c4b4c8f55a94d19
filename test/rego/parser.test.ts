// Tests for the Rego lexer and parser: AST shapes for each construct, OPA's error messages and
// locations, and two data-driven checks over the shared Gatekeeper library and conformance
// suites (skipped when ../shared is absent). Expected shapes were checked against `opa parse`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { load as loadYaml } from "js-yaml";
import { parseModule, parseQuery, parseTerm, termString, type ParseOptions } from "../../src/rego/parser.ts";
import { lex, T_ASSIGN, T_EOF, T_IDENT, T_NUMBER, T_STRING } from "../../src/rego/lexer.ts";
import { RegoError } from "../../src/rego/errors.ts";
import type { CallTerm, Expr, Module, RefTerm, Rule, Term } from "../../src/rego/ast.ts";

const mod = (src: string, opts?: ParseOptions): Module => parseModule("test.rego", src, opts);
const rules = (body: string, opts?: ParseOptions): Rule[] => mod(`package test\n${body}\n`, opts).rules;
const rule = (body: string, opts?: ParseOptions): Rule => {
  const rs = rules(body, opts);
  assert.equal(rs.length, 1);
  return rs[0];
};
/** The single expression of `p if { <expr> }`. */
const expr = (src: string, opts?: ParseOptions): Expr => {
  const body = rule(`p if {\n${src}\n}`, opts).body;
  assert.equal(body.length, 1);
  return body[0];
};
const str = (t: Term | null | undefined): string => (t ? termString(t) : String(t));
const refText = (ts: Term[]): string => termString({ type: "ref", terms: ts, loc: ts[0].loc });
/** Text of a call expression: `op(args)`. */
const callText = (e: Expr): string => {
  assert.equal(e.node.type, "call");
  const n = e.node as { op: RefTerm; args: Term[] };
  return `${termString(n.op)}(${n.args.map((t) => termString(t)).join(", ")})`;
};
const termOf = (e: Expr): Term => {
  assert.equal(e.node.type, "term");
  return (e.node as { term: Term }).term;
};
/** The first parse error as [message, row, col]. */
function parseError(fn: () => unknown): [string, number, number] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RegoError, `expected RegoError, got ${e}`);
    assert.equal(e.code, "rego_parse_error");
    const d = e.errors[0];
    return [d.message, d.location?.row ?? -1, d.location?.col ?? -1];
  }
  assert.fail("expected a parse error");
}
const moduleError = (body: string, opts?: ParseOptions) => parseError(() => mod(`package test\n${body}\n`, opts));

// ---- lexer ---------------------------------------------------------------------------------

test("lexer: tokens, rows, columns in code points, comments, newline flags", () => {
  const { tokens, comments } = lex('p := "é😀" # note\n  q[x]');
  const kinds = tokens.map((t) => t.kind);
  assert.deepEqual(kinds.slice(0, 3), [T_IDENT, T_ASSIGN, T_STRING]);
  assert.equal(tokens[2].text, "é😀");
  assert.deepEqual(comments, [{ text: " note", row: 1, col: 11 }]);
  const q = tokens[3];
  assert.deepEqual([q.text, q.row, q.col, q.nl], ["q", 2, 3, true]);
  assert.equal(tokens[tokens.length - 1].kind, T_EOF);
  // numbers keep their text; a sign is never part of a number token
  // a byte order mark is skipped; CRLF line ends are plain whitespace
  const bom = parseModule("b.rego", "\ufeffpackage a\r\np := 1\r\n");
  assert.deepEqual([bom.loc.col, bom.rules[0].loc.row, bom.rules[0].loc.col], [1, 2, 1]);
  const n = lex("-12.5e+3").tokens;
  assert.deepEqual([n[0].text, n[1].kind, n[1].text], ["-", T_NUMBER, "12.5e+3"]);
});

test("lexer: string escapes, surrogate pairs and raw strings", () => {
  assert.equal(str(parseTerm(String.raw`"a\"b\\c\/\b\f\n\r\t\u00e9"`)), JSON.stringify('a"b\\c/\b\f\n\r\té'));
  assert.deepEqual(parseTerm(String.raw`"\ud83d\ude00"`), { type: "string", value: "😀", loc: { file: "", row: 1, col: 1 } });
  // a lone surrogate decodes to U+FFFD, as Go's JSON decoder does
  assert.equal((parseTerm(String.raw`"\ud83d"`) as { value: string }).value, "\ufffd");
  const raw = parseTerm("`a\\n\nb`");
  assert.deepEqual(raw, { type: "string", value: "a\\n\nb", raw: true, loc: { file: "", row: 1, col: 1 } });
});

// ---- modules, packages, imports --------------------------------------------------------------

test("package paths become refs under data", () => {
  assert.equal(str(mod("package a.b.c").package), 'data.a.b.c');
  assert.equal(str(mod('package a["b-c"].d').package), 'data.a["b-c"].d');
  const m = mod("package a.if.b");
  assert.deepEqual(m.package.terms.map((t) => (t.type === "var" ? t.name : (t as { value: string }).value)), ["data", "a", "if", "b"]);
  assert.deepEqual(m.loc, { file: "test.rego", row: 1, col: 1 });
  assert.equal(m.regoVersion, "v1");
});

test("imports: data, input, aliases, future keywords, rego.v1", () => {
  const m = mod("package t\nimport data.x.y\nimport input.a as b\nimport future.keywords.in\nimport rego.v1\nimport data.z[\"w-1\"]");
  assert.deepEqual(
    m.imports.map((i) => [str(i.path), i.alias]),
    [["data.x.y", null], ["input.a", "b"], ["future.keywords.in", null], ["rego.v1", null], ['data.z["w-1"]', null]],
  );
  assert.deepEqual(m.imports[1].loc, { file: "test.rego", row: 3, col: 1 });
  assert.equal(mod("package t\nimport rego.v1", { regoVersion: "v0" }).regoVersion, "v1");
  assert.equal(mod("package t\nimport future.keywords", { regoVersion: "v0" }).regoVersion, "v0");
});

test("comments are kept without the '#'", () => {
  const m = mod("# top\npackage t\np := 1 # trailing\n");
  assert.deepEqual(
    m.comments.map((c) => [c.text, c.loc.row, c.loc.col]),
    [[" top", 1, 1], [" trailing", 3, 8]],
  );
});

// ---- terms ---------------------------------------------------------------------------------

test("scalars: numbers keep their literal text, unary minus folds into literals", () => {
  const nums = ["0", "1", "1.5", "1e3", "1.5E-3", "100000000000000000000000000000"];
  for (const n of nums) assert.deepEqual(parseTerm(n), { type: "number", value: n, loc: { file: "", row: 1, col: 1 } });
  assert.equal((parseTerm("- 2.5") as { value: string }).value, "-2.5");
  assert.equal((parseTerm("-\n1") as { value: string }).value, "-1");
  assert.equal(parseTerm("null").type, "null");
  assert.deepEqual(parseTerm("false"), { type: "boolean", value: false, loc: { file: "", row: 1, col: 1 } });
});

test("unary minus before a var, ref or call is minus(0, x)", () => {
  assert.equal(str(parseTerm("-x")), "minus(0, x)");
  assert.equal(str(parseTerm("-x.y[0]")), "minus(0, x.y[0])");
  assert.equal(str(parseTerm("-f(x).y")), "minus(0, f(x).y)");
  assert.equal(str(parseTerm("1 - -2")), "minus(1, -2)");
  assert.equal(str(parseTerm("3 -1")), "minus(3, 1)");
  assert.equal(str(parseTerm("2 * -x")), "mul(2, minus(0, x))");
});

test("refs, calls and composite heads", () => {
  assert.equal(str(parseTerm('a.b[c]["d"][0]')), 'a.b[c].d[0]');
  const r = parseTerm('a.b[c]["d-e"]') as RefTerm;
  assert.deepEqual(r.terms.map((t) => t.type), ["var", "string", "var", "string"]);
  assert.equal(str(parseTerm("data.x[y].z")), "data.x[y].z");
  // bare input and data are refs, as in OPA
  assert.deepEqual(parseTerm("input"), { type: "ref", terms: [{ type: "var", name: "input", loc: { file: "", row: 1, col: 1 } }], loc: { file: "", row: 1, col: 1 } });
  const call = parseTerm("a.b.c(x, 1)") as CallTerm;
  assert.equal(call.type, "call");
  assert.equal(str(call.op), "a.b.c");
  assert.equal(str(parseTerm("f(x).y")), "f(x).y");
  assert.equal((parseTerm("f(x)[0]") as RefTerm).terms[0].type, "call");
  assert.equal((parseTerm("[1,2][0]") as RefTerm).terms[0].type, "array");
  assert.equal((parseTerm('{"a":1}.a') as RefTerm).terms[0].type, "object");
  assert.equal(str(parseTerm("(x).y")), "x.y");
  // keywords are plain names after a dot
  assert.equal(str(parseTerm("input.package.in.not")), "input.package.in.not");
  assert.equal(str(parseTerm("f(1,)")), "f(1)");
});

test("arrays, objects, sets and set()", () => {
  assert.equal(str(parseTerm("[1, [2], {}]")), "[1, [2], {}]");
  assert.deepEqual((parseTerm("{}") as { type: string }).type, "object");
  assert.equal(str(parseTerm('{"a": 1, 2: [x], y: {3}}')), '{"a": 1, 2: [x], y: {3}}');
  assert.equal(parseTerm("{1, 2}").type, "set");
  assert.deepEqual(parseTerm("set()"), { type: "set", items: [], loc: { file: "", row: 1, col: 1 } });
  assert.equal(str(parseTerm("[1,]")), "[1]");
  // OPA tolerates one leading comma
  assert.equal(str(parseTerm("[, 1]")), "[1]");
  assert.equal(str(parseTerm('{, "a": 1}')), '{"a": 1}');
});

test("comprehensions; `|` is `or` unless the head is a single term", () => {
  const a = parseTerm("[x | x := y[_]; x > 1]");
  assert.equal(a.type, "arraycomp");
  if (a.type === "arraycomp") {
    assert.equal(str(a.head), "x");
    assert.equal(a.body.length, 2);
  }
  const s = parseTerm("{x | some x in y}");
  assert.equal(s.type, "setcomp");
  const o = parseTerm("{k + 1: v | v := y[k]}");
  assert.equal(o.type, "objectcomp");
  if (o.type === "objectcomp") assert.equal(str(o.key), "plus(k, 1)");
  assert.equal(str(parseTerm("[a + b | c]")), "[or(plus(a, b), c)]");
  assert.equal(str(parseTerm("{a: b + 1 | c}")), "{a: or(plus(b, 1), c)}");
  // a comprehension that cannot end is retried as an array: `[a | b, 4]`
  assert.equal(str(parseTerm("[a | b, 4]")), "[or(a, b), 4]");
  assert.equal(parseTerm("[x | y\nz]").type, "arraycomp");
});

test("operator precedence matches OPA", () => {
  const cases: [string, string][] = [
    ["1 + 2 * 3", "plus(1, mul(2, 3))"],
    ["1 - 2 - 3", "minus(minus(1, 2), 3)"],
    ["1 / 2 % 3", "rem(div(1, 2), 3)"],
    ["a | b & c", "or(a, and(b, c))"],
    ["1 & 2 + 3", "and(1, plus(2, 3))"],
    ["1 == 2 | 3", "equal(1, or(2, 3))"],
    ["a == b != c", "neq(equal(a, b), c)"],
    ["a < b <= c", "lte(lt(a, b), c)"],
    ["x in xs == true", "internal.member_2(x, equal(xs, true))"],
    ["x == 1 in xs", "internal.member_2(equal(x, 1), xs)"],
    ["x in xs | ys", "internal.member_2(x, or(xs, ys))"],
    ["x in y in z", "internal.member_2(internal.member_2(x, y), z)"],
    ["(1 + 2) * 3", "mul(plus(1, 2), 3)"],
  ];
  for (const [src, want] of cases) assert.equal(str(parseTerm(src)), want, src);
  const ops = ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "&", "|"];
  const names = ["equal", "neq", "lt", "lte", "gt", "gte", "plus", "minus", "mul", "div", "rem", "and", "or"];
  ops.forEach((op, i) => assert.equal(str(parseTerm(`a ${op} b`)), `${names[i]}(a, b)`));
});

test("template strings desugar to internal.template_string", () => {
  const t = parseTerm('$"Hello {input.name}, \\{ {x + 1}!"') as CallTerm;
  assert.equal(str(t.op), "internal.template_string");
  const parts = (t.args[0] as { items: Term[] }).items;
  assert.deepEqual(parts.map((p) => p.type), ["string", "setcomp", "string", "setcomp", "string"]);
  assert.equal((parts[2] as { value: string }).value, ", { ");
  const comp = parts[1];
  if (comp.type !== "setcomp") assert.fail();
  assert.equal(str(comp.head), "$tpl0");
  assert.equal(callText(comp.body[0]), "eq($tpl0, input.name)");
  assert.deepEqual(moduleError('p := $"{x := 1}"'), ["unexpected assignment (':=') in template-string expression", 2, 9]);
});

// ---- expressions ---------------------------------------------------------------------------

test("expressions: term, call, =, :=, not, with", () => {
  assert.equal(termOf(expr("input.x")).type, "ref");
  assert.equal(callText(expr("x = y")), "eq(x, y)");
  assert.equal(callText(expr("x := [1]")), "assign(x, [1])");
  assert.equal(callText(expr("count(x, n)")), "count(x, n)");
  assert.equal(callText(expr("x == 1")), "equal(x, 1)");
  assert.equal(callText(expr("x in xs")), "internal.member_2(x, xs)");
  assert.equal(callText(expr("k, v in xs")), "internal.member_3(k, v, xs)");
  assert.equal(callText(expr("x := k, v in xs")), "assign(x, internal.member_3(k, v, xs))");
  assert.equal(callText(expr("[k, v in xs] = y")), "eq([k, internal.member_2(v, xs)], y)");
  const n = expr("not f(x)");
  assert.equal(n.negated, true);
  assert.equal(callText(n), "f(x)");
  const w = expr("x with input.a as 1 with data.b as {2} with f as g");
  assert.deepEqual(w.with.map((x) => [str(x.target), str(x.value)]), [["input.a", "1"], ["data.b", "{2}"], ["f", "g"]]);
  assert.equal(w.with[2].target.type, "ref"); // a bare function name is wrapped in a ref
  // infix operators continue over newlines; refs and calls need adjacent tokens
  assert.equal(callText(expr("x := 1\n+ 2")), "assign(x, plus(1, 2))");
  assert.equal(rule("p if {\nx := a\n[0]\n}").body.length, 2);
});

test("some, some-in and every", () => {
  assert.deepEqual(expr("some x, y").node, {
    type: "some",
    vars: [
      { type: "var", name: "x", loc: { file: "test.rego", row: 3, col: 6 } },
      { type: "var", name: "y", loc: { file: "test.rego", row: 3, col: 9 } },
    ],
  });
  const s1 = expr("some x in xs").node;
  assert.equal(s1.type, "somein");
  if (s1.type === "somein") assert.deepEqual([s1.key, str(s1.value), str(s1.collection)], [null, "x", "xs"]);
  const s2 = expr('some k, {"a": v} in a | b').node;
  if (s2.type !== "somein") assert.fail();
  assert.deepEqual([str(s2.key), str(s2.value), str(s2.collection)], ["k", '{"a": v}', "or(a, b)"]);
  const e = expr("every k, v in {1, 2} { k > 0; v }");
  if (e.node.type !== "every") assert.fail();
  assert.deepEqual([str(e.node.key), str(e.node.value), str(e.node.domain), e.node.body.length], ["k", "v", "{1, 2}", 2]);
  const e2 = expr("every x in xs { x }").node;
  if (e2.type !== "every") assert.fail();
  assert.equal(e2.key, null);
});

test("v0 modules: if/in/every/contains are names until imported", () => {
  assert.equal(callText(expr("contains(x, \"a\")")), 'contains(x, "a")');
  const v0 = rules("p { in := 1; every := 2; if := 3 }", { regoVersion: "v0" });
  assert.equal(v0[0].body.length, 3);
  const withIn = rules("import future.keywords.in\np { some x in [1] }", { regoVersion: "v0" });
  assert.equal(withIn[0].body[0].node.type, "somein");
  assert.deepEqual(moduleError("p { x in [1] }", { regoVersion: "v0" }), ["unexpected identifier token: expected \\n or ; or }", 2, 7]);
});

test("keywords heading refs (OPA's keywords_in_refs)", () => {
  assert.equal(str(termOf(expr("not.foo"))), "not.foo");
  assert.equal(callText(expr("import.x == 1")), "equal(import.x, 1)");
  assert.equal(str(termOf(expr("true.x"))), "true.x");
  assert.deepEqual(head(rule("as[0] := 1")), { kind: "single", ref: "as[0]", value: "1", assign: true });
  assert.deepEqual(head(rule("default.x := 1")), { kind: "single", ref: "default.x", value: "1", assign: true });
  assert.equal(rule("default not.x := 1").isDefault, true);
  // a keyword followed by `.` or `[` is a name, so these are not `with`, `else` or `if`
  assert.equal(rules("p if { input.x }\nwith.foo := 1\nelse.bar := 2\nif.baz := 3").length, 4);
  assert.deepEqual(moduleError("p if { x := not.foo }"), ["unexpected not keyword", 2, 13]);
  assert.deepEqual(moduleError("p if { x in[1] }"), ["unexpected identifier token: expected \\n or ; or }", 2, 10]);
});

test("`not { … }` bodies with future.keywords.not", () => {
  const r = rule("import future.keywords.not\np if {\n  not {\n    input.x\n    input.y\n  } with input as {}\n}");
  const e = r.body[0];
  assert.equal(e.negated, true);
  assert.equal(e.with.length, 1);
  const t = termOf(e) as RefTerm;
  assert.equal(t.terms[0].type, "setcomp");
  assert.equal(str(t.terms[1]), "true");
  if (t.terms[0].type === "setcomp") assert.equal(t.terms[0].body.length, 2);
  // without the import, the braces are a set
  assert.equal(termOf(expr("not {input.x}")).type, "set");
});

// ---- rules ---------------------------------------------------------------------------------

type HeadSummary = { kind: string; ref: string; args?: string[]; key?: string; value?: string; assign: boolean };
const head = (r: Rule): HeadSummary => {
  const h = r.head;
  const out: HeadSummary = { kind: h.kind, ref: refText(h.ref), assign: h.assign };
  if (h.args) out.args = h.args.map((t) => termString(t));
  if (h.key) out.key = termString(h.key);
  if (h.value) out.value = termString(h.value);
  return out;
};

test("v1 rule forms", () => {
  const cases: [string, HeadSummary, number][] = [
    ["p := 1", { kind: "single", ref: "p", value: "1", assign: true }, 0],
    ["p = 1", { kind: "single", ref: "p", value: "1", assign: false }, 0],
    ["p if { true }", { kind: "single", ref: "p", value: "true", assign: false }, 1],
    ["p if input.x", { kind: "single", ref: "p", value: "true", assign: false }, 1],
    ["p := x if { x := 1 }", { kind: "single", ref: "p", value: "x", assign: true }, 1],
    ["p := 1 if true", { kind: "single", ref: "p", value: "1", assign: true }, 1],
    ["p contains x if { x := 1 }", { kind: "multi", ref: "p", key: "x", assign: false }, 1],
    ["p contains 1", { kind: "multi", ref: "p", key: "1", assign: false }, 0],
    ["p[k] := v if { k := 1; v := 2 }", { kind: "single", ref: "p[k]", value: "v", assign: true }, 2],
    ["p[x] if { x := 1 }", { kind: "single", ref: "p[x]", value: "true", assign: false }, 1],
    ["p.q.r := 1", { kind: "single", ref: "p.q.r", value: "1", assign: true }, 0],
    ["a.b[x].c contains y if { x := 1; y := 2 }", { kind: "multi", ref: "a.b[x].c", key: "y", assign: false }, 2],
    ["f(x, y) := z if { z := x + y }", { kind: "function", ref: "f", args: ["x", "y"], value: "z", assign: true }, 1],
    ["f(x) = y if { y := x }", { kind: "function", ref: "f", args: ["x"], value: "y", assign: false }, 1],
    ["f(x) if x", { kind: "function", ref: "f", args: ["x"], value: "true", assign: false }, 1],
    ["a.b.f([x, _]) := x", { kind: "function", ref: "a.b.f", args: ["[x, _]"], value: "x", assign: true }, 0],
    // No arguments: a plain rule, as in OPA (`opa eval` gives data.p.f == 1).
    ["f() := 1", { kind: "single", ref: "f", value: "1", assign: true }, 0],
  ];
  for (const [src, want, bodyLen] of cases) {
    const r = rule(src);
    assert.deepEqual(head(r), want, src);
    assert.equal(r.body.length, bodyLen, src);
    assert.equal(r.hasBody, bodyLen > 0, src);
    assert.deepEqual(r.loc, { file: "test.rego", row: 2, col: 1 });
  }
});

test("default rules", () => {
  const d = rule("default p := false");
  assert.deepEqual([d.isDefault, d.hasBody, d.body.length, head(d)], [true, false, 0, { kind: "single", ref: "p", value: "false", assign: true }]);
  assert.deepEqual(head(rule("default f(_) := 1")), { kind: "function", ref: "f", args: ["_"], value: "1", assign: true });
  assert.deepEqual(head(rule("default p = {x | x := 1}")), { kind: "single", ref: "p", value: "{x | ...}", assign: false });
  assert.deepEqual(head(rule("default p")), { kind: "single", ref: "p", value: "true", assign: false });
  assert.deepEqual(moduleError("default a = [x]"), ["illegal default rule (value cannot contain var)", 2, 1]);
  assert.deepEqual(moduleError("default a := 1 + 2"), ["illegal default rule (value cannot contain call)", 2, 1]);
  assert.deepEqual(moduleError("default f(1) := 1"), ["illegal default rule (arguments cannot contain number)", 2, 1]);
});

test("else chains", () => {
  const r = rule("p := 1 if { false } else := 2 if { input.x } else = 3 if true else if { true }\nelse := 4");
  assert.deepEqual(
    r.elses.map((e) => [str(e.value), e.body.length, e.loc.col]),
    [["2", 1, 21], ["3", 1, 46], ["true", 1, 63], ["4", 0, 1]],
  );
  const f = rule("f(x) := 1 if { x } else := 2");
  assert.equal(f.elses.length, 1);
  const v0 = rule("p = 1 { false } else = 2 { true } else { true }", { regoVersion: "v0" });
  assert.deepEqual(v0.elses.map((e) => str(e.value)), ["2", "true"]);
});

test("v0 rule forms and multiple bodies", () => {
  const v0 = (src: string) => rules(src, { regoVersion: "v0" });
  assert.deepEqual(head(v0("p { true }")[0]), { kind: "single", ref: "p", value: "true", assign: false });
  assert.deepEqual(head(v0("p[x] { x := 1 }")[0]), { kind: "multi", ref: "p", key: "x", assign: false });
  assert.deepEqual(head(v0("p.q { true }")[0]), { kind: "multi", ref: "p", key: '"q"', assign: false });
  assert.deepEqual(head(v0('p["a"]')[0]), { kind: "multi", ref: "p", key: '"a"', assign: false });
  assert.deepEqual(head(v0("p[k] = v { k := 1; v := 2 }")[0]), { kind: "single", ref: "p[k]", value: "v", assign: false });
  assert.deepEqual(head(v0("a.b[x] { x := 1 }")[0]), { kind: "single", ref: "a.b[x]", value: "true", assign: false });
  assert.deepEqual(head(v0("f(x) { x }")[0]), { kind: "function", ref: "f", args: ["x"], value: "true", assign: false });
  // with rego.v1 imported, `p[x] if` is a single-value ref head, as in v1
  assert.deepEqual(head(v0("import rego.v1\np[x] if { x := 1 }")[0]), { kind: "single", ref: "p[x]", value: "true", assign: false });
  const multi = v0("p = 1 { input.a } { input.b }");
  assert.equal(multi.length, 2);
  assert.deepEqual(multi.map((r) => str(termOf(r.body[0]))), ["input.a", "input.b"]);
  assert.deepEqual(multi.map(head), [head(multi[0]), head(multi[0])]);
  assert.notEqual(multi[0].head, multi[1].head);
  assert.equal(rules("p := 1 if { input.a } { input.b }").length, 2);
  // OPA accepts a space between a head's name and its first ( or [
  assert.deepEqual(head(v0("sum (a, b) := c { c := a + b }")[0]).args, ["a", "b"]);
});

test("`if {` is a term expression unless it reads as a plain set", () => {
  assert.equal(termOf(rule("p if {}").body[0]).type, "object");
  assert.equal(termOf(rule('p if {"a": 1}').body[0]).type, "object");
  assert.equal(termOf(rule("p if {x | y}").body[0]).type, "setcomp");
  assert.equal(callText(rule("p if {1} == {1}").body[0]), "equal({1}, {1})");
  assert.equal(str(termOf(rule("p if { 1 }").body[0])), "1");
  assert.equal(rule("p if { x\ny }").body.length, 2);
});

test("locations: rules, expressions and terms", () => {
  const m = mod('package t\n\n  p := x if {\n\ty := "é"; x := y\n}\n');
  const r = m.rules[0];
  assert.deepEqual(r.loc, { file: "test.rego", row: 3, col: 3 });
  assert.deepEqual(r.head.loc, r.loc);
  assert.deepEqual(r.body.map((e) => [e.loc.row, e.loc.col]), [[4, 2], [4, 12]]);
  const second = r.body[1].node as { op: RefTerm; args: Term[] };
  assert.deepEqual(second.op.loc, { file: "test.rego", row: 4, col: 14 });
  assert.deepEqual(second.args[1].loc, { file: "test.rego", row: 4, col: 17 });
  const plus = parseTerm("a +\n b") as CallTerm;
  assert.deepEqual([plus.loc.row, plus.loc.col, plus.op.loc.col, plus.args[1].loc.row], [1, 1, 3, 2]);
});

// ---- annotations ---------------------------------------------------------------------------

test("METADATA annotations", () => {
  const src = [
    "# METADATA",
    "# title: pkg",
    "# scope: subpackages",
    "package a",
    "",
    "# METADATA",
    "# title: rule p",
    "# description: |",
    "#   multi",
    "#   line",
    "# authors:",
    "# - Jane Doe <jane@example.com>",
    "# related_resources:",
    "# - https://example.com",
    "# custom:",
    "#   severity: high",
    "p := 1",
    "",
    "# METADATA",
    "# entrypoint: true",
    "q := 2",
  ].join("\n");
  const m = mod(src);
  assert.deepEqual(m.annotations.map((a) => [a.scope, a.title, a.loc.row]), [["subpackages", "pkg", 1]]);
  const [p, q] = m.rules;
  assert.equal(p.annotations.length, 1);
  const a = p.annotations[0];
  assert.deepEqual(
    { scope: a.scope, title: a.title, description: a.description, custom: a.custom, authors: a.authors, related: a.related_resources },
    {
      scope: "rule",
      title: "rule p",
      description: "multi\nline\n",
      custom: { severity: "high" },
      authors: [{ name: "Jane Doe", email: "jane@example.com" }],
      related: [{ ref: "https://example.com" }],
    },
  );
  assert.deepEqual([q.annotations[0].scope, q.annotations[0].entrypoint], ["document", true]);
  assert.deepEqual(mod("# METADATA\n# title: x\npackage a").annotations[0].scope, "package");
  assert.deepEqual(parseError(() => mod("package a\n# METADATA\n# scope: package\np := 1")), ["annotation scope 'package' must be applied to package (have rule)", 2, 1]);
  assert.deepEqual(parseError(() => mod("package a\n# METADATA\n# scope: bogus\np := 1")), ["invalid annotation scope 'bogus'. Use one of 'rule', 'document', 'package', or 'subpackages'", 2, 1]);
});

// ---- queries and single terms --------------------------------------------------------------

test("parseQuery and parseTerm", () => {
  const q = parseQuery("data.test.p = x; y := 1\nnot z with input as {}", { file: "q" });
  assert.equal(q.length, 3);
  assert.equal(callText(q[0]), "eq(data.test.p, x)");
  assert.deepEqual(q[2].loc, { file: "q", row: 2, col: 1 });
  assert.equal(q[2].with.length, 1);
  assert.equal(parseQuery("x in [1]")[0].node.type, "call");
  assert.deepEqual(parseError(() => parseQuery("[1][_] = x;")), ["unexpected eof token", 1, 11]);
  assert.deepEqual(parseError(() => parseQuery("")), ["empty query", 1, 0]);
  assert.equal(str(parseTerm('{"foo": 1}')), '{"foo": 1}');
  assert.deepEqual(parseError(() => parseTerm("1 2")), ["unexpected number token", 1, 3]);
});

// ---- errors --------------------------------------------------------------------------------

test("parse errors match OPA's messages and locations", () => {
  const cases: [string, [string, number, number], ParseOptions?][] = [
    ["p { true }", ["`if` keyword is required before rule body", 2, 1]],
    ["f(x) { true }", ["`if` keyword is required before function body", 2, 1]],
    ["p.q", ["`contains` keyword is required for partial set rules", 2, 1]],
    ["p.q.r", ["rule must have value assignment and/or body declaration", 2, 1]],
    ["p", ["var cannot be used for rule name", 2, 1]],
    ["[1]", ["array cannot be used for rule name", 2, 1]],
    ["f(x).y := 1", ["invalid rule head: f(x).y", 2, 1]],
    ["p := 1 }", ["unexpected } token", 2, 8]],
    ["p := [1, 2", ['unexpected eof token: expected "," or "]"', 3, 0]],
    ["p if { x := 1 2 }", ["unexpected number token: expected \\n or ; or }", 2, 15]],
    ["p if { x; }", ["unexpected } token", 2, 11]],
    ["p if { [x | ] }", ["found empty body", 2, 13]],
    ["p if { {1 2} }", ["unexpected number token: non-terminated set", 2, 11]],
    ["p if { not some x in y }", ["unexpected some keyword: illegal negation of 'some'", 2, 12]],
    ["p if { every x in xs {} }", ["found empty body", 2, 23]],
    ["p if { x := a. b }", ["unexpected whitespace token: expected identifier", 2, 15]],
    ["p if { x := if }", ["unexpected if keyword", 2, 13]],
    ["p if { x = y = z }", ["unexpected eq token: expected \\n or ; or }", 2, 14]],
    ["p := (1 = 2)", ["non-terminated expression", 2, 9]],
    ["p := -\"a\"", ["unexpected string token: expected number", 2, 7]],
    ["p := 01", ["unexpected number token: expected number without leading zero", 2, 6]],
    ["p := 1.", ["expected fraction", 2, 6]],
    ['p := "abc', ["non-terminated string", 2, 6]],
    ['p := "a\\qb"', ["illegal escape sequence", 2, 6]],
    ["p := 1e400000", ["number too big", 2, 6]],
    ["p := @", ["illegal token", 2, 6]],
    ["p := 1; q := 2", ["multiple expressions cannot be used for rule head", 2, 1]],
    // A statement read as an expression, with `with` modifiers (opa check 1.19.0, each):
    ["p := 1 with input as {}", ["expressions using with keyword cannot be used for rule head", 2, 1]],
    ["f(x) := 1 with input as 1 with data.x as 2", ["expressions using with keyword cannot be used for rule head", 2, 1]],
    ["p with input as 1", ["expressions using with keyword cannot be used for rule head", 2, 1]],
    ["x == 1 with input as 1", ["expressions using with keyword cannot be used for rule head", 2, 1]],
    ["p := 1 with input as {}; q := 2", ["multiple expressions cannot be used for rule head", 2, 1]],
    ["p := 1 with input\nz := 1", ["unexpected identifier token: expected as keyword", 3, 1]],
    ["p contains 1 with input as 1", ["unexpected with keyword", 2, 14]],
    ["default p := 1 with input as 2", ["unexpected with keyword", 2, 16]],
    ["p := 1 else := 2", ["unexpected else keyword", 2, 8]],
    ["p[x] := 1 if { x := 1 } else := 2", ["else keyword cannot be used on rules with variables in head", 2, 25]],
    ["p(x) contains 1", ["unexpected contains keyword: the contains keyword can only be used with multi-value rule definitions (e.g., p contains <VALUE> { ... })", 2, 6]],
    ["default a contains 1", ["illegal default rule (must have a value)", 2, 1]],
    ["import foo", ["unexpected import path, must begin with one of: {data, future, input, rego}, got: foo (hint: if this is unexpected, try updating OPA)", 2, 8]],
    ["import rego.v2", ["invalid import `rego.v2`, must be `rego.v1`", 2, 8]],
    ["import future.keywords.in as x", ["`future` imports cannot be aliased", 2, 8]],
    ["package b", ["unexpected package", 2, 1]],
    ["p if { true }", ["var cannot be used for rule name", 2, 1], { regoVersion: "v0" }],
    ["p[x] { x := 1 } else { true }", ["else keyword cannot be used on multi-value rules", 2, 17], { regoVersion: "v0" }],
  ];
  for (const [src, want, opts] of cases) assert.deepEqual(moduleError(src, opts), want, src);
  assert.deepEqual(parseError(() => mod("")), ["empty module", 0, 0]);
  // syntax errors come before rule-shape errors, wherever they are
  assert.deepEqual(moduleError("p\nq := ]"), ["unexpected ] token", 3, 6]);
  assert.deepEqual(moduleError("x == 1"), ["rule name conflicts with built-in function", 2, 1]);
  assert.deepEqual(moduleError("p : 1"), ["unexpected : token", 2, 3]);
  assert.deepEqual(moduleError("import data.foo.not"), ["unexpected import path, must not end with a keyword, got: not (hint: import a different path or use an alias)", 2, 17]);
  assert.deepEqual(parseError(() => mod("p := 1")), ["package expected", 1, 1]);
});

test("parsing stops at the first broken statement, as OPA's parser does (opa check: 1 error, row 2)", () => {
  try {
    mod("package t\np := 1 }\nq := 2\nr := ]\n");
    assert.fail("expected errors");
  } catch (e) {
    assert.ok(e instanceof RegoError);
    assert.deepEqual(e.errors.map((d) => [d.message, d.location?.row]), [["unexpected } token", 2]]);
    assert.match(e.message, /^1 error occurred:/);
  }
});

// ---- data-driven: shared Gatekeeper library and conformance suites --------------------------

const shared = fileURLToPath(new URL("../../../shared", import.meta.url));

function walk(dir: string, accept: (name: string) => boolean, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, accept, out);
    else if (accept(name)) out.push(p);
  }
  return out;
}

test("every Gatekeeper library module parses", (t) => {
  const lib = join(shared, "gatekeeper-library", "library");
  if (!existsSync(lib)) {
    t.skip("../shared is absent");
    return;
  }
  let total = 0;
  const failures: string[] = [];
  const tryParse = (where: string, src: unknown, version: "v0" | "v1") => {
    if (typeof src !== "string") return;
    total++;
    try {
      parseModule(where, src, { regoVersion: version });
    } catch (e) {
      failures.push(`${where}: ${(e as Error).message}`);
    }
  };
  for (const file of walk(lib, (n) => n === "template.yaml")) {
    const doc = loadYaml(readFileSync(file, "utf8")) as { spec?: { targets?: Record<string, unknown>[] } };
    for (const target of doc.spec?.targets ?? []) {
      tryParse(`${file} rego`, target.rego, "v0");
      for (const lib of (target.libs as unknown[]) ?? []) tryParse(`${file} libs`, lib, "v0");
      for (const code of (target.code as Record<string, unknown>[]) ?? []) {
        if (code.engine !== "Rego") continue;
        const source = (code.source ?? {}) as Record<string, unknown>;
        const version = source.version === "v1" ? "v1" : "v0";
        tryParse(`${file} code.rego`, source.rego, version);
        for (const lib of (source.libs as unknown[]) ?? []) tryParse(`${file} code.libs`, lib, version);
      }
    }
  }
  t.diagnostic(`gatekeeper modules: ${total - failures.length}/${total} parse`);
  assert.ok(total > 0);
  assert.deepEqual(failures, []);
});

// regorus cases that regorus accepts but OPA rejects (OPA is the reference): v0 modules using
// `if` without importing it.
const REGORUS_OPA_REJECTS = new Set(["refr/keywords_in_refs.yaml#0"]);

test("every conformance module parses (or fails where a parse error is expected)", (t) => {
  const root = join(shared, "conformance");
  if (!existsSync(root)) {
    t.skip("../shared is absent");
    return;
  }
  const summary: string[] = [];
  const disagreements: string[] = [];
  for (const suite of ["opa", "rego-cpp", "regorus"]) {
    const dir = join(root, suite);
    if (!existsSync(dir)) continue;
    let total = 0;
    let agree = 0;
    for (const file of walk(dir, (n) => n.endsWith(".yaml") || n.endsWith(".yml"))) {
      const rel = file.slice(dir.length + 1);
      const doc = loadYaml(readFileSync(file, "utf8")) as { cases?: Record<string, unknown>[] } | null;
      const version = suite === "regorus" && rel !== "binding/bindings.yaml" ? "v0" : "v1";
      (doc?.cases ?? []).forEach((c, ci) => {
        const wantsParseError = c.want_error_code === "rego_parse_error";
        // regorus's `error` cases may fail at any stage, so either outcome is acceptable there.
        const mayFail = suite === "regorus" && (c.error !== undefined || REGORUS_OPA_REJECTS.has(`${rel}#${ci}`));
        for (const [mi, src] of ((c.modules as unknown[]) ?? []).entries()) {
          if (typeof src !== "string") continue;
          total++;
          let err: unknown = null;
          try {
            parseModule(`test-${mi}.rego`, src, { regoVersion: version });
          } catch (e) {
            err = e;
          }
          if (err !== null && !(err instanceof RegoError)) throw err;
          const ok = wantsParseError ? err !== null : err === null || mayFail;
          if (ok) agree++;
          else disagreements.push(`${suite}/${rel} case ${ci} (${c.note}) module ${mi}: ${err ? (err as Error).message : "parsed, but a parse error was expected"}`);
        }
      });
    }
    summary.push(`${suite}: ${agree}/${total}`);
  }
  t.diagnostic(`conformance modules agreeing with the expected parse outcome: ${summary.join(", ")}; disagreements: ${disagreements.length}`);
  assert.deepEqual(disagreements, []);
});
