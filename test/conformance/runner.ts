// Reads the Rego conformance cases in ../shared/conformance (formats in its README) and runs
// them through the Engine. Used by test/conformance/conformance.test.ts and by
// scripts/conformance.ts (which prints every failure).

import { readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { Engine } from "../../src/index.ts";
import { RegoError } from "../../src/rego/errors.ts";
import { parseTerm } from "../../src/rego/parser.ts";
import type { Value } from "../../src/rego/value.ts";
import { RSet, equal, fromJS, makeObject, toJS, emptyObject } from "../../src/rego/value.ts";
import { yamlFiles } from "../support/oracles.ts";

const DISAGREES: Set<string> = new Set(
  (JSON.parse(readFileSync(new URL("./opa-disagrees.json", import.meta.url), "utf8")).cases as { suite: string; file: string; note: string }[]).map(
    (c) => `${c.suite}|${c.file}|${c.note}`,
  ),
);

export const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));
export const CONFORMANCE = join(SHARED, "conformance");

export interface CaseResult {
  suite: string; // opa, rego-cpp, regorus
  folder: string; // path of the file's folder relative to the suite
  file: string;
  note: string;
  status: "pass" | "fail" | "skip";
  reason?: string;
}

export function sharedAvailable(): boolean {
  return existsSync(CONFORMANCE);
}

const OPA_FIELDS = new Set([
  "note", "query", "modules", "data", "input", "input_term", "want_result", "sort_bindings",
  "want_error_code", "want_error", "strict_error", "skip",
]);
const REGORUS_FIELDS = new Set([
  "note", "query", "modules", "data", "input", "want_result", "no_result", "error", "want_prints",
  "skip", "sort_bindings", "strict",
]);

/** Run every case of one suite. */
export function runSuite(suite: "opa" | "rego-cpp" | "regorus", opts: { ignoreDisagreements?: boolean } = {}): CaseResult[] {
  const root = join(CONFORMANCE, suite);
  const results: CaseResult[] = [];
  for (const file of yamlFiles(root)) {
    const rel = relative(root, file);
    const folder = rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : ".";
    let doc: { cases?: Record<string, unknown>[] };
    try {
      doc = yaml.load(readFileSync(file, "utf8")) as typeof doc;
    } catch (e) {
      results.push({ suite, folder, file: rel, note: "(file)", status: "fail", reason: `YAML: ${(e as Error).message}` });
      continue;
    }
    for (const tc of doc?.cases ?? []) {
      const note = String(tc.note ?? "");
      let r: Omit<CaseResult, "suite" | "folder" | "file" | "note">;
      try {
        r = suite === "regorus" ? runRegorusCase(tc, rel) : runOpaCase(tc);
      } catch (e) {
        r = { status: "fail", reason: `runner crashed: ${(e as Error).stack}` };
      }
      if (r.status === "fail" && !opts.ignoreDisagreements && DISAGREES.has(`${suite}|${rel}|${note}`)) {
        r = { status: "skip", reason: `the case's expectation differs from OPA 1.19, whose answer Portcullis gives (${r.reason})` };
      }
      results.push({ suite, folder, file: rel, note, ...r });
    }
  }
  return results;
}

// ---- OPA format ------------------------------------------------------------------------------

function runOpaCase(tc: Record<string, unknown>): Omit<CaseResult, "suite" | "folder" | "file" | "note"> {
  for (const k of Object.keys(tc)) if (!OPA_FIELDS.has(k)) return { status: "skip", reason: `unknown field ${k}` };
  if (tc.skip) return { status: "skip", reason: "skip" };
  const wantErr = tc.want_error_code !== undefined || tc.want_error !== undefined;
  let results: ReturnType<Engine["queryRaw"]>;
  try {
    const engine = new Engine({ regoVersion: "v1", strictBuiltinErrors: tc.strict_error === true });
    const mods = (tc.modules as string[] | undefined) ?? [];
    if (mods.length) engine.addModules(mods.map((source, i) => ({ file: `test-${i}.rego`, source })));
    if (tc.data !== undefined) engine.addData(tc.data);
    let input: unknown = tc.input;
    if (tc.input_term !== undefined) input = termValue(String(tc.input_term));
    results = engine.queryRaw(String(tc.query), { input, print: () => {} });
    if (results instanceof Promise) return { status: "skip", reason: "async" };
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    if (!wantErr) return { status: "fail", reason: `unexpected error: ${e.message}` };
    if (tc.want_error_code !== undefined && !e.errors.some((x) => x.code === tc.want_error_code)) {
      return { status: "fail", reason: `want ${tc.want_error_code}, got ${e.message}` };
    }
    if (tc.want_error !== undefined && !e.message.includes(String(tc.want_error))) {
      return { status: "fail", reason: `want error containing ${JSON.stringify(tc.want_error)}, got ${e.message}` };
    }
    return { status: "pass" };
  }
  if (wantErr) return { status: "fail", reason: `want error ${tc.want_error_code ?? tc.want_error}, got ${JSON.stringify(results.map((r) => Object.fromEntries([...r.bindings].map(([k, v]) => [k, toJS(v)]))))}` };
  const want = ((tc.want_result as Record<string, unknown>[] | undefined) ?? []).map((w) => normalize(w, tc.sort_bindings === true));
  const got = results.map((r) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of r.bindings) o[k] = toJS(v);
    return normalize(o, tc.sort_bindings === true);
  });
  if (!sameSolutions(want, got)) return { status: "fail", reason: `want ${JSON.stringify(want)}\n got ${JSON.stringify(got)}` };
  return { status: "pass" };
}

function termValue(src: string): Value {
  const t = parseTerm(src);
  const e = new Engine();
  const rs = e.queryRaw(`__x__ = ${src}`);
  void t;
  if (rs instanceof Promise || rs.length === 0) throw new Error(`input_term ${src} is undefined`);
  return rs[0].bindings.get("__x__")!;
}

/** Plain JSON-like value with numbers normalised; lists sorted when asked. */
function normalize(v: unknown, sortLists: boolean): unknown {
  if (Array.isArray(v)) {
    const items = v.map((x) => normalize(x, sortLists));
    if (sortLists) items.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));
    return items;
  }
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = normalize((v as Record<string, unknown>)[k], sortLists);
    return out;
  }
  if (typeof v === "number") return Object.is(v, -0) ? 0 : v;
  return v;
}

function sameSolutions(want: unknown[], got: unknown[]): boolean {
  if (want.length !== got.length) return false;
  const g = got.map((x) => JSON.stringify(x));
  const used = new Array(g.length).fill(false);
  for (const w of want) {
    const s = JSON.stringify(w);
    const i = g.findIndex((x, j) => !used[j] && x === s);
    if (i < 0) return false;
    used[i] = true;
  }
  return true;
}

// ---- regorus format --------------------------------------------------------------------------

const UNDEFINED = Symbol("undefined");

/** Expected values in regorus's notation → values (set!, object!, "#undefined"). */
function regorusValue(v: unknown): Value | typeof UNDEFINED {
  if (v === "#undefined") return UNDEFINED;
  if (Array.isArray(v)) return v.map((x) => regorusValue(x)).filter((x) => x !== UNDEFINED) as Value[];
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === "set!") return new RSet((o["set!"] as unknown[]).map((x) => regorusValue(x) as Value));
    if (keys.length === 1 && keys[0] === "object!") {
      return makeObject((o["object!"] as { key: unknown; value: unknown }[]).map((e) => [regorusValue(e.key) as Value, regorusValue(e.value) as Value]));
    }
    const entries: [Value, Value][] = [];
    for (const k of keys) {
      const x = regorusValue(o[k]);
      if (x !== UNDEFINED) entries.push([k, x]);
    }
    return entries.length ? makeObject(entries) : emptyObject();
  }
  return fromJS(v);
}

function runRegorusCase(tc: Record<string, unknown>, rel: string): Omit<CaseResult, "suite" | "folder" | "file" | "note"> {
  for (const k of Object.keys(tc)) if (!REGORUS_FIELDS.has(k)) return { status: "skip", reason: `regorus-specific field ${k}` };
  if (tc.skip) return { status: "skip", reason: "skip" };
  const v1 = rel === "binding/bindings.yaml";
  const strict = tc.strict !== false;
  const inputs: unknown[] =
    tc.input !== null && typeof tc.input === "object" && "many!" in (tc.input as object)
      ? ((tc.input as Record<string, unknown>)["many!"] as unknown[])
      : [tc.input];
  const wants: unknown[] =
    tc.want_result !== null && typeof tc.want_result === "object" && !Array.isArray(tc.want_result) && "many!" in (tc.want_result as object)
      ? ((tc.want_result as Record<string, unknown>)["many!"] as unknown[])
      : [tc.want_result];
  const prints: string[] = [];
  let engine: Engine;
  try {
    engine = new Engine({ regoVersion: v1 ? "v1" : "v0", strictBuiltinErrors: strict });
    const mods = (tc.modules as string[] | undefined) ?? [];
    if (mods.length) engine.addModules(mods.map((source, i) => ({ file: `test-${i}.rego`, source })));
    if (tc.data !== undefined) engine.addData(tc.data);
  } catch (e) {
    if (!(e instanceof RegoError)) throw e;
    if (tc.error !== undefined) return { status: "pass" };
    return { status: "fail", reason: `unexpected error: ${e.message}` };
  }
  for (let i = 0; i < inputs.length; i++) {
    let rs;
    try {
      rs = engine.queryRaw(String(tc.query), { input: inputs[i], print: (l) => prints.push(l) });
      if (rs instanceof Promise) return { status: "skip", reason: "async" };
    } catch (e) {
      if (!(e instanceof RegoError)) throw e;
      if (tc.error !== undefined) continue;
      return { status: "fail", reason: `unexpected error: ${e.message}` };
    }
    if (tc.error !== undefined) return { status: "fail", reason: `want error ${JSON.stringify(tc.error)}, got a result` };
    if (tc.no_result) continue;
    if (tc.want_result === undefined) continue;
    let got: Value | typeof UNDEFINED;
    const entry = (r: (typeof rs)[number]): Value => {
      if (r.bindings.size > 0) return makeObject([...r.bindings]);
      return r.expressions.length === 1 ? r.expressions[0] : r.expressions;
    };
    if (rs.length === 1) got = entry(rs[0]);
    else got = rs.map(entry);
    const want = regorusValue(wants[i]);
    if (want === UNDEFINED) {
      if (rs.length !== 0) return { status: "fail", reason: `want undefined, got ${JSON.stringify(toJS(got as Value))}` };
      continue;
    }
    // Compared as plain JSON (as the YAML holds them): big numbers are doubles on both sides.
    const sameJS = (a: Value, b: Value) => JSON.stringify(normalize(toJS(a), false)) === JSON.stringify(normalize(toJS(b), false));
    let ok = equal(want, got as Value) || sameJS(want, got as Value);
    if (!ok && tc.sort_bindings && Array.isArray(want) && Array.isArray(got)) {
      ok = equal(new RSet(want), new RSet(got as Value[])) || sameJS(new RSet(want), new RSet(got as Value[]));
    }
    if (!ok) return { status: "fail", reason: `input ${i}: want ${JSON.stringify(toJS(want))}\n got ${JSON.stringify(toJS(got as Value))}` };
  }
  if (tc.want_prints !== undefined) {
    const wp = tc.want_prints as string[];
    if (JSON.stringify(wp) !== JSON.stringify(prints)) return { status: "fail", reason: `want prints ${JSON.stringify(wp)}, got ${JSON.stringify(prints)}` };
  }
  return { status: "pass" };
}

/** Counts per folder: { "opa/strings": {pass, fail, skip} }. */
export function tally(results: CaseResult[]): Map<string, { pass: number; fail: number; skip: number }> {
  const m = new Map<string, { pass: number; fail: number; skip: number }>();
  for (const r of results) {
    const key = `${r.suite}/${r.folder}`;
    let t = m.get(key);
    if (!t) m.set(key, (t = { pass: 0, fail: 0, skip: 0 }));
    t[r.status]++;
  }
  return m;
}
