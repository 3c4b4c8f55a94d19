// glob.match in linear time (src/builtins/glob-engine.ts): hostile inputs, OPA's answers on
// random calls, compile bounds, and a randomized differential against the previous
// (backtracking) implementation, kept as test/builtins/glob-reference.ts.
//
// The differential runs GLOB_DIFF_PATTERNS patterns (default 4,000; each against 5 inputs, in
// three families: ASCII, with non-ASCII runes and separators, and SuffixAny alternatives with
// several separators); GLOB_DIFF_SEED changes the seed. For example
//   GLOB_DIFF_PATTERNS=40000 node --import tsx --test test/builtins/glob-linear.test.ts

import { test } from "node:test";
import assert from "node:assert/strict";
import { opaCases } from "./cases/glob-linear.ts";
import { fakeContext } from "./helpers.ts";
import { getBuiltin } from "../../src/builtins/index.ts";
import { BuiltinError } from "../../src/builtins/registry.ts";
import type { Value } from "../../src/rego/value.ts";
import { compileGlob } from "../../src/builtins/glob.ts";
import { compileGlob as compileReference } from "./glob-reference.ts";

function globMatch(pattern: string, delimiters: string[] | null, s: string): Value {
  return getBuiltin("glob.match")!.impl([pattern, delimiters, s], fakeContext()) as Value;
}

function cpuSeconds(f: () => void): number {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1e6;
}

// ---- hostile inputs ------------------------------------------------------------------------------
//
// Each input is `unit` repeated up to n characters, then `tail`. The expected answers are OPA 1.19's:
// on the input itself where OPA answers within 30 s ("opa"), otherwise on the same input cut to
// 200 characters ("opa@200": OPA takes more than 30 s on 100,000 characters, and the answer does
// not depend on the number of repetitions). The previous implementation took 9.8 s on the first.

interface Hostile {
  pattern: string;
  delimiters: string[] | null;
  unit: string;
  tail: string;
  n: number;
  want: boolean;
  source: "opa" | "opa@200";
}

const hostile: Hostile[] = [
  { pattern: "*.a*.a*.b*.a", delimiters: ["."], unit: ".a", tail: "", n: 100_000, want: false, source: "opa" },
  { pattern: "*.a*.a*.b*.a", delimiters: ["."], unit: ".a", tail: "", n: 1_000_000, want: false, source: "opa" },
  { pattern: "*.a*.a*.b*.a", delimiters: ["."], unit: ".a.b", tail: "", n: 1_000_000, want: false, source: "opa@200" },
  { pattern: "*.a*.a*.b*.a", delimiters: ["."], unit: "x", tail: ".a.a.b.a", n: 1_000_000, want: true, source: "opa" },
  { pattern: "*a*a*a*a*b", delimiters: ["."], unit: "ab.", tail: "", n: 1_000_000, want: false, source: "opa@200" },
  { pattern: "*a*a*a*a*b", delimiters: ["."], unit: "ab", tail: "aaaab", n: 1_000_000, want: true, source: "opa" },
  { pattern: "*a*a*a*a*b", delimiters: null, unit: "a", tail: "", n: 1_000_000, want: false, source: "opa" },
  { pattern: "*a*a*a*a*b", delimiters: null, unit: "a", tail: "b", n: 1_000_000, want: true, source: "opa" },
  { pattern: "*a?*a?*a?*b", delimiters: ["."], unit: "ab.", tail: "", n: 1_000_000, want: false, source: "opa@200" },
  { pattern: "**a*a*a*b", delimiters: ["."], unit: "ab.", tail: "", n: 1_000_000, want: false, source: "opa@200" },
  { pattern: "**a*a*a*b", delimiters: ["."], unit: "ab.", tail: "aaab", n: 1_000_000, want: true, source: "opa@200" },
  { pattern: "*a*{a,{a,b}}*a*b", delimiters: ["."], unit: "ab.", tail: "", n: 1_000_000, want: false, source: "opa@200" },
  { pattern: "**.a**.b", delimiters: ["."], unit: ".a", tail: "", n: 1_000_000, want: false, source: "opa" },
  { pattern: "**.a**.b", delimiters: ["."], unit: ".a", tail: ".b", n: 1_000_000, want: true, source: "opa" },
  { pattern: "{a,{a,{a,b}}}*", delimiters: ["."], unit: "a", tail: "", n: 1_000_000, want: true, source: "opa" },
  { pattern: "*{a,{a,{a,b}}}.*{a,{a,{a,b}}}.*c", delimiters: ["."], unit: "a.", tail: "", n: 1_000_000, want: false, source: "opa@200" },
  { pattern: "**{[!a]*,/?}", delimiters: ["a"], unit: ".a", tail: "", n: 1_000_000, want: false, source: "opa" },
  { pattern: "**{*b,x}*c*d", delimiters: [".", "/"], unit: "c./b", tail: "", n: 1_000_000, want: false, source: "opa" },
  { pattern: "*é*é*é*ü", delimiters: ["."], unit: "é", tail: "", n: 300_000, want: false, source: "opa" },
];

for (const h of hostile) {
  test(`hostile: glob.match(${JSON.stringify(h.pattern)}, ${JSON.stringify(h.delimiters)}, ${JSON.stringify(h.unit)}… (${h.n} chars)${h.tail ? " + " + JSON.stringify(h.tail) : ""})`, () => {
    const s = h.unit.repeat(Math.ceil((h.n - h.tail.length) / h.unit.length)).slice(0, h.n - h.tail.length) + h.tail;
    let got: Value = null;
    const cpu = cpuSeconds(() => {
      got = globMatch(h.pattern, h.delimiters, s);
    });
    assert.equal(got, h.want);
    assert.ok(cpu < 1, `took ${cpu.toFixed(3)} s of CPU`);
  });
}

test("hostile patterns on random strings of 1M characters, under 1 s each", () => {
  const rand = rng(7);
  const pats: [string, string[] | null, string][] = [
    ["*a*a*a*a*b", ["."], "ab"],
    ["*{a,{a,{a,b}}}*{a,{a,{a,b}}}*c", ["."], "ab"],
    ["*a?*a?*a?*b", ["."], "ab"],
    ["**{[!a]*,/?}", ["a"], "ab./"],
    ["**{*b,x}*c*d", [".", "/"], "abcdx./"],
    ["*[!a]*[ab]?*{ab,ba}*??*b", null, "ab"],
    ["*é*é*é*ü", ["."], "éüab"],
  ];
  for (const [p, d, alpha] of pats) {
    let s = "";
    for (let i = 0; i < 1_000_000; i++) s += alpha[Math.floor(rand() * alpha.length)];
    let got: Value = null;
    const cpu = cpuSeconds(() => {
      got = globMatch(p, d, s);
    });
    assert.ok(cpu < 1, `${p}: took ${cpu.toFixed(3)} s of CPU`);
    // the answer on a prefix, against the previous implementation (too slow on the whole input)
    const prefix = s.slice(0, 300);
    assert.equal(globMatch(p, d, prefix), compileReference(p, seps(d))(prefix), `${p} on ${prefix}`);
    assert.equal(typeof got, "boolean");
  }
});

// ---- OPA's answers on random calls ------------------------------------------------------------

test(`OPA 1.19's answers on ${opaCases.length} random calls`, () => {
  for (const [p, d, s, want] of opaCases) {
    const call = `glob.match(${JSON.stringify(p)}, ${JSON.stringify(d)}, ${JSON.stringify(s)})`;
    if (typeof want === "string") {
      assert.throws(() => globMatch(p, d, s), (e: unknown) => e instanceof BuiltinError && e.message === want, call);
    } else assert.equal(globMatch(p, d, s), want, call);
  }
});

// ---- compile bounds ------------------------------------------------------------------------------

test("patterns that gobwas's optimizer takes minutes on compile fast, with the same result", () => {
  // OPA 1.19 answers true after 42 s (its optimizer is quartic in the number of matchers)
  assert.ok(cpuSeconds(() => assert.equal(globMatch("?".repeat(3200), ["."], "a".repeat(3200)), true)) < 1);
  assert.ok(cpuSeconds(() => assert.equal(globMatch("{a,b}".repeat(2000), ["."], "ab".repeat(1000)), true)) < 2);
  const wide = "{" + Array.from({ length: 20000 }, (_, i) => "*a" + i.toString(36)).join(",") + "}";
  assert.ok(cpuSeconds(() => assert.equal(globMatch(wide, ["."], "xa5"), true)) < 2);
});

test("deep nesting and long sequences of matchers: a named error past the bounds", () => {
  const nest = (k: number) => "{a,".repeat(k) + "b" + "}".repeat(k);
  assert.equal(globMatch(nest(256), null, "b"), true);
  assert.throws(() => globMatch(nest(257), null, "b"), (e: unknown) => e instanceof BuiltinError && e.message === "glob.match: pattern too complex");
  // 1,024 matchers in a sequence (512 BTrees deep) are matched in linear time
  const stars = "*a".repeat(511) + "*b";
  assert.ok(cpuSeconds(() => assert.equal(globMatch(stars, ["."], "a".repeat(2000) + "b"), true)) < 2);
  assert.equal(globMatch(stars, ["."], "ab.".repeat(50000)), false);
  assert.throws(() => globMatch("*a".repeat(513) + "*b", ["."], "ab"), (e: unknown) => e instanceof BuiltinError && e.message === "glob.match: pattern too complex");
});

// ---- randomized differential against the previous implementation --------------------------------

function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

const ATOMS = ["a", "b", ".", "*", "?", "[ab]", "[!a]", "**", "\\", "/", "[a-b]", "[!.]"];
const ATOMS_U = [...ATOMS, "é", "[é]", "[!é]", "中", "😀", "[à-ü]", "\ufffd"];
const DELIMS: number[][] = [[], [0x2e], [0x2f], [0x2e, 0x2f], [0x2f, 0x2e], [0x61], [0x2e, 0x61], [0x61, 0x2f, 0x2e]];
const DELIMS_U: number[][] = [...DELIMS, [0xe9], [0x2e, 0xe9], [0xfffd], [0xd800, 0x2e], [0x4e2d], [0x1f600, 0x2f]];

function seps(d: string[] | null): number[] {
  return d === null ? [] : d.length === 0 ? [0x2e] : d.map((x) => x.codePointAt(0)!);
}

/** A random pattern: atoms and {…} with up to three alternatives, nested up to three deep. */
function genPattern(r: () => number, atoms: string[], depth = 0, maxLen = 7): string {
  const len = Math.floor(r() * maxLen);
  let p = "";
  for (let i = 0; i < len; i++) {
    if (r() < 0.18 && depth < 3) {
      const alts: string[] = [];
      for (let j = Math.floor(r() * 4); j > 0; j--) alts.push(genPattern(r, atoms, depth + 1, 4));
      p += "{" + alts.join(",") + (r() < 0.97 ? "}" : "");
    } else p += atoms[Math.floor(r() * atoms.length)];
  }
  return p;
}

function genInput(r: () => number, alpha: string[], maxLen: number): string {
  let s = "";
  for (let i = Math.floor(r() * maxLen); i > 0; i--) s += alpha[Math.floor(r() * alpha.length)];
  return s;
}

/** A string an idealized reading of the pattern would match, then slightly mutated. */
function genFromPattern(r: () => number, p: string, alpha: string[]): string {
  let i = 0;
  const pick = () => alpha[Math.floor(r() * alpha.length)];
  const seq = (stop: string): string => {
    let out = "";
    while (i < p.length && !stop.includes(p[i])) {
      const c = p[i];
      if (c === "*") {
        i += p[i + 1] === "*" ? 2 : 1;
        out += genInput(r, alpha, 4);
      } else if (c === "?") {
        i++;
        out += pick();
      } else if (c === "\\") {
        i++;
        if (i < p.length) out += p[i++];
      } else if (c === "[") {
        const j = p.indexOf("]", i + 1);
        if (j < 0) {
          out += p.slice(i);
          i = p.length;
        } else {
          const body = p.slice(i + 1, j);
          i = j + 1;
          const cs = Array.from(body.replace("-", ""));
          out += body.startsWith("!") ? pick() : (cs[Math.floor(r() * cs.length)] ?? "");
        }
      } else if (c === "{") {
        i++;
        const alts: string[] = [];
        for (;;) {
          alts.push(seq(",}"));
          if (p[i] === ",") {
            i++;
            continue;
          }
          if (p[i] === "}") i++;
          break;
        }
        out += alts[Math.floor(r() * alts.length)];
      } else {
        const ch = String.fromCodePoint(p.codePointAt(i)!);
        out += ch;
        i += ch.length;
      }
    }
    return out;
  };
  const chars = Array.from(seq(""));
  for (let k = Math.floor(r() * 3); k > 0 && chars.length > 0; k--) {
    const pos = Math.floor(r() * chars.length);
    const op = r();
    if (op < 0.33) chars[pos] = pick();
    else if (op < 0.66) chars.splice(pos, 1);
    else chars.splice(pos, 0, pick());
  }
  return chars.join("");
}

/** SuffixAny alternatives after a left matcher, with several separators (scan-dependent). */
function genSuffixAnyPattern(r: () => number): string {
  const pick = (a: string[]) => a[Math.floor(r() * a.length)];
  const L = ["**", "*", "?*", "{**.}", "{**/}", "a*", "*.", "**/", "{*.,b}", "[!a]*", "**{}", ""];
  const S = ["b", "ab", ".b", "b/", "a", "/", "ba"];
  const F = ["x", "?", "[ab]", "ab", "[!.]", ".", "{}", "b"];
  const R = ["*", "**", "", "c", "*c", "**b", "?", "*{a,b}"];
  const alts = [`*${pick(S)}`, pick(F)];
  if (r() < 0.3) alts.push(r() < 0.5 ? `*${pick(S)}` : pick(F));
  if (r() < 0.2) alts.splice(1, 0, "[!a]*");
  return pick(L) + "{" + alts.join(",") + "}" + pick(R) + (r() < 0.2 ? `{*${pick(S)},${pick(F)}}${pick(R)}` : "");
}

test("randomized differential against the previous implementation", (t) => {
  const patterns = Number(process.env.GLOB_DIFF_PATTERNS ?? 4000);
  const r = rng(Number(process.env.GLOB_DIFF_SEED ?? 20240611));
  const asciiAlpha = ["a", "b", ".", "/"];
  const uniAlpha = ["a", "b", ".", "/", "é", "中", "😀", "\ufffd"];
  const exoticAlpha = ["a", "b", ".", "/", "x", "c"];
  const exoticDelims = [[0x2e, 0x2f], [0x2f, 0x2e], [0x2e, 0x2f, 0x61], [0x61, 0x2e], [0x2e, 0x2e, 0x2f], [0x2f, 0x61, 0x2e]];
  let triples = 0;
  let matched = 0;
  const mismatches: string[] = [];
  for (let i = 0; i < patterns; i++) {
    const family = i % 3;
    const p = family === 2 ? genSuffixAnyPattern(r) : genPattern(r, family === 0 ? ATOMS : ATOMS_U, 0, i % 7 === 0 ? 12 : 7);
    const d = family === 2 ? exoticDelims[Math.floor(r() * exoticDelims.length)] : (family === 0 ? DELIMS : DELIMS_U)[Math.floor(r() * (family === 0 ? DELIMS : DELIMS_U).length)];
    const alpha = family === 0 ? asciiAlpha : family === 1 ? uniAlpha : exoticAlpha;
    let ref: (s: string) => boolean;
    try {
      ref = compileReference(p, d);
    } catch {
      assert.throws(() => compileGlob(p, d), Error, `${p} compiles, the reference does not`);
      continue;
    }
    const got = compileGlob(p, d);
    for (let j = 0; j < 5; j++) {
      const s = j < 2 ? genInput(r, alpha, j === 0 ? 14 : 40) : genFromPattern(r, p, alpha);
      const want = ref(s);
      triples++;
      if (want) matched++;
      if (got(s) !== want && mismatches.length < 10) mismatches.push(`glob.match(${JSON.stringify(p)}, ${JSON.stringify(d)}, ${JSON.stringify(s)}): ${!want}, want ${want}`);
    }
  }
  t.diagnostic(`${triples} (pattern, delimiters, input) triples, ${matched} matching, ${mismatches.length} different`);
  assert.deepEqual(mismatches, []);
  assert.ok(triples >= patterns * 4 && matched > triples / 10, `${triples} triples, ${matched} matching`);
});

test("glob.match: literal patterns of 150,000 characters compile without exhausting the stack (as OPA)", () => {
  // answers recorded from OPA 1.19.0: [false, true, true]
  const glob = getBuiltin("glob.match")!;
  const sep = "\u2028".repeat(142428);
  const a = "a".repeat(150000);
  const got = [glob.impl([sep, null, ""], fakeContext()), glob.impl([sep, null, sep], fakeContext()), glob.impl([a, ["."], a], fakeContext())];
  assert.deepEqual(got, [false, true, true]);
});
