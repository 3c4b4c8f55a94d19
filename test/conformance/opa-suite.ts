// OPA's whole conformance suite (v1/test/cases/testdata/{v0,v1} of OPA's Go module), run through
// the Engine. Used by test/conformance/opa-suite.test.ts and by scripts/opa-suite-differential.ts.
//
// The reference answer of a case is its YAML expectation, except where real OPA 1.19 (`opa eval`)
// answers something else: those cases are recorded, with OPA's answer, in opa-suite-oracle.json
// (written by the differential script), and OPA's answer is the reference.

import { readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { homedir } from "node:os";
import { execFileSync } from "node:child_process";
import yaml from "js-yaml";
import { Engine } from "../../src/index.ts";
import type { RawResult } from "../../src/rego/engine.ts";
import { RegoError } from "../../src/rego/errors.ts";
import { toJS } from "../../src/rego/value.ts";
import type { Value } from "../../src/rego/value.ts";
import { yamlFiles } from "../support/oracles.ts";

export const OPA_VERSION = "1.19.0";
const SUFFIX = `github.com/open-policy-agent/opa@v${OPA_VERSION}/v1/test/cases/testdata`;

/** Where the suite is: $OPA_TESTDATA, then the Go module cache; or why it was not found. */
export function locateSuite(): { dir: string } | { missing: string } {
  const tried: string[] = [];
  const env = process.env.OPA_TESTDATA;
  if (env) {
    if (existsSync(join(env, "v1"))) return { dir: env };
    tried.push(`$OPA_TESTDATA=${env}`);
  }
  let modcache: string | undefined;
  try {
    modcache = execFileSync("go", ["env", "GOMODCACHE"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
  } catch {
    modcache = undefined; // no go: the default location below
  }
  modcache ??= join(homedir(), "go", "pkg", "mod");
  const dir = join(modcache, SUFFIX);
  if (existsSync(join(dir, "v1"))) return { dir };
  tried.push(dir);
  return { missing: `OPA ${OPA_VERSION}'s conformance suite not found (looked in ${tried.join(", ")}); set OPA_TESTDATA or run \`go mod download github.com/open-policy-agent/opa@v${OPA_VERSION}\`` };
}

export interface SuiteCase {
  id: string; // "v1/aggregates/test-aggregates-0001.yaml#3"
  version: "v0" | "v1";
  folder: string; // "v1/aggregates"
  file: string;
  note: string;
  tc: Record<string, unknown>;
}

/** Every case of the suite, in file order. */
export function loadSuite(dir: string): SuiteCase[] {
  const out: SuiteCase[] = [];
  for (const version of ["v0", "v1"] as const) {
    const root = join(dir, version);
    for (const f of yamlFiles(root)) {
      const rel = relative(root, f);
      const folder = `${version}/${rel.includes("/") ? rel.slice(0, rel.lastIndexOf("/")) : "."}`;
      const doc = yaml.load(readFileSync(f, "utf8")) as { cases?: Record<string, unknown>[] };
      (doc?.cases ?? []).forEach((tc, i) => {
        out.push({ id: `${version}/${rel}#${i}`, version, folder, file: `${version}/${rel}`, note: String(tc.note ?? ""), tc });
      });
    }
  }
  return out;
}

/** An answer: the result set (one plain-JSON object of bindings per solution), or an error. */
export type Answer = { results: unknown[] } | { error: { code: string; message: string } };

/** The expected answer written in the case. */
export function yamlAnswer(tc: Record<string, unknown>): Answer {
  if (tc.want_error_code !== undefined || tc.want_error !== undefined) {
    return { error: { code: String(tc.want_error_code ?? ""), message: String(tc.want_error ?? "") } };
  }
  return { results: ((tc.want_result as unknown[] | undefined) ?? []).map((w) => normalize(w)) };
}

/** Portcullis's answer (a Promise when the query needs I/O: net.lookup_ip_addr, http.send). */
export function portcullisAnswer(c: SuiteCase): Answer | Promise<Answer> {
  const tc = c.tc;
  const answer = (rs: RawResult[]): Answer => ({
    results: rs.map((r) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of r.bindings) if (!(tc.ignore_generated_vars && k.startsWith("$"))) o[k] = toJS(v);
      return normalize(o);
    }),
  });
  try {
    const engine = new Engine({ regoVersion: c.version, strictBuiltinErrors: tc.strict_error === true });
    const mods = (tc.modules as string[] | undefined) ?? [];
    if (mods.length) engine.addModules(mods.map((source, i) => ({ file: `test-${i}.rego`, source })));
    if (tc.data !== undefined && tc.data !== null) engine.addData(tc.data);
    let input: unknown = tc.input;
    if (tc.input_term !== undefined) input = termValue(String(tc.input_term));
    const rs = engine.queryRaw(String(tc.query), { input, print: () => {} });
    if (rs instanceof Promise) return rs.then(answer, failure);
    return answer(rs);
  } catch (e) {
    return failure(e);
  }
}

function failure(e: unknown): Answer {
  if (e instanceof RegoError) return { error: { code: e.code, message: e.message } };
  return { error: { code: "crash", message: (e as Error).stack ?? String(e) } };
}

function termValue(src: string): Value {
  const rs = new Engine().queryRaw(`__x__ = ${src}`);
  if (rs instanceof Promise || rs.length === 0) throw new Error(`input_term ${src} is undefined`);
  return rs[0].bindings.get("__x__")!;
}

/** Plain JSON value with keys sorted and -0 as 0. */
export function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => normalize(x));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = normalize((v as Record<string, unknown>)[k]);
    return out;
  }
  if (typeof v === "number") return Object.is(v, -0) ? 0 : v;
  return v;
}

function sortDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortDeep).sort((a, b) => cmpText(JSON.stringify(a), JSON.stringify(b)));
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = sortDeep((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

const cmpText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Same result sets: solutions in any order; with sort_bindings, the lists inside them too. */
export function sameResults(want: unknown[], got: unknown[], sortBindings: boolean): boolean {
  if (want.length !== got.length) return false;
  const key = (x: unknown) => JSON.stringify(sortBindings ? sortDeep(x) : x);
  const g = got.map(key);
  const used = new Array(g.length).fill(false);
  for (const w of want) {
    const s = key(w);
    const i = g.findIndex((x, j) => !used[j] && x === s);
    if (i < 0) return false;
    used[i] = true;
  }
  return true;
}

/** Does `got` give the reference answer? Errors agree on the code (and contain the expected text, when one is given). */
export function agrees(ref: Answer, got: Answer, tc: Record<string, unknown>): boolean {
  if ("error" in ref) {
    if (!("error" in got)) return false;
    if (ref.error.code && got.error.code !== ref.error.code) return false;
    if (ref.error.message && !got.error.message.includes(ref.error.message)) return false;
    return true;
  }
  return "results" in got && sameResults(ref.results, got.results, tc.sort_bindings === true);
}

export interface OracleFile {
  _about: string;
  opa: string;
  cases: Record<string, { note: string; opa: Answer }>;
}

export const ORACLE_PATH = new URL("./opa-suite-oracle.json", import.meta.url);

export function readOracle(): OracleFile {
  return JSON.parse(readFileSync(ORACLE_PATH, "utf8")) as OracleFile;
}

export interface SuiteResult {
  c: SuiteCase;
  status: "pass" | "fail" | "skip";
  /** Both sides gave a result set and they differ (a value vs another value or undefined). */
  silentWrong: boolean;
  ref?: Answer;
  got?: Answer;
  reason?: string;
}

/** Run every case against its reference answer (the YAML's, or OPA's where the oracle file has one). */
export async function runCases(cases: SuiteCase[], oracle: OracleFile): Promise<SuiteResult[]> {
  const out: SuiteResult[] = [];
  for (const c of cases) out.push(await runCase(c, oracle));
  return out;
}

async function runCase(c: SuiteCase, oracle: OracleFile): Promise<SuiteResult> {
  {
    if (c.tc.skip) return { c, status: "skip", silentWrong: false, reason: "skip" };
    const ref = oracle.cases[c.id]?.opa ?? yamlAnswer(c.tc);
    const got = await portcullisAnswer(c);
    if (agrees(ref, got, c.tc)) return { c, status: "pass", silentWrong: false, ref, got };
    const silentWrong = "results" in ref && "results" in got;
    return { c, status: "fail", silentWrong, ref, got, reason: `want ${describe(ref)}\n got ${describe(got)}` };
  }
}

export function describe(a: Answer): string {
  if ("error" in a) return `error ${a.error.code}: ${a.error.message.split("\n")[0].slice(0, 300)}`;
  return a.results.length === 0 ? "undefined" : JSON.stringify(a.results).slice(0, 400);
}

/** Counts per folder. */
export function tallyFolders(rs: SuiteResult[]): Map<string, { pass: number; fail: number; skip: number }> {
  const m = new Map<string, { pass: number; fail: number; skip: number }>();
  for (const r of rs) {
    let t = m.get(r.c.folder);
    if (!t) m.set(r.c.folder, (t = { pass: 0, fail: 0, skip: 0 }));
    t[r.status]++;
  }
  return m;
}
