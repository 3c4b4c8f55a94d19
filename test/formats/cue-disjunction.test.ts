// CUE disjunctions of structs: a disjunct whose fields conflict with the other side of a
// unification is eliminated (struct fields are evaluated lazily, so the conflict is looked for
// when the two are unified). Expected documents and errors are conftest 0.71.1's (`conftest parse`,
// which links cue v0.17.1), recorded here so that the test runs without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseContent, ParseError } from '../../src/formats/index.ts';

const parse = (src: string): unknown => parseContent(src, 'x.cue');

test('a definition made of struct disjuncts selects the disjunct the data agrees with', () => {
  // conftest parse: {"v": {"kind": "b", "y": "q"}}
  assert.deepEqual(parse('#A: {kind:"a",x:int} | {kind:"b",y:string}\nv: #A & {kind:"b",y:"q"}\n'), { v: { kind: 'b', y: 'q' } });
  // conftest parse: {"v": {"kind": "a", "x": 3}}
  assert.deepEqual(parse('#A: {kind:"a",x:int} | {kind:"b",y:string}\nv: #A & {kind:"a",x:3}\n'), { v: { kind: 'a', x: 3 } });
});

test('nested, defaulted, recursive and list-valued struct disjuncts answer as cue does', () => {
  const src = [
    '#Port: {port: int & >0 & <65536, proto: *"tcp" | "udp"}',
    '#Svc: {kind: "http", ports: [...#Port]} | {kind: "grpc", reflection: bool}',
    's1: #Svc & {kind: "http", ports: [{port: 80}, {port: 53, proto: "udp"}]}',
    's2: #Svc & {kind: "grpc", reflection: true}',
    '#List: null | {v: int, next: #List}',
    'l: #List & {v: 1, next: {v: 2, next: null}}',
    '_m: {a: 1} | {a: 2}',
    'n: _m & {a: 2}',
    'o: *{x: 1} | {x: 2}',
    'p: o & {x: 2}',
    'q: ({a: b: 1} | {a: b: 2}) & {a: b: 2}',
    '',
  ].join('\n');
  assert.deepEqual(parse(src), {
    l: { next: { next: null, v: 2 }, v: 1 },
    n: { a: 2 },
    o: { x: 1 },
    p: { x: 2 },
    q: { a: { b: 2 } },
    s1: { kind: 'http', ports: [{ port: 80, proto: 'tcp' }, { port: 53, proto: 'udp' }] },
    s2: { kind: 'grpc', reflection: true },
  });
});

test('a disjunct left incomplete is still an error, and no disjunct left is a conflict', () => {
  // conftest: "w.y: cannot convert incomplete value "string" to JSON"
  assert.throws(() => parse('#A: {kind:"a",x:int} | {kind:"b",y:string}\nw: #A & {kind:"b"}\n'), (e: unknown) => e instanceof ParseError && /w\.y: cannot convert incomplete value "string"/.test(e.message));
  // conftest: "v: 2 errors in empty disjunction" (kind: conflicting values "c" and "a" / "c" and "b")
  assert.throws(() => parse('#A: {kind:"a"} | {kind:"b"}\nv: #A & {kind:"c"}\n'), (e: unknown) => e instanceof ParseError);
});
