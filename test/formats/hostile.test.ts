/**
 * Hostile configuration files: every parser must answer fast, with a value
 * or a named ParseError, never a hang, a stack overflow or a raw JavaScript
 * exception. One test per reproducer; each also checks its time (CPU time, and
 * wall time on an idle machine: test/timing.ts).
 *
 * Documents nested more deeply than the main thread's stack allows are
 * parsed again on the large-stack worker (src/builtins/support/large-stack.ts); the
 * worker is started once before the tests, so that the timings measure the
 * parse, not the worker's start (about a second on a loaded machine).
 *
 *   node --import tsx --test test/formats/hostile.test.ts
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, truncateSync, closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  parseContent,
  parseFile,
  getParser,
  ParseError,
  ParserFault,
  MAX_DEPTH,
  MAX_INPUT_BYTES,
} from '../../src/formats/index.ts';
import { parseWithLargeStack } from '../../src/formats/index.ts';
import { setProtoFileDirs } from '../../src/formats/textproto.ts';
import { getBuiltin } from '../../src/builtins/index.ts';
import { BuiltinError } from '../../src/builtins/registry.ts';
import { fakeContext } from '../builtins/helpers.ts';
import { cli } from '../cli/helpers.ts';
import { clocks, within } from '../timing.ts';

const DEPTH = `exceeded max depth of ${MAX_DEPTH}`;
/** Time budget per reproducer. */
const FAST_MS = 2000;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-hostile-'));
  // start the large-stack worker now (see the file comment)
  parseWithLargeStack({ parser: 'json', content: '1', file: 'warm-up.json' });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function timed<T>(f: () => T): { value?: T; error?: unknown; cpuMs: number; wallMs: number } {
  const c = clocks();
  try {
    const value = f();
    return { value, ...c.elapsed() };
  } catch (error) {
    return { error, ...c.elapsed() };
  }
}

/** Within FAST_MS of CPU time, and of wall time on an idle machine (test/timing.ts). */
function fast(m: { cpuMs: number; wallMs: number }): void {
  within(m, FAST_MS);
}

/** Parse `text` with `parser`; assert it failed fast with a ParseError whose reason matches. */
function refuses(parser: string, text: string, reason: string | RegExp): ParseError {
  const r = timed(() => parseContent(text, `hostile.${parser}`, { parser }));
  fast(r);
  assert.ok(r.error instanceof ParseError, `expected a ParseError, got ${r.error instanceof Error ? `${r.error.name}: ${r.error.message}` : String(r.value)}`);
  if (typeof reason === 'string') assert.equal(r.error.reason, reason);
  else assert.match(r.error.reason, reason);
  return r.error;
}

/** Parse `text` with `parser`; assert it succeeded fast; returns the value. */
function reads(parser: string, text: string): unknown {
  const r = timed(() => parseContent(text, `hostile.${parser}`, { parser }));
  if (r.error) assert.fail(`${parser}: ${r.error instanceof Error ? `${r.error.name}: ${r.error.message}` : String(r.error)}`);
  fast(r);
  return r.value;
}

/** Nesting depth of a value (arrays/objects), without recursion. */
function depthOf(v: unknown): number {
  let max = 0;
  const todo: [unknown, number][] = [[v, 0]];
  while (todo.length) {
    const [x, d] = todo.pop()!;
    if (x === null || typeof x !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const c of Object.values(x)) todo.push([c, d + 1]);
  }
  return max;
}

const BILLION_LAUGHS = [
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(',')}]`),
].join('\n') + '\n';

describe('YAML aliases and depth', () => {
  it('an anchor inside its own value (a: &a [*a]) is a named error, as in Go', () => {
    refuses('yaml', 'a: &a [*a]\n', "anchor 'a' value contains itself");
    refuses('yaml', 'a: &a\n  b: *a\n', "anchor 'a' value contains itself");
  });

  it('the billion-laughs alias bomb is "excessive aliasing" (Go\'s ratio rule), fast', () => {
    assert.ok(BILLION_LAUGHS.length < 400);
    refuses('yaml', BILLION_LAUGHS, 'document contains excessive aliasing');
  });

  it('ordinary aliases are expanded as before', () => {
    const v = reads('yaml', 'base: &b {x: 1}\nitems: [*b, *b, *b]\nmerged:\n  <<: *b\n  z: 2\n');
    assert.deepEqual(v, { base: { x: 1 }, items: [{ x: 1 }, { x: 1 }, { x: 1 }], merged: { x: 1, z: 2 } });
  });

  it('alias bomb in `portcullis parse` and `portcullis test`: exit 1, named error, fast', async () => {
    const f = join(dir, 'bomb.yaml');
    writeFileSync(f, BILLION_LAUGHS);
    const policy = join(dir, 'policy');
    writeFileSync(join(dir, 'p.rego'), 'package main\ndeny contains "x" if { input.nope }\n');
    void policy;
    for (const args of [['parse', f], ['test', '-p', join(dir, 'p.rego'), f]]) {
      const c = clocks();
      const r = await cli(args);
      fast(c.elapsed());
      assert.equal(r.code, 1, r.err);
      assert.match(r.err, /yaml: document contains excessive aliasing/);
    }
  });

  it('yaml.unmarshal / yaml.is_valid: alias bomb and self-reference as OPA answers them', () => {
    const unmarshal = getBuiltin('yaml.unmarshal')!;
    const isValid = getBuiltin('yaml.is_valid')!;
    for (const [text, msg] of [
      [BILLION_LAUGHS, 'yaml.unmarshal: yaml: document contains excessive aliasing'],
      ['a: &a [*a]\n', "yaml.unmarshal: yaml: anchor 'a' value contains itself"],
      ['['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1), `yaml.unmarshal: yaml: ${DEPTH}`],
    ]) {
      const r = timed(() => unmarshal.impl([text], fakeContext()));
      fast(r);
      assert.ok(r.error instanceof BuiltinError, String(r.error));
      assert.equal(r.error.message, msg);
      assert.equal(isValid.impl([text], fakeContext()), false);
    }
  });

  it('yaml.unmarshal reads documents nested deeper than 100 levels (up to 10,000)', () => {
    for (const d of [500, 5000]) {
      const r = timed(() => getBuiltin('yaml.unmarshal')!.impl(['['.repeat(d) + '18446744073709551615' + ']'.repeat(d)], fakeContext()));
      fast(r);
      assert.equal(r.error, undefined);
      assert.equal(depthOf(r.value), d);
      let x: unknown = r.value;
      while (Array.isArray(x)) x = x[0];
      assert.equal(x, 18446744073709551615n);
    }
  });

  it('documents nested 101 and 10,000 deep are read; 10,001 is "exceeded max depth of 10000"', () => {
    assert.equal(depthOf(reads('yaml', '['.repeat(101) + ']'.repeat(101))), 101);
    assert.equal(depthOf(reads('yaml', '['.repeat(MAX_DEPTH) + ']'.repeat(MAX_DEPTH))), MAX_DEPTH);
    assert.equal(depthOf(reads('yaml', '- '.repeat(MAX_DEPTH) + 'x\n')), MAX_DEPTH);
    refuses('yaml', '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1), DEPTH);
    refuses('yaml', '- '.repeat(MAX_DEPTH + 1) + 'x\n', DEPTH);
    refuses('yaml', '['.repeat(1_000_000), DEPTH);
  });

  it('aliases cannot nest a value past the depth limit', () => {
    const inner = '['.repeat(6000) + ']'.repeat(6000);
    refuses('yaml', `a: &a ${inner}\nb: &b [${'['.repeat(4500)}*a${']'.repeat(4500)}]\n`, DEPTH);
  });

  it('the check for a directives-only part before `---` takes linear time', () => {
    // the former regular expression backtracked exponentially on this (a directive, then content)
    refuses('yaml', '%YAML 1.1\n' + '\n'.repeat(40) + 'a: 1\n---\nb: 2\n', 'directives end mark is expected');
    assert.deepEqual(reads('yaml', '%YAML 1.1\n' + '\n'.repeat(40) + '---\na: 1\n---\nb: 2\n'), [{ a: 1 }, { b: 2 }]);
  });
});

describe('deep nesting in every format: read, or "exceeded max depth of 10000"', () => {
  it('JSON nested 4,600 deep is read; 10,001 deep is refused', () => {
    assert.equal(depthOf(reads('json', '['.repeat(4600) + ']'.repeat(4600))), 4600);
    refuses('json', '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1), DEPTH);
    refuses('jsonc', '{"a":'.repeat(MAX_DEPTH + 1) + '1' + '}'.repeat(MAX_DEPTH + 1), DEPTH);
  });

  it('7,283 unclosed [ : the JSON error locator answers with a position', () => {
    const e = refuses('json', '['.repeat(7283), /^unexpected end of JSON input/);
    assert.equal(e.line, 1);
    assert.equal(e.column, 7284);
    refuses('json', '['.repeat(MAX_DEPTH + 5), DEPTH);
  });

  it('TOML: a dotted key of 4,100 parts is read; 20,000 parts are refused', () => {
    assert.equal(depthOf(reads('toml', Array(4100).fill('a').join('.') + ' = 1\n')), 4100);
    refuses('toml', Array(20000).fill('a').join('.') + ' = 1\n', DEPTH);
    refuses('toml', 'a = ' + '['.repeat(MAX_DEPTH + 1) + ']'.repeat(MAX_DEPTH + 1) + '\n', DEPTH);
  });

  it('XML: 3,400 nested elements are read; 10,001 are refused', () => {
    assert.equal(depthOf(reads('xml', '<a>'.repeat(3400) + '</a>'.repeat(3400))), 3400);
    refuses('xml', '<a>'.repeat(MAX_DEPTH + 1) + '</a>'.repeat(MAX_DEPTH + 1), DEPTH);
  });

  it('HCL2: nested blocks, tuples, objects and unary chains', () => {
    assert.equal(depthOf(reads('hcl2', 'a = ' + '['.repeat(5000) + ']'.repeat(5000) + '\n')), 5001);
    refuses('hcl2', 'a = ' + '['.repeat(20000) + ']'.repeat(20000) + '\n', DEPTH);
    refuses('hcl2', 'b ' + '{\nb '.repeat(20000) + '{}' + '\n}'.repeat(20000) + '\n', DEPTH);
    refuses('hcl2', 'a = ' + '!'.repeat(20000) + 'true\n', DEPTH);
    refuses('hcl2', 'a = ' + '('.repeat(20000) + '1' + ')'.repeat(20000) + '\n', DEPTH);
  });

  it('HCL1, HOCON, EDN, CUE, Jsonnet, nginx, VCL: 20,000 levels are refused by name', () => {
    refuses('hcl1', 'a = ' + '['.repeat(20000) + ']'.repeat(20000) + '\n', DEPTH);
    refuses('hcl1', 'a ' + '{ a '.repeat(20000) + '{}' + '}'.repeat(20000) + '\n', DEPTH);
    refuses('hocon', 'a ' + '{ a '.repeat(20000) + '{}' + '}'.repeat(20000) + '\n', DEPTH);
    refuses('hocon', 'a { ' + Array(20000).fill('a').join('.') + ' = 1 }\n', DEPTH);
    refuses('edn', '['.repeat(20000) + ']'.repeat(20000), DEPTH);
    refuses('edn', '#t '.repeat(20000) + '1', DEPTH);
    refuses('cue', 'a: ' + '['.repeat(20000) + ']'.repeat(20000) + '\n', DEPTH);
    refuses('jsonnet', '['.repeat(20000) + ']'.repeat(20000), DEPTH);
    refuses('nginx', 'a {'.repeat(20000) + '}'.repeat(20000), DEPTH);
    refuses('vcl', 'backend b { ' + '.a = { '.repeat(20000) + '}'.repeat(20000) + ' }\n', DEPTH);
  });

  it('the same formats read 3,000 levels', () => {
    assert.equal(depthOf(reads('hcl1', 'a = ' + '['.repeat(3000) + ']'.repeat(3000) + '\n')), 3001);
    assert.equal(depthOf(reads('hocon', 'a ' + '{ a '.repeat(3000) + '{}' + '}'.repeat(3000) + '\n')), 3002);
    assert.equal(depthOf(reads('edn', '['.repeat(3000) + ']'.repeat(3000))), 3000);
    assert.equal(depthOf(reads('cue', 'a: ' + '['.repeat(3000) + ']'.repeat(3000) + '\n')), 3001);
    // Jsonnet: go-jsonnet's stack of 500 frames applies first (conftest parse: 500 levels read,
    // 501 are "RUNTIME ERROR: max stack frames exceeded.")
    assert.equal(depthOf(reads('jsonnet', '['.repeat(500) + ']'.repeat(500))), 500);
    refuses('jsonnet', '['.repeat(3000) + ']'.repeat(3000), 'max stack frames exceeded.');
    assert.equal(depthOf(reads('nginx', 'a {'.repeat(3000) + '}'.repeat(3000))), 9002);
  });

  it('textproto: nested messages', () => {
    const protos = join(dir, 'protos');
    rmSync(protos, { recursive: true, force: true });
    writeFileSync(join(dir, 'm.proto'), 'syntax = "proto3";\nmessage M { M m = 1; string s = 2; }\n');
    setProtoFileDirs([dir]);
    try {
      const head = '# proto-message: M\n';
      assert.equal(depthOf(reads('textproto', head + 'm { '.repeat(2000) + 's: "x"' + ' }'.repeat(2000))), 2001);
      refuses('textproto', head + 'm { '.repeat(20000) + ' }'.repeat(20000), DEPTH);
    } finally {
      setProtoFileDirs([]);
    }
  });

  it('INI, properties, dotenv: long inputs stay linear; variable bombs are refused', () => {
    assert.equal(Object.keys(reads('properties', 'a = x\\\n'.repeat(50000) + 'y\n') as object).length, 1);
    const lines = ['A=xxxxxxxxxxxxxxxx'];
    for (let i = 0; i < 40; i++) lines.push(`V${i}=$${i === 0 ? 'A' : `V${i - 1}`}$${i === 0 ? 'A' : `V${i - 1}`}`);
    refuses('dotenv', lines.join('\n') + '\n', /^variable expansion produces more than/);
  });

  it('HOCON: substitutions that double a value at each step are refused', () => {
    const lines = ['a { x = [1, 2, 3, 4, 5, 6, 7, 8] }'];
    for (let i = 0; i < 40; i++) lines.push(`s${i} { v = [\${${i === 0 ? 'a' : `s${i - 1}`}}, \${${i === 0 ? 'a' : `s${i - 1}`}}] }`);
    refuses('hocon', lines.join('\n') + '\n', /^substitutions expand the document beyond/);
  });

  it('CUE: nested `(…)` labels no longer take exponential time', () => {
    assert.deepEqual(reads('cue', '({'.repeat(400) + 'a: 1' + '})'.repeat(400) + '\n'), { a: 1 });
  });

  it('long runs of blanks in .gitignore lines and HCL templates stay linear', () => {
    reads('ignore', 'a' + ' '.repeat(100000) + 'b\n');
    reads('hcl2', 'a = "x' + ' '.repeat(100000) + 'y ${~ 1}"\n');
  });
});

describe('Dockerfile', () => {
  it('ENV R<U+2028> t is read as BuildKit splits it (no TypeError)', () => {
    const v = reads('dockerfile', 'FROM x\nENV R\u2028 t\n') as { Cmd: string; Value: string[] }[][];
    assert.deepEqual(v[0]![1]!.Value, ['R\u2028', 't', '']);
  });

  it('5,000 chained ONBUILD triggers: linear time, BuildKit\'s error', () => {
    refuses('dockerfile', 'FROM x\n' + 'ONBUILD '.repeat(5000) + 'RUN x\n', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    refuses('dockerfile', 'FROM x\n' + 'ONBUILD \\\n'.repeat(5000) + 'RUN x\n', "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    const v = reads('dockerfile', 'FROM x\n' + 'ONBUILD RUN x\n'.repeat(5000)) as unknown[][];
    assert.equal(v[0]!.length, 5001);
  });

  it('a parser directive with a long run of blanks (formerly quadratic)', () => {
    reads('dockerfile', '# syntax=x' + ' '.repeat(60000) + 'y\nFROM x\n');
  });
});

describe('keys named __proto__, constructor, prototype are kept', () => {
  const KEYS = ['__proto__', 'constructor', 'prototype'];
  const own = (v: unknown) => Object.keys(v as object);
  const cases: [string, string, (v: unknown) => unknown][] = [
    ['xml', '<r><__proto__>1</__proto__><constructor>2</constructor><prototype>3</prototype></r>', (v) => (v as { r: unknown }).r],
    ['ini', '[__proto__]\na = 1\n[constructor]\nb = 2\n[prototype]\nc = 3\n', (v) => v],
    ['yaml', '__proto__: 1\nconstructor: 2\nprototype: 3\n', (v) => v],
    ['json', '{"__proto__": 1, "constructor": 2, "prototype": 3}', (v) => v],
    ['toml', '__proto__ = 1\nconstructor = 2\nprototype = 3\n', (v) => v],
    ['hcl2', '__proto__ = 1\nconstructor = 2\nprototype = 3\n', (v) => v],
    ['hcl1', '__proto__ = 1\nconstructor = 2\nprototype = 3\n', (v) => v],
    ['properties', '__proto__=1\nconstructor=2\nprototype=3\n', (v) => v],
    ['dotenv', '__proto__=1\nconstructor=2\nprototype=3\n', (v) => v],
    ['hocon', '__proto__ { a = 1 }\nconstructor { b = 2 }\nprototype { c = 3 }\n', (v) => v],
    ['edn', '{"__proto__" 1 "constructor" 2 "prototype" 3}', (v) => v],
    ['jsonnet', '{ "__proto__": 1, constructor: 2, prototype: 3 }', (v) => v],
    ['vcl', 'backend __proto__ { .host = "a"; }\nbackend constructor { .host = "b"; }\nbackend prototype { .host = "c"; }\n', (v) => (v as { backend: unknown }).backend],
    // (unknown elements at the top of a BOM are dropped, as Go's decoder drops them: the keys are tested one level down)
    ['cyclonedx', '<bom><metadata><__proto__>1</__proto__><constructor>2</constructor><prototype>3</prototype></metadata></bom>', (v) => (v as { metadata: unknown }).metadata],
  ];
  for (const [parser, text, pick] of cases) {
    it(parser, () => {
      const v = pick(reads(parser, text));
      for (const k of KEYS) assert.ok(own(v).includes(k), `${parser}: ${k} missing from ${JSON.stringify(v)}`);
      assert.equal(Object.getPrototypeOf(v), Object.prototype, `${parser}: the prototype was replaced`);
      assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    });
  }
});

describe('graphql builtins never leak exceptions', () => {
  const call = (name: string, ...args: unknown[]) => getBuiltin(name)!.impl(args as never, fakeContext());
  it('graphql.is_valid({}, {}) is true, as OPA answers', () => {
    assert.equal(call('graphql.is_valid', {}, {}), true);
    assert.deepEqual(call('graphql.parse', {}, {}), [{}, {}]);
    assert.deepEqual(call('graphql.parse_and_verify', {}, {}), [true, {}, {}]);
  });
  it('wrongly shaped AST objects are invalid (OPA: Go JSON decoding errors)', () => {
    assert.equal(call('graphql.is_valid', { Operations: 1 }, {}), false);
    assert.equal(call('graphql.is_valid', {}, { Definitions: [{ Kind: 'OBJECT', Name: 'Query', Fields: 5 }] }), false);
    assert.throws(
      () => call('graphql.parse', { Operations: 1 }, {}),
      (e: unknown) =>
        e instanceof BuiltinError &&
        e.message === 'graphql.parse: json: cannot unmarshal number into Go struct field QueryDocument.Operations of type ast.OperationList',
    );
  });
  it('a type without fields: gqlparser\'s error', () => {
    assert.throws(
      () => call('graphql.parse', {}, 'type Query'),
      (e: unknown) =>
        e instanceof BuiltinError &&
        e.message === 'graphql.parse: Error in gqlparser SchemaDocument to Schema conversion: input:1:6: OBJECT Query: must define one or more fields.',
    );
    assert.equal(call('graphql.schema_is_valid', 'type Query'), false);
  });
});

describe('internal faults are not syntax errors', () => {
  it('an exception inside a parser is a ParserFault ("internal error in the ini parser")', () => {
    const p = getParser('ini')!;
    const saved = p.parse;
    p.parse = () => {
      throw new TypeError('boom');
    };
    try {
      assert.throws(
        () => parseContent('a = 1\n', 'x.ini', { parser: 'ini' }),
        (e: unknown) => e instanceof ParserFault && !(e instanceof ParseError) && /^internal error in the ini parser: TypeError: boom/.test(e.message),
      );
    } finally {
      p.parse = saved;
    }
  });

  it('`portcullis parse` and `test` report it as an internal error, exit 2', async () => {
    const f = join(dir, 'fault.ini');
    writeFileSync(f, '[s]\na = 1\n');
    writeFileSync(join(dir, 'q.rego'), 'package main\n');
    const p = getParser('ini')!;
    const saved = p.parse;
    p.parse = () => {
      throw new TypeError('boom');
    };
    try {
      for (const args of [['parse', f], ['test', '-p', join(dir, 'q.rego'), f]]) {
        const r = await cli(args);
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, /internal error in the ini parser: TypeError: boom/);
        assert.doesNotMatch(r.err, /parse configurations/);
      }
    } finally {
      p.parse = saved;
    }
  });

  it('a value nested too deeply for the printer is an internal error, not a crash', async () => {
    const f = join(dir, 'deep.json');
    writeFileSync(f, '['.repeat(9000) + ']'.repeat(9000));
    const r = await cli(['parse', f]);
    // printing recursion lives in src/output/gojson.ts: until it is iterative, this is the answer
    if (r.code !== 0) {
      assert.equal(r.code, 2);
      assert.match(r.err, /internal error/);
    }
  });
});

describe('input size limit', () => {
  it(`a file larger than ${MAX_INPUT_BYTES / (1024 * 1024)} MiB is refused before it is read`, () => {
    const f = join(dir, 'huge.yaml');
    closeSync(openSync(f, 'w'));
    truncateSync(f, MAX_INPUT_BYTES + 1); // sparse: no disk used
    const r = timed(() => parseFile(f));
    rmSync(f);
    fast(r);
    assert.ok(r.error instanceof ParseError);
    assert.match(r.error.reason, /larger than the 256 MiB input limit/);
  });
});

it("nginx: an unterminated quoted string is a located ParseError, not the lexer's own error class (fuzz finding)", () => {
  assert.throws(
    () => parseContent('server { listen "80;\n', "x.conf", { parser: "nginx" }),
    (e: unknown) => e instanceof ParseError && /x\.conf:1:17: nginx: unterminated quoted string/.test(e.message),
  );
});

// groovy: conftest bounds the syntax tree (256 levels, 100,000 nodes) and answers as below
// (its answers, recorded by running conftest v0.71.1 on the same texts); the parser stops
// nesting just past that depth, so no input exhausts the stack.
describe('groovy', () => {
  const TOO_DEEP = 'syntax tree exceeds maximum depth of 256';
  it('100,000 nested parentheses and 20,000 nested closures: refused by depth, fast', () => {
    refuses('groovy', 'x = ' + '('.repeat(100000) + '1' + ')'.repeat(100000) + '\n', TOO_DEEP);
    refuses('groovy', 'a { '.repeat(20000) + 'b' + ' }'.repeat(20000) + '\n', TOO_DEEP);
    refuses('groovy', 'x = ' + '['.repeat(300) + ']'.repeat(300) + '\n', TOO_DEEP);
  });
  it('the deepest trees conftest accepts are read (84 closures, 120 parentheses)', () => {
    const depth = (v: unknown): number => {
      let max = 0;
      const stack: [unknown, number][] = [[v, 1]];
      while (stack.length) {
        const [n, d] = stack.pop()!;
        max = Math.max(max, d);
        for (const c of ((n as { children?: unknown[] }).children ?? [])) stack.push([c, d + 1]);
      }
      return max;
    };
    assert.ok(depth(reads('groovy', 'a { '.repeat(84) + 'b' + ' }'.repeat(84) + '\n')) <= 256);
    refuses('groovy', 'a { '.repeat(85) + 'b' + ' }'.repeat(85) + '\n', TOO_DEEP);
    reads('groovy', 'x = ' + '('.repeat(120) + '1' + ')'.repeat(120) + '\n');
  });
  it('more than 100,000 nodes are refused; array initializers nest without recursion', () => {
    // 96,002 nodes: read (timed by the machine's speed only, not asserted fast)
    assert.equal((parseContent('a\n'.repeat(24000), 'x.groovy', { parser: 'groovy' }) as { children: unknown[] }).children.length, 24000);
    refuses('groovy', 'a\n'.repeat(25100), 'syntax tree exceeds maximum node count of 100000');
    reads('groovy', 'def a = new int[][] ' + '{'.repeat(3000) + '1' + '}'.repeat(3000) + '\n');
  });
  it('errors are located as conftest locates them', () => {
    const e = refuses('groovy', 'node {\n  sh "x"\n', 'expected RBrace, got EOF');
    assert.equal(e.line, 3);
    assert.equal(e.column, 1);
    const f = refuses('groovy', 'a #\n', 'expected expression');
    assert.equal(`${f.line}:${f.column}`, '1:3');
  });
});

// Fuzz findings in the program-like and numeric formats (scripts/fuzz). Each expectation is
// conftest 0.71.1's answer (`conftest parse`), recorded here; where conftest has no limit
// (Jsonnet's work), the limit is Portcullis's own, documented in docs/LIMITS.md.
describe('fuzz findings: Jsonnet evaluation is bounded', () => {
  it("recursion stops at go-jsonnet's 500 stack frames (conftest: 496 calls deep read, 497 refused)", () => {
    const rec = (n: number) => `local f(n) = if n == 0 then 0 else 1 + f(n - 1);\n{ a: f(${n}) }\n`;
    assert.deepEqual(reads('jsonnet', rec(496)), { a: 496 });
    refuses('jsonnet', rec(497), 'max stack frames exceeded.');
    // a chain of locals, and of fields through self: 499 read, 500 refused, as conftest answers
    const locals = (n: number) => ['local a0 = 1;', ...Array.from({ length: n - 1 }, (_, i) => `local a${i + 1} = a${i} + 1;`), `a${n - 1}`].join('\n');
    assert.equal(reads('jsonnet', locals(499)), 499);
    refuses('jsonnet', locals(500), 'max stack frames exceeded.');
    const fields = (n: number) => `local o = {a0: 1, ${Array.from({ length: n - 1 }, (_, i) => `a${i + 1}: self.a${i} + 1`).join(', ')}};\no.a${n - 1}`;
    assert.equal(reads('jsonnet', fields(499)), 499);
    refuses('jsonnet', fields(500), 'max stack frames exceeded.');
    // endless recursion: the same error, fast, without the large-stack worker
    refuses('jsonnet', 'local f(x) = f(x) + 1; f(1)', 'max stack frames exceeded.');
    refuses('jsonnet', 'local a = { x: self.y, y: self.x }; a.x', 'max stack frames exceeded.');
  });

  it('comprehensions and builtins that multiply work stop at the step limit', () => {
    const limit = /^evaluation exceeds the limit of 2000000 steps$/;
    refuses('jsonnet', '[x + y for x in std.range(1, 5000) for y in std.range(1, 5000)]', limit);
    refuses('jsonnet', 'std.length(std.range(1, 100000000))', limit);
    refuses('jsonnet', 'std.makeArray(1e9, function(i) i)', limit);
    refuses('jsonnet', 'local d(a) = a + a; std.length(std.foldl(function(acc, i) d(acc), std.range(1, 40), [1]))', limit);
    refuses('jsonnet', 'std.length(std.repeat([1, 2, 3], 1e9))', limit);
    // ordinary programs are far below it
    assert.equal(reads('jsonnet', 'std.length([x + y for x in std.range(1, 300) for y in std.range(1, 300)])'), 90000);
  });

  it('strings longer than JavaScript allows are a named ParseError, not a RangeError', () => {
    refuses('jsonnet', 'local s = std.repeat("x", 1e8); std.length(s + s + s + s + s + s)', /^evaluation produces a value larger than the engine's size limits \(Invalid string length\)$/);
  });

  it('numbers beyond float64 are errors, as in go-jsonnet (conftest: "overflow", "Overflow")', () => {
    refuses('jsonnet', '{a:{b:1}}{a:{c:1e400}}', 'overflow');
    refuses('jsonnet', '{ a: 1e308 * 10 }', 'Overflow');
    refuses('jsonnet', '{ a: std.pow(10, 400) }', 'Overflow');
    assert.deepEqual(reads('jsonnet', 'local x = 1e400; { a: 1 }'), { a: 1 });
    // ~ works on 64-bit integers (conftest: ~4294967296 is -4294967297); negative counts are empty
    assert.deepEqual(reads('jsonnet', '{ a: ~4294967296, b: std.makeArray(-1, function(i) i), c: std.repeat("ab", -1) }'), { a: -4294967297, b: [], c: '' });
  });
});

describe('fuzz findings: numbers beyond float64/int64 are errors, never Infinity in a document', () => {
  it('HCL2: conftest\'s JSON decoding error; numbers in text are their exact decimal digits', () => {
    refuses('hcl2', 'a = 1e400\n', /^json: cannot unmarshal number 1(0{400}) into Go value of type float64$/);
    refuses('hcl2', 'a = -1e400\n', /^json: cannot unmarshal number -10{400} into Go value of type float64$/);
    refuses('hcl2', 'a = [1e400]\n', /cannot unmarshal number/);
    refuses('hcl2', 'a = "${1e400}"\n', /cannot unmarshal number/);
    assert.deepEqual(reads('hcl2', 'a = 1e-400\nb = "x${1.5e3}"\nc = "x${0.000123e-2}"\nd = "x${2.50}"\ne = "x${12345678901234567890123}"\nf = 1e308 * 10\n'), {
      a: 0,
      b: 'x1500',
      c: 'x0.00000123',
      d: 'x2.5',
      e: 'x12345678901234567890123',
      f: '${1e308 * 10}',
    });
    assert.equal((reads('hcl2', 'a = "x${1e400}"\n') as { a: string }).a, 'x1' + '0'.repeat(400));
  });

  it('HCL1: strconv.ParseInt/ParseFloat errors as conftest reports them', () => {
    refuses('hcl1', 'a = 1e400\n', 'strconv.ParseFloat: parsing "1e400": value out of range');
    refuses('hcl1', '""{t=1e400}', 'strconv.ParseFloat: parsing "1e400": value out of range');
    refuses('hcl1', 'a = 99999999999999999999\n', 'strconv.ParseInt: parsing "99999999999999999999": value out of range');
    refuses('hcl1', 'a = 0xffffffffffffffffffff\n', 'strconv.ParseInt: parsing "0xffffffffffffffffffff": value out of range');
    refuses('hcl1', 'a = 09\n', 'strconv.ParseInt: parsing "09": invalid syntax');
    assert.deepEqual(reads('hcl1', 'a = -0x10\nb = 017\nc = 1e-400\nd = 1.5\n'), { a: -16, b: 15, c: 0, d: 1.5 });
  });

  it('TOML: integers beyond int64 are refused (conftest: "… is out of range for int64")', () => {
    refuses('toml', 'a = 1' + '0'.repeat(400) + '\n', /^1(0{400}) is out of range for int64$/);
    refuses('toml', 'a = 9223372036854775808\n', '9223372036854775808 is out of range for int64');
    refuses('toml', 'a = [1, 99999999999999999999]\n', '99999999999999999999 is out of range for int64');
  });

  it('CUE: a number beyond float64 is an error (conftest: cannot unmarshal number 8E+308)', () => {
    refuses('cue', '8e308', /^json: cannot unmarshal number Inf .* into Go value of type float64$/);
    refuses('cue', 'a: [-1e400]\n', /^json: cannot unmarshal number -Inf /);
    assert.deepEqual(reads('cue', 'a: 1e-400\n'), { a: 0 });
  });
});

describe('fuzz findings: no raw exception escapes', () => {
  // conftest prints an empty document ("") for such references; Portcullis refuses them, as it
  // already refused &#x110000;, rather than read a document conftest does not produce
  it('XML: a numeric character reference that is no character is a located ParseError (was a RangeError)', () => {
    for (const ref of ['&#-1;', '&#x-5;', '&#1a;', '&#0;', '&#xFFFE;']) refuses('xml', `<a>${ref}</a>`, `invalid character entity ${ref}`);
    assert.deepEqual(reads('xml', '<a>&#65;&#x1F600;&#xD800;</a>'), { a: 'A\u{1F600}\uFFFD' });
  });

  it('CUE: names of Object.prototype are ordinary unknown references (was a TypeError)', () => {
    refuses('cue', '__proto__', 'reference "__proto__" not found');
    refuses('cue', 'a: constructor\n', 'reference "constructor" not found');
    refuses('cue', 'a: __defineGetter__\n', 'reference "__defineGetter__" not found');
    refuses('cue', 'a: strings.toString("x")\n', 'undefined: strings.toString');
    assert.deepEqual(reads('cue', 'a: len("ab")\n'), { a: 2 });
  });
});

describe('fuzz findings: numbers and truncation in textproto and CycloneDX', () => {
  // answers recorded from conftest 0.71.1 (parse errors keep conftest's reason after the path)
  it('textproto: integers beyond their field type and odd enum numbers are refused, as in conftest', () => {
    writeFileSync(join(dir, 'n.proto'), 'syntax = "proto3";\npackage n;\nenum C { R = 0; G = 1; }\nmessage M { int32 i = 1; int64 l = 2; uint64 u = 3; C c = 4; repeated int32 r = 5; map<string, int32> m = 6; M sub = 7; string s = 8; }\n');
    setProtoFileDirs([dir]);
    try {
      const head = '# proto-message: n.M\n';
      refuses('textproto', head + 'i: 99999999999\n', 'invalid value for int32 type: 99999999999');
      refuses('textproto', head + 'i: 2147483648\n', 'invalid value for int32 type: 2147483648');
      refuses('textproto', head + 'l: 9223372036854775808\n', 'invalid value for int64 type: 9223372036854775808');
      refuses('textproto', head + 'u: 18446744073709551616\n', 'invalid value for uint64 type: 18446744073709551616');
      refuses('textproto', head + 'i: 1e999\n', 'invalid value for int32 type: 1e999');
      refuses('textproto', head + 'r: [1, 99999999999999999999999999]\n', 'invalid value for int32 type: 99999999999999999999999999');
      refuses('textproto', head + 'm { key: "a" value: 3000000000 }\n', 'invalid value for int32 type: 3000000000');
      refuses('textproto', head + 'c: -a\n', 'invalid value for enum type: -a');
      refuses('textproto', head + 'c: 5000000000\n', 'invalid value for enum type: 5000000000');
      refuses('textproto', head + 'c: 1e999\n', 'invalid value for enum type: 1e999');
      assert.deepEqual(
        reads('textproto', head + 'i: -2147483648\nu: 18446744073709551615\nc: 0x1\nr: [017, 0x10]\n'),
        { i: -2147483648, u: '18446744073709551615', c: 'G', r: [15, 16] },
      );
      // truncated inputs: conftest says "unexpected EOF"; never a TypeError past the last token
      refuses('textproto', head + 'sub<s:"">m{', /^unexpected EOF/);
      refuses('textproto', head + 'm{', /^unexpected EOF/);
      refuses('textproto', head + 'm{key', /^unexpected EOF/);
      refuses('textproto', head + 'm{key:', /^unexpected EOF/);
      refuses('textproto', head + 'i:', /^unexpected EOF/);
    } finally {
      setProtoFileDirs([]);
    }
  });

  it('CycloneDX: the XML version attribute is a Go int; JSON numbers beyond float64 are refused', () => {
    refuses('cyclonedx', '<bom s=""version="^"><components><component e=""><name></name></component></components></bom>', 'decode CycloneDX BOM: strconv.ParseInt: parsing "^": invalid syntax');
    refuses('cyclonedx', '<bom version="99999999999999999999999"></bom>', 'decode CycloneDX BOM: strconv.ParseInt: parsing "99999999999999999999999": value out of range');
    refuses('cyclonedx', '<bom version="1.5"></bom>', 'decode CycloneDX BOM: strconv.ParseInt: parsing "1.5": invalid syntax');
    refuses('cyclonedx', '<bom version=" "></bom>', 'decode CycloneDX BOM: strconv.ParseInt: parsing "": invalid syntax');
    assert.equal((reads('cyclonedx', '<bom version=" 3 "></bom>') as { version: number }).version, 3);
    assert.equal((reads('cyclonedx', '<bom version=""></bom>') as { version: number }).version, 0);
    assert.equal((reads('cyclonedx', '<bom version="+7"></bom>') as { version: number }).version, 7);
    assert.equal((reads('cyclonedx', '<bom version="9223372036854775807"></bom>') as { version: number }).version, 9223372036854775807);
    refuses('cyclonedx', '{"bomFormat":"CycloneDX","specVersion":"1.4","version":1e400,"components":[]}', 'decode CycloneDX BOM: json: cannot unmarshal number 1e400 into Go struct field BOM.version of type int');
    refuses(
      'cyclonedx',
      '{"bomFormat":"CycloneDX","specVersion":"1.4","version":1,"components":[{"name":"1e999","version":"1","x":-1e400}]}',
      'unmarshaling JSON error: json: cannot unmarshal number -1e400 into Go value of type float64',
    );
  });
});
