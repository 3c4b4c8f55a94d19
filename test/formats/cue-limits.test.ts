// CUE limits: disjunctions (duplicates merged, bounded size and work), nesting of shorthand labels,
// exported values and string interpolations (docs/LIMITS.md, "Input files").
// Expected documents are the CUE tool's answers (cue v0.17.1, the version conftest 0.71.1 links),
// recorded here so that the test runs without it; where the CUE tool takes minutes or exponential
// time, Portcullis answers with a named limit error instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContent, ParseError } from '../../src/formats/index.ts';
import { MAX_DISJUNCTS, MAX_DISJUNCTION_WORK, MAX_INTERPOLATION_NESTING } from '../../src/formats/cue.ts';

const chain = (n: number, f: (i: number) => string, sep: string) => Array.from({ length: n }, (_, i) => f(i)).join(sep);

function parse(src: string): unknown {
  return parseContent(src, 'x.cue');
}

function refused(src: string, message: RegExp): void {
  assert.throws(() => parse(src), (e: unknown) => e instanceof ParseError && message.test(e.message) && /x\.cue/.test(e.message));
}

const tooMany = new RegExp(`disjunction of more than ${MAX_DISJUNCTS} disjuncts`);
const tooMuch = new RegExp(`disjunctions take more than ${MAX_DISJUNCTION_WORK} steps`);

test('defaults and duplicate disjuncts answer as the CUE tool does', () => {
  // cue export: {"a":1,"b":1,"c":"x","d":1,"e":5,"f":5}
  assert.deepEqual(parse('a: *1 | 2\nb: a & (1 | 2)\nc: *"x" | "y" | *"x"\nd: 1 | *1 | 2\ne: int | *5\nf: e & >3\n'), { a: 1, b: 1, c: 'x', d: 1, e: 5, f: 5 });
  // cue export: {"a":1,"b":{"x":1}}
  assert.deepEqual(parse('a: *1 | *1 | 2\nb: *{x: 1} | *{x: 1} | {x: 2}\n'), { a: 1, b: { x: 1 } });
  // cue export: {"a":1,"b":1,"c":[1,"a"]}
  assert.deepEqual(parse('a: 1 & (1 | 1)\nb: (1 | 1) & (1 | 1)\nc: [1 | 1, "a" | "a"]\n'), { a: 1, b: 1, c: [1, 'a'] });
  // cue export: {"x":{"pull":"IfNotPresent","port":8080},"y":{…, "port":80},"z":[{"pull":"Always","port":80},{…}]}
  assert.deepEqual(parse('#P: { pull: *"IfNotPresent" | "Always" | "Never", port: *80 | int }\nx: #P & { port: 8080 }\ny: #P\nz: [...#P] & [{pull: "Always"}, {}]\n'), {
    x: { pull: 'IfNotPresent', port: 8080 },
    y: { pull: 'IfNotPresent', port: 80 },
    z: [{ pull: 'Always', port: 80 }, { pull: 'IfNotPresent', port: 80 }],
  });
  // cue: "a: incomplete value 1 | 2": two defaults, no answer
  refused('a: (*1 | 2) & (1 | *2)\n', /^.*a: cannot convert incomplete value "1 \| 2"/);
});

test('a disjunction of itself, level after level, stays small (the CUE tool: exponential)', () => {
  // cue export, 3 levels: {"d0":1,"d1":1,"d2":1,"d3":1,"b":1}; 30 levels: over 60 s and 1.4 GB
  const levels = (n: number) => `d0: *1 | 2\n${chain(n, (i) => `d${i + 1}: d${i} | d${i}`, '\n')}\nb: d${n} & 1\n`;
  assert.deepEqual(parse(levels(3)), { d0: 1, d1: 1, d2: 1, d3: 1, b: 1 });
  const doc = parse(levels(30)) as Record<string, number>;
  assert.equal(Object.keys(doc).length, 32);
  assert.ok(Object.values(doc).every((v) => v === 1));
});

test(`a disjunction of ${MAX_DISJUNCTS} disjuncts is read, one more is a named error`, () => {
  // cue export of the first: {"a":0} (6 s); the fuzzer's chain of 50,524: 253 s of CPU
  assert.deepEqual(parse(`a: *0 | ${chain(MAX_DISJUNCTS - 1, (i) => String(i + 1), ' | ')}\n`), { a: 0 });
  refused(`a: *0 | ${chain(MAX_DISJUNCTS, (i) => String(i + 1), ' | ')}\n`, tooMany);
  refused(`a: ${chain(50_524, (i) => `*${i}`, ' | ')}`, tooMany);
  // duplicates do not count
  assert.deepEqual(parse(`a: *0 | ${chain(3 * MAX_DISJUNCTS, (i) => String((i % 100) + 1), ' | ')}\n`), { a: 0 });
});

test('cross products of disjunctions are bounded', () => {
  // structs: 2^15 disjuncts (the CUE tool: over 60 s)
  refused(`a: ${chain(15, (i) => `({x${i}: 1} | {y${i}: 2})`, ' & ')}\nb: 1\n`, tooMany);
  // bounds: 2^14 distinct disjuncts
  refused(`a: ${chain(14, (i) => `(>${i} | <${i + 100})`, ' & ')}\nb: a & 50\n`, tooMany);
  // 3,000 × 3,000 numbers (the CUE tool: 18 s, then "incomplete value")
  const n = chain(3000, (i) => String(i), ' | ');
  refused(`a: (${n}) & (${n})\nb: a & 1\n`, tooMuch);
  // 1,400 × 1,400 strings of 2,000 characters
  const s = (k: number) => chain(1400, (i) => `"${'a'.repeat(2000)}${i + k}"`, ' | ');
  refused(`a: (${s(0)}) & (${s(100000)})\n`, tooMuch);
  // small products are evaluated: cue export {"a":3,"b":"s"}
  assert.deepEqual(parse('a: (1 | 2 | 3) & (2 | 3 | 4) & (3 | 4)\nb: (int | string) & (string | bool) & "s"\n'), { a: 3, b: 's' });
});

test('the `a: b: c:` shorthand counts as nesting', () => {
  // cue export: {"a":{"a":{"a":1}},"b":{"c":1}}
  assert.deepEqual(parse('a: a: a: 1\nb: c: *1 | 2\n'), { a: { a: { a: 1 } }, b: { c: 1 } });
  refused(`${'a: '.repeat(94_895)}1`, /exceeded max depth of 10000/);
});

test('a definition that contains itself stops at the depth limit (the CUE tool: structural cycle)', () => {
  // cue export: "#Def.i.i: structural cycle"; Portcullis exports until the document depth limit
  refused('#Def: { i: #Def & {x: 3}\nx: int }\nc: #Def & { x: 2 }\n', /exceeded max depth of 10000/);
  // a recursive definition through an optional field is finite data: cue export {"t":{"sub":{"sub":{}}}}
  assert.deepEqual(parse('#T: { sub?: #T }\nt: #T & { sub: { sub: {} } }\n'), { t: { sub: { sub: {} } } });
});

test(`string interpolations nest at most ${MAX_INTERPOLATION_NESTING} deep`, () => {
  // cue export: {"x":"a","y":"<[{a}]>"}
  assert.deepEqual(parse('x: "a"\ny: "<\\("[\\("{\\(x)}")]")>"\n'), { x: 'a', y: '<[{a}]>' });
  const nested = (d: number) => `x: "a"\ny: ${'"\\('.repeat(d)}x${')"'.repeat(d)}\n`;
  // cue export of 101 levels: {"x":"a","y":"a"}; here 100 are read and 101 refused
  assert.deepEqual(parse(nested(MAX_INTERPOLATION_NESTING)), { x: 'a', y: 'a' });
  refused(nested(MAX_INTERPOLATION_NESTING + 1), new RegExp(`string interpolations nested more than ${MAX_INTERPOLATION_NESTING} deep`));
});
