/**
 * Input-format parsers: every sample under examples/formats/<format>/ must
 * parse to exactly what `conftest parse` printed for it (the committed
 * <name>.expected.json, recorded with test/formats/record-expected.ts, i.e.
 * `conftest parse --parser <format> <sample>` with conftest v0.71.1).
 * Key order does not matter; values do.
 *
 * When a conftest binary is available (~/go/bin/conftest, $CONFTEST_BIN or
 * PATH), a second suite runs it live on every sample and compares.
 *
 *   node --import tsx --test test/formats/formats.test.ts
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, basename, dirname } from 'node:path';
import {
  parseFile,
  parseContent,
  getParser,
  parserForFile,
  detectParserName,
  PARSER_NAMES,
  ParseError,
} from '../../src/formats/index.ts';
import { listSamples } from './samples.ts';
import { findConftest, conftestInput } from './conftest.ts';
import { setProtoFileDirs } from '../../src/formats/textproto.ts';

const samples = listSamples();

/** textproto samples keep their .proto files in a protos/ folder beside them. */
function useProtos(s: { format: string; path: string }) {
  setProtoFileDirs(s.format === 'textproto' ? [join(dirname(s.path), 'protos')] : []);
}

describe('samples match recorded conftest output', () => {
  for (const s of samples) {
    it(`${s.format}: ${basename(s.path)}`, () => {
      useProtos(s);
      const expected = JSON.parse(readFileSync(s.expected, 'utf8'));
      assert.deepStrictEqual(parseFile(s.path, { parser: s.format }), expected);
    });
  }
});

describe('samples are detected by file name', () => {
  for (const s of samples) {
    it(`${basename(s.path)} → ${s.format}`, () => {
      assert.equal(parserForFile(s.path)?.name, s.format);
      useProtos(s);
      const expected = JSON.parse(readFileSync(s.expected, 'utf8'));
      assert.deepStrictEqual(parseFile(s.path), expected);
    });
  }
});

describe('parser registry', () => {
  it('knows conftest parser names', () => {
    for (const n of [
      'yaml', 'json', 'jsonc', 'hcl2', 'hcl1', 'dockerfile', 'toml', 'ini', 'properties', 'dotenv', 'xml', 'ignore',
      'edn', 'hocon', 'cue', 'jsonnet', 'vcl', 'cyclonedx', 'spdx', 'textproto',
    ]) {
      assert.ok(PARSER_NAMES.includes(n), n);
      assert.equal(getParser(n)?.name, n);
    }
    assert.equal(getParser('nope'), undefined);
  });
});

// File name → parser, as conftest v0.71.1 picks it (checked by running it).
const DETECTION: [string, string][] = [
  ['deploy.yaml', 'yaml'],
  ['deploy.YML', 'yaml'],
  ['x.json', 'json'],
  ['x.jsonc', 'jsonc'],
  ['main.tf', 'hcl2'],
  ['prod.tfvars', 'hcl2'],
  ['config.hcl', 'hcl2'],
  ['x.hcl1', 'hcl1'],
  ['Dockerfile', 'dockerfile'],
  ['dockerfile', 'dockerfile'],
  ['DOCKERFILE', 'dockerfile'],
  ['Dockerfile.dev', 'dockerfile'],
  ['Dockerfile.prod.yaml', 'dockerfile'],
  ['api.Dockerfile', 'dockerfile'],
  ['x.dockerfile', 'dockerfile'],
  ['Dockerfile-dev', ''],
  ['Containerfile', ''],
  ['x.toml', 'toml'],
  ['x.ini', 'ini'],
  ['x.properties', 'properties'],
  ['.env', 'dotenv'],
  ['x.env', 'dotenv'],
  ['.env.prod', 'dotenv'],
  ['.env.local.bak', 'dotenv'],
  ['.env.json', 'dotenv'],
  ['.env.yaml', 'yaml'],
  ['.env.tf', 'hcl2'],
  ['x.env.example', 'example'],
  ['.envrc', 'envrc'],
  ['x.xml', 'xml'],
  ['x.edn', 'edn'],
  ['x.hocon', 'hocon'],
  ['x.conf', 'conf'],
  ['nginx.conf', 'nginx'],
  ['x.cue', 'cue'],
  ['x.jsonnet', 'jsonnet'],
  ['x.libsonnet', 'libsonnet'],
  ['x.vcl', 'vcl'],
  ['.gitignore', 'ignore'],
  ['.dockerignore', 'ignore'],
  ['x.ignore', 'ignore'],
  ['.npmignore', 'npmignore'],
  ['x.spdx', 'spdx'],
  ['x.cyclonedx', 'cyclonedx'],
  ['x.textproto', 'textproto'],
  ['x.textpb', 'textproto'],
  ['Jenkinsfile', 'groovy'],
  ['Jenkinsfile.prod', 'groovy'],
  ['Jenkinsfile.yml', 'yaml'],
  ['Jenkinsfile.json', 'groovy'],
  ['CODEOWNERS', 'codeowners'],
  ['x.groovy', 'groovy'],
  ['Makefile', ''],
  ['x.yaml.bak', 'bak'],
];

describe('file type detection (conftest rules)', () => {
  for (const [name, parser] of DETECTION) {
    it(`${name} → ${parser || '(none)'}`, () => {
      assert.equal(detectParserName(join('some', 'dir', name)), parser);
    });
  }
});

function parseError(fn: () => unknown): ParseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ParseError, `expected ParseError, got ${e}`);
    return e;
  }
  assert.fail('expected a ParseError');
}

describe('bad input gives a ParseError naming file, line and parser', () => {
  const cases: { name: string; file: string; content: string; parser: string; line?: number; column?: number }[] = [
    { name: 'yaml flow sequence', file: 'bad.yaml', content: 'a: 1\nb: [1, 2\n', parser: 'yaml', line: 3 },
    { name: 'yaml tab indentation', file: 'bad.yaml', content: 'a:\n\t- b\n', parser: 'yaml', line: 2 },
    { name: 'yaml error in second document', file: 'bad.yaml', content: 'a: 1\n---\nb: 1\nc: : [\n', parser: 'yaml', line: 4 },
    { name: 'yaml .inf', file: 'bad.yaml', content: 'a: .inf\n', parser: 'yaml' },
    { name: 'yaml null map key', file: 'bad.yaml', content: 'a: 1\n~: 2\n', parser: 'yaml' },
    { name: 'json', file: 'bad.json', content: '{\n  "a": 1,\n  "b": x\n}\n', parser: 'json', line: 3, column: 8 },
    { name: 'json trailing data', file: 'bad.json', content: '{"a":1}\n{"b":2}', parser: 'json', line: 2, column: 1 },
    { name: 'json empty', file: 'bad.json', content: '', parser: 'json', line: 1 },
    { name: 'jsonc trailing comma', file: 'bad.jsonc', content: '{\n // c\n "a": [1,]\n}', parser: 'jsonc', line: 3, column: 10 },
    { name: 'hcl2 missing newline', file: 'bad.tf', content: 'a = 1 b = 2\n', parser: 'hcl2', line: 1, column: 7 },
    { name: 'hcl2 unclosed block', file: 'bad.tf', content: 'x = 1\nresource "a" "b" {\n  y = 2\n', parser: 'hcl2', line: 2 },
    { name: 'hcl2 unterminated string', file: 'bad.tf', content: 'a = 1\nb = "abc\n', parser: 'hcl2', line: 2 },
    { name: 'hcl2 duplicate attribute', file: 'bad.tf', content: 'a = 1\na = 2\n', parser: 'hcl2', line: 2 },
    { name: 'dockerfile unknown instruction', file: 'Dockerfile', content: 'FROM a\nRUN x\nFOO bar\n', parser: 'dockerfile', line: 3 },
    { name: 'dockerfile ENV', file: 'Dockerfile', content: 'FROM a\nENV ONLYKEY\n', parser: 'dockerfile', line: 2 },
    { name: 'dockerfile empty', file: 'Dockerfile', content: '# nothing\n', parser: 'dockerfile' },
    { name: 'dockerfile unterminated heredoc', file: 'Dockerfile', content: 'FROM a\nRUN <<EOF\necho\n', parser: 'dockerfile', line: 2 },
    { name: 'toml', file: 'bad.toml', content: 'a = 1\nb = \n', parser: 'toml', line: 2 },
    { name: 'ini', file: 'bad.ini', content: '[s]\nok = 1\nbad line\n', parser: 'ini', line: 3 },
    { name: 'dotenv', file: 'bad.env', content: 'A=1\nnot valid\n', parser: 'dotenv', line: 2 },
    { name: 'xml mismatched tag', file: 'bad.xml', content: '<a>\n  <b></c>\n</a>\n', parser: 'xml', line: 2 },
    { name: 'hcl1 unclosed object', file: 'bad.hcl1', content: 'a = 1\nb {\n', parser: 'hcl1', line: 3 },
    { name: 'edn unterminated map', file: 'bad.edn', content: '{:a 1\n :b', parser: 'edn', line: 2 },
    { name: 'hocon unterminated string', file: 'bad.hocon', content: 'a {\n  b = "x\n}\n', parser: 'hocon', line: 2 },
    { name: 'jsonnet unknown variable', file: 'bad.jsonnet', content: '{\n  a: 1,\n  b: nope,\n}\n', parser: 'jsonnet', line: 3, column: 6 },
    { name: 'jsonnet runtime error', file: 'bad.jsonnet', content: 'local x = 1;\n{ a: error "boom" }\n', parser: 'jsonnet', line: 2 },
    { name: 'cue conflict', file: 'bad.cue', content: 'a: 1\na: 2\n', parser: 'cue' },
    { name: 'cue syntax', file: 'bad.cue', content: 'a: 1\nb: [1, 2\n', parser: 'cue', line: 3 },
    { name: 'spdx unknown tag', file: 'bad.spdx', content: 'SPDXVersion: SPDX-2.3\nBogusTag: x\n', parser: 'spdx', line: 2 },
    { name: 'cyclonedx wrong type', file: 'bad.cyclonedx', content: '{"components": "x"}', parser: 'cyclonedx' },
    { name: 'properties bad unicode', file: 'bad.properties', content: 'a=1\nb=\\uZZZZ\n', parser: 'properties', line: 2 },
    { name: 'textproto without message comment', file: 'bad.textproto', content: 'a: 1\n', parser: 'textproto' },
    { name: 'vcl missing brace', file: 'bad.vcl', content: 'vcl 4.0;\nbackend x {\n  .host = "h";\n', parser: 'vcl', line: 2 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = parseError(() => parseContent(c.content, c.file));
      assert.equal(e.file, c.file);
      assert.equal(e.parser, c.parser);
      if (c.line !== undefined) assert.equal(e.line, c.line, e.message);
      if (c.column !== undefined) assert.equal(e.column, c.column, e.message);
      assert.ok(e.message.includes(c.file), e.message);
      assert.ok(e.message.includes(c.parser), e.message);
      assert.ok(!/\n\s+at /.test(e.message), 'no stack trace in the message');
    });
  }

  it('unknown parser name', () => {
    const e = parseError(() => parseContent('a: 1', 'x.yaml', { parser: 'nope' }));
    assert.match(e.message, /unknown parser: nope/);
  });
  it('undetectable file type', () => {
    const e = parseError(() => parseContent('x', 'Makefile'));
    assert.match(e.message, /unknown parser/);
  });
  it('missing file', () => {
    const e = parseError(() => parseFile('/nonexistent/dir/x.yaml'));
    assert.equal(e.file, '/nonexistent/dir/x.yaml');
    assert.match(e.message, /no such file/);
  });
});

describe('YAML details', () => {
  const y = (text: string) => parseContent(text, 'x.yaml');
  it('reads YAML 1.1 scalars as Go does', () => {
    assert.deepStrictEqual(y('a: yes\nb: off\nc: 0755\nd: 1_000\ne: 2024-01-01\nf: "yes"\n'), {
      a: true, b: false, c: 493, d: 1000, e: '2024-01-01', f: 'yes',
    });
  });
  it('splits documents on --- lines only', () => {
    assert.deepStrictEqual(y('a: 1\n---\nb: 2\n'), [{ a: 1 }, { b: 2 }]);
    assert.deepStrictEqual(y('---\na: 1\n'), { a: 1 });
    assert.deepStrictEqual(y('a: 1\n--- # x\nb: 2\n'), { a: 1 });
    assert.deepStrictEqual(y('a: 1\n---\n'), [{ a: 1 }, null]);
  });
  it('keeps null values and "null" keys', () => {
    assert.deepStrictEqual(y('a: ~\n"null": 1\nb: [null, ~]\n'), { a: null, null: 1, b: [null, null] });
  });
  it('merge keys override earlier keys', () => {
    assert.deepStrictEqual((y('d: &d {a: 1, b: 1}\nx:\n  a: 0\n  <<: *d\n  b: 2\n') as { x: unknown }).x, { a: 1, b: 2 });
  });
});

describe('YAML speed (hot path)', () => {
  it('parses 1,000 Kubernetes manifests in well under a second', () => {
    const doc = readFileSync(samples.find((s) => s.path.endsWith('deployment.yaml'))!.path, 'utf8');
    const p = getParser('yaml')!;
    p.parse(doc, 'warm.yaml');
    const t0 = performance.now();
    for (let i = 0; i < 1000; i++) p.parse(doc, `m${i}.yaml`);
    const ms = performance.now() - t0;
    // 1,000 files of 4 manifests each; budget is generous for slow CI machines
    assert.ok(ms < 4000, `took ${ms.toFixed(0)} ms`);
  });
});

const conftest = findConftest();

describe('live comparison with conftest parse', { skip: conftest ? false : 'conftest not installed' }, () => {
  for (const s of samples) {
    it(`${s.format}: ${basename(s.path)}`, () => {
      const r = conftestInput(conftest!, s.format, s.path, join(dirname(s.path), 'protos'));
      assert.ok(r.ok, r.ok ? '' : r.error);
      useProtos(s);
      assert.deepStrictEqual(parseFile(s.path, { parser: s.format }), r.value);
    });
  }

  it('detection agrees with conftest on file names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-detect-'));
    try {
      const names = ['a.yaml', 'b.yml', 'Dockerfile.dev', 'x.dockerfile', '.env.prod', 'main.tf', 'c.toml', 'Jenkinsfile.toml'];
      for (const n of names) {
        writeFileSync(join(dir, n), '');
        const r = spawnSync(conftest!, ['parse', n], { cwd: dir, encoding: 'utf8' });
        const out = r.stdout + r.stderr;
        const ours = detectParserName(n);
        if (ours === 'dockerfile') assert.match(out, /dockerfile/);
        else if (ours === 'yaml') assert.equal(out.trim(), 'null');
        else if (ours === 'hcl2' || ours === 'toml' || ours === 'dotenv') assert.equal(out.trim(), '{}', n);
        else if (ours === 'groovy') assert.match(out, /"column"/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
