// Rego module generation: seeded mutations of real modules (token, byte and line edits,
// splicing between seeds, edge literals) and structural generators ("recipes") that build deep or
// huge modules from a single size parameter, so that a failing recipe can be shrunk by bisecting
// that parameter.

import { Rng } from "./rng.ts";
import { regoSeeds, type RegoSeed } from "./corpus.ts";
import { NASTY_CHARS, NUMBER_TEXTS } from "./values.ts";
import { OPA_BUILTINS as BUILTINS } from "../../src/builtins/index.ts";

export interface RegoCase {
  target: "rego";
  /** Modules, added together to a fresh Engine. Absent when `recipe` builds the only module. */
  modules?: string[];
  recipe?: { gen: string; n: number };
  regoVersion: "v0" | "v1";
  queries: string[];
  input?: unknown;
  data?: unknown;
  /** How the case was made (for reports only). */
  how: string;
}

export const DEFAULT_INPUT = {
  kind: "Pod",
  apiVersion: "v1",
  metadata: { name: "web", namespace: "default", labels: { app: "web" } },
  spec: { containers: [{ name: "c", image: "nginx:latest", ports: [{ containerPort: 80 }] }], hostNetwork: false },
  a: { b: [1, 2, 3], c: "x" },
  request: { object: { metadata: { name: "x" } } },
};

// ---- Recipes: one size parameter → one module ------------------------------------------------

const rep = (s: string, n: number) => s.repeat(Math.max(0, n));

function chain(n: number, f: (i: number) => string, sep = "\n"): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(f(i));
  return parts.join(sep);
}

/** Each recipe is a pure function of n. */
export const RECIPES: Record<string, (n: number) => string> = {
  arrays: (n) => `package p\nx := ${rep("[", n)}1${rep("]", n)}`,
  objects: (n) => `package p\nx := ${rep('{"a": ', n)}1${rep("}", n)}`,
  sets: (n) => `package p\nx := ${rep("{", n)}1${rep("}", n)}`,
  parens: (n) => `package p\nx := ${rep("(", n)}1${rep(")", n)}`,
  calls: (n) => `package p\nx := ${rep("abs(", n)}1${rep(")", n)}`,
  userCalls: (n) => `package p\nf(a) := a\nx := ${rep("f(", n)}1${rep(")", n)}`,
  arrayCompr: (n) => `package p\nx := ${chain(n, (i) => `[v${i} | v${i} := `, "")}1${rep("]", n)}`,
  setCompr: (n) => `package p\nx := ${chain(n, (i) => `{v${i} | v${i} := `, "")}1${rep("}", n)}`,
  objCompr: (n) => `package p\nx := ${chain(n, (i) => `{"k": v${i} | v${i} := `, "")}1${rep("}", n)}`,
  sums: (n) => `package p\nx := ${chain(n + 1, () => "1", " + ")}`,
  mixedOps: (n) => `package p\nx := 1${chain(n, (i) => ` ${["+", "-", "*", "/", "%"][i % 5]} ${(i % 9) + 1}`, "")}`,
  comparisons: (n) => `package p\nx if { ${chain(n + 1, (i) => String(i), " < ")} }`,
  unions: (n) => `package p\nx := ${chain(n + 1, (i) => `{${i}}`, " | ")}`,
  inputPath: (n) => `package p\nx := input${rep(".a", n)}`,
  bracketPath: (n) => `package p\nx := input${rep("[0]", n)}`,
  dataPath: (n) => `package p\nx := data${rep(".q", n)}`,
  packagePath: (n) => `package ${chain(n + 1, () => "a", ".")}\nx := 1`,
  importPath: (n) => `package p\nimport data${rep(".a", n)}\nx := 1`,
  ruleChain: (n) => `package p\n${chain(n, (i) => `r${i} := r${i + 1}`)}\nr${n} := 1`,
  ruleChainRev: (n) => `package p\nr${n} := 1\n${chain(n, (i) => `r${n - 1 - i} := r${n - i}`)}`,
  fnChain: (n) => `package p\n${chain(n, (i) => `f${i}(a) := f${i + 1}(a)`)}\nf${n}(a) := a\nx := f0(1)`,
  recursionCycle: (n) => `package p\n${chain(n + 1, (i) => `r${i} := r${(i + 1) % (n + 1)}`)}`,
  manyRules: (n) => `package p\n${chain(n, (i) => `r${i} := ${i}`)}`,
  manyContains: (n) => `package p\n${chain(n, (i) => `s contains ${i}`)}`,
  manyDefaults: (n) => `package p\n${chain(n, (i) => `default d${i} := ${i}`)}`,
  elseChain: (n) => `package p\nf(a) := 0 if { a == 0 }${chain(n, (i) => ` else := ${i + 1} if { a == ${i + 1} }`, "")}\nx := f(${n})`,
  longBody: (n) => `package p\nx if {\n  a0 := 1\n${chain(n, (i) => `  a${i + 1} := a${i}`)}\n}`,
  unifyChain: (n) => `package p\nx if {\n${chain(n, (i) => `  b${i} = b${i + 1}`)}\n  b${n} = 1\n}`,
  everyNest: (n) => `package p\nx if { ${chain(n, (i) => `every e${i} in [1] { `, "")}true${rep(" }", n)} }`,
  someNest: (n) => `package p\nx if { ${chain(n, (i) => `some s${i} in [${i}]`, "; ")} }`,
  withChain: (n) => `package p\ny := input\nx := y ${chain(n, (i) => `with input.k${i} as ${i}`, " ")}`,
  withNested: (n) => `package p\nq := input.a\nx := q with input.a as ${rep("[", n)}1${rep("]", n)}`,
  unifyDeep: (n) => `package p\nx if { ${rep("[", n)}v${rep("]", n)} = ${rep("[", n)}1${rep("]", n)} }`,
  notMany: (n) => `package p\nx if {\n${chain(n, (i) => `  not input.k${i}`)}\n}`,
  templateNest: (n) => `package p\nx := ${rep('$"{', n)}1${rep('}"', n)}`,
  bigString: (n) => `package p\nx := "${rep("a", n * 100)}"`,
  bigRawString: (n) => `package p\nx := \`${rep("b\n", n * 50)}\``,
  bigNumber: (n) => `package p\nx := ${rep("9", n * 10)}`,
  bigFraction: (n) => `package p\nx := 0.${rep("0", n * 10)}1`,
  bigExponent: (n) => `package p\nx := 1e${n * 1000}`,
  bigNegExponent: (n) => `package p\nx := 1e-${n * 1000}`,
  bigArithmetic: (n) => `package p\nx := ${rep("9", n)} * ${rep("9", n)} + 0.${rep("1", n)}`,
  bigArray: (n) => `package p\nx := [${chain(n * 10, () => "1", ",")}]`,
  bigSet: (n) => `package p\nx := {${chain(n * 10, (i) => String(i), ",")}}`,
  bigObject: (n) => `package p\nx := {${chain(n * 10, (i) => `"k${i}": ${i}`, ",")}}`,
  longIdent: (n) => `package p\n${rep("v", n * 10)} := 1`,
  manyComments: (n) => `package p\n${rep("# comment\n", n * 10)}x := 1`,
  manyNewlines: (n) => `package p\n${rep("\n", n * 10)}x := 1${rep(";", n)}`,
  escapes: (n) => `package p\nx := "${rep("\\u00e9\\n\\t\\\\\\\"", n)}"`,
  refArgs: (n) => `package p\nx := input[${rep("[", n)}0${rep("]", n)}]`,
  objectKeysDeep: (n) => `package p\nx := {${rep("[", n)}1${rep("]", n)}: 1}`,
  negations: (n) => `package p\nx := ${rep("-", n)}1`,
  funcArgsMany: (n) => `package p\nf(${chain(n, (i) => `a${i}`, ", ")}) := 1\nx := f(${chain(n, (i) => String(i), ", ")})`,
  ruleRefHead: (n) => `package p\na${rep(".b", n)} := 1`,
  ruleRefHeadVar: (n) => `package p\na${chain(n, (i) => `[k${i}]`, "")} := 1 if { ${chain(n, (i) => `k${i} := ${i}`, "; ")} }`,
  walkDeep: (n) => `package p\nx := count([p | walk(${rep("[", n)}1${rep("]", n)}, [p, _])])`,
  jsonDeep: (n) => `package p\nx := json.unmarshal(\`${rep("[", n)}1${rep("]", n)}\`)`,
  printDeep: (n) => `package p\nx := sprintf("%v", [${rep("[", n)}1${rep("]", n)}])`,
  comprehensionJoin: (n) => `package p\nx := count([1 | ${chain(Math.min(n, 8), (i) => `some a${i} in numbers.range(1, ${n})`, "; ")}])`,
  recursiveFn: (n) => `package p\nf(a) := f(a + 1) if { a < ${n} }\nx := f(0)`,
  mutualFns: (n) => `package p\ng(a) := h(a)\nh(a) := g(a)\nx := g(${n})`,
};

export const RECIPE_NAMES = Object.keys(RECIPES);

// ---- Mutation -----------------------------------------------------------------------------

const TOKEN_RE = /\s+|#[^\n]*|"(?:[^"\\\n]|\\.)*"|`[^`]*`|[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|:=|==|!=|<=|>=|[\s\S]/g;

export function tokenize(src: string): string[] {
  return src.match(TOKEN_RE) ?? [];
}

const KEYWORDS = [
  "package", "import", "default", "not", "with", "as", "some", "every", "in", "if", "contains", "else",
  "true", "false", "null", "data", "input", "rego.v1", "future.keywords", "future.keywords.in", "_",
];
const PUNCT = [
  "{", "}", "[", "]", "(", ")", ",", ";", ":", ".", "|", "&", "=", ":=", "==", "!=", "<", ">", "<=", ">=",
  "+", "-", "*", "/", "%", "\n", " ", "$", '"', "`", "#", "\\", '$"', "$`",
];
const SNIPPETS = [
  "[_]", "some x in input", "x := 1", "every x in [1] { x }", "not input.x", "with input as {}", "with data.p as 1",
  "{x | x := 1}", "[x | some x in [1,2]]", '{"a": 1}', "set()", "{1, 2}", "f(x) := x", "p contains x if { x := 1 }",
  "default p := 1", "p.q.r := 1", 'p[x] := 1 if { x := "a" }', 'import data.a.b as c', "import future.keywords",
  "import rego.v1", "else := 2", "print(x)", "x = y", "input.a[0].b", '$"{1}"', "`raw`", "0.1e10", "-1", "1 / 0",
  "numbers.range(1, 10)", "walk(input, [p, v])", "count(input)", "object.get(input, [\"a\"], 0)",
  "__proto__", "\"__proto__\"", "constructor", "input.__proto__", "data.__proto__.x",
];

/** Builtin names as they appear in calls. */
const BUILTIN_NAMES = [...BUILTINS.keys()].filter((n) => /^[a-z_][a-z0-9_.]*$/i.test(n));

function dictToken(r: Rng, seedTokens: string[]): string {
  switch (r.int(7)) {
    case 0:
      return r.pick(KEYWORDS);
    case 1:
      return r.pick(PUNCT);
    case 2:
      return r.pick(SNIPPETS);
    case 3:
      return r.pick(BUILTIN_NAMES) + (r.chance(0.7) ? "(" : "");
    case 4:
      return r.pick(NUMBER_TEXTS);
    case 5:
      return r.pick(NASTY_CHARS);
    default:
      return seedTokens.length ? r.pick(seedTokens) : "x";
  }
}

function weirdString(r: Rng): string {
  const parts: string[] = [];
  const n = r.size(4, 40);
  for (let i = 0; i < n; i++) {
    switch (r.int(5)) {
      case 0:
        parts.push(r.pick(NASTY_CHARS));
        break;
      case 1:
        parts.push(r.pick(["\\u0000", "\\ud800", "\\udfff", "\\u2028", "\\x", "\\", "\\uZZZZ", "\\U0001F600", "\\/", "\\b"]));
        break;
      default:
        parts.push(String.fromCharCode(97 + r.int(26)));
    }
  }
  return JSON.stringify(parts.join("")).slice(1, -1);
}

/** Apply 1..k small edits to a module's text. */
export function mutate(r: Rng, src: string, other: () => string): string {
  let toks = tokenize(src);
  const edits = 1 + (r.chance(0.5) ? 0 : r.int(6));
  for (let e = 0; e < edits; e++) {
    if (toks.length === 0) toks = ["package", " ", "p"];
    const i = r.int(toks.length);
    switch (r.int(14)) {
      case 0: // delete a token
        toks.splice(i, 1);
        break;
      case 1: // delete a run of tokens
        toks.splice(i, 1 + r.int(20));
        break;
      case 2: // duplicate a token
        toks.splice(i, 0, toks[i]);
        break;
      case 3: // duplicate a run
        toks.splice(i, 0, ...toks.slice(i, i + 1 + r.int(30)));
        break;
      case 4: {
        // swap two tokens
        const j = r.int(toks.length);
        [toks[i], toks[j]] = [toks[j], toks[i]];
        break;
      }
      case 5: // insert a dictionary token
      case 6:
        toks.splice(i, 0, dictToken(r, toks));
        break;
      case 7: // replace a token
        toks[i] = dictToken(r, toks);
        break;
      case 8: {
        // replace a number literal by an edge number
        const idx = toks.findIndex((t, k) => k >= i && /^\d/.test(t));
        if (idx >= 0) toks[idx] = r.pick(NUMBER_TEXTS);
        else toks.splice(i, 0, r.pick(NUMBER_TEXTS));
        break;
      }
      case 9: {
        // replace a string literal by a weird one
        const idx = toks.findIndex((t, k) => k >= i && t.startsWith('"'));
        if (idx >= 0) toks[idx] = `"${weirdString(r)}"`;
        else toks.splice(i, 0, `"${weirdString(r)}"`);
        break;
      }
      case 10: {
        // insert tokens from another module
        const ot = tokenize(other());
        if (ot.length) {
          const j = r.int(ot.length);
          toks.splice(i, 0, ...ot.slice(j, j + 1 + r.int(40)));
        }
        break;
      }
      case 11: {
        // raw character edit inside a token
        const t = toks[i];
        const k = r.int(t.length + 1);
        toks[i] = r.chance(0.5) ? t.slice(0, k) + r.pick(NASTY_CHARS) + t.slice(k) : t.slice(0, k) + t.slice(k + 1);
        break;
      }
      case 12: {
        // line-level: delete, duplicate or swap lines
        const lines = toks.join("").split("\n");
        const a = r.int(lines.length);
        const b = r.int(lines.length);
        const op = r.int(3);
        if (op === 0) lines.splice(a, 1);
        else if (op === 1) lines.splice(a, 0, lines[b]);
        else [lines[a], lines[b]] = [lines[b], lines[a]];
        toks = tokenize(lines.join("\n"));
        break;
      }
      default: {
        // wrap a run of tokens in brackets / a call
        const j = Math.min(toks.length, i + 1 + r.int(6));
        const [open, close] = r.pick([["[", "]"], ["{", "}"], ["(", ")"], ["count(", ")"], ["[x | x := ", "]"], ['$"{', '}"']] as const);
        toks.splice(j, 0, close);
        toks.splice(i, 0, open);
      }
    }
  }
  return toks.join("");
}

/** A term (as text) from a recipe, to embed in a seed: the recipe's right-hand side. */
function recipeTerm(gen: string, n: number): string {
  const src = RECIPES[gen](n);
  const m = /x := ([\s\S]*)$/.exec(src);
  return m ? m[1] : "1";
}

/**
 * Inputs stay under 1 MB: beyond that, taking two seconds says more about the size than about the
 * code (a 10 MB policy is slow anywhere).
 */
export const MAX_INPUT = 1_000_000;

let maxInput = MAX_INPUT;

/**
 * Cap generated inputs at `n` characters (MAX_INPUT by default): the smoke test uses a small cap,
 * so that a short run stays short; a case index gives the same case under the same cap.
 */
export function setMaxInput(n: number | undefined): void {
  maxInput = n === undefined ? MAX_INPUT : Math.min(n, MAX_INPUT);
}

export function getMaxInput(): number {
  return maxInput;
}

export function capSize(n: number, length: (n: number) => number): number {
  while (n > 1 && length(n) > maxInput) n = Math.floor(n / 2);
  return n;
}

function recipeSize(r: Rng): number {
  return Math.max(1, r.weighted([
    [75, r.range(1, 60)],
    [20, r.range(60, 1000)],
    [4, r.range(1000, 10000)],
    [1, r.range(10000, 100000)],
  ]));
}

export function generateRegoCase(seed: number, index: number): RegoCase {
  const r = Rng.forCase(seed, "rego", index);
  const seeds = regoSeeds();
  const pickSeed = (): RegoSeed => (seeds.length ? r.pick(seeds) : { origin: "none", modules: ["package p\nx := 1"], regoVersion: "v1" });
  const base = pickSeed();
  const queries = ["data"];
  if (base.query && r.chance(0.7)) queries.push(base.query);
  const input = base.input !== undefined && r.chance(0.8) ? base.input : DEFAULT_INPUT;
  const mode = r.weighted([
    [65, "mutate"],
    [12, "splice"],
    [15, "recipe"],
    [8, "embed"],
  ] as const);
  if (mode === "recipe") {
    const gen = r.pick(RECIPE_NAMES);
    const n = capSize(recipeSize(r), (k) => RECIPES[gen](k).length);
    return { target: "rego", recipe: { gen, n }, regoVersion: "v1", queries: ["data"], input: DEFAULT_INPUT, how: `recipe ${gen}(${n})` };
  }
  const mi = r.int(base.modules.length);
  const modules = base.modules.slice();
  let how: string;
  if (mode === "splice") {
    const other = pickSeed().modules[0];
    const a = modules[mi].split("\n");
    const b = other.split("\n");
    const cutA = r.int(a.length + 1);
    const cutB = r.int(b.length + 1);
    modules[mi] = [...a.slice(0, cutA), ...b.slice(cutB)].join("\n");
    if (r.chance(0.5)) modules[mi] = mutate(r, modules[mi], () => pickSeed().modules[0]);
    how = `splice ${base.origin}`;
  } else if (mode === "embed") {
    const gen = r.pick(["arrays", "objects", "sets", "parens", "calls", "arrayCompr", "sums", "bigString", "bigNumber", "bigArray", "templateNest", "negations", "unions"]);
    const n = capSize(recipeSize(r), (k) => RECIPES[gen](k).length);
    const toks = tokenize(modules[mi]);
    const lits = toks.map((t, i) => (/^(\d|")/.test(t) ? i : -1)).filter((i) => i >= 0);
    if (lits.length) toks[r.pick(lits)] = recipeTerm(gen, n);
    else toks.push(`\nx := ${recipeTerm(gen, n)}`);
    modules[mi] = toks.join("");
    how = `embed ${gen}(${n}) in ${base.origin}`;
  } else {
    modules[mi] = mutate(r, modules[mi], () => pickSeed().modules[0]);
    how = `mutate ${base.origin}`;
  }
  return { target: "rego", modules, regoVersion: base.regoVersion, queries, input, data: base.data, how };
}

/** The module texts of a case (recipes expanded). */
export function regoModules(c: RegoCase): string[] {
  if (c.recipe) return [RECIPES[c.recipe.gen](c.recipe.n)];
  return c.modules ?? [];
}
