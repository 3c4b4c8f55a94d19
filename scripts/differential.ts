// Differential test against real OPA: every module set and query of the conformance cases in
// ../shared/conformance is evaluated by Portcullis and by `opa eval` (when `opa` is on PATH or in
// ~/go/bin), and every disagreement is listed. Usage: npm run differential [-- SUITE [FILTER]]
//
// Compared: the result set (bindings and expression values, as exact JSON, solutions in any
// order), or — when either side fails — the error code.

import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync, readFileSync, readdirSync, statSync, existsSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { tmpdir, homedir } from "node:os";
import yaml from "js-yaml";
import { Engine } from "../src/index.ts";
import { RegoError } from "../src/rego/errors.ts";
import { toJSONText } from "../src/rego/value.ts";
import { CONFORMANCE, sharedAvailable, runSuite } from "../test/conformance/runner.ts";

function findOpa(): string | null {
  for (const c of [join(homedir(), "go", "bin", "opa"), "opa"]) {
    try {
      execFileSync(c, ["version"], { stdio: "ignore" });
      return c;
    } catch {
      /* try the next */
    }
  }
  return null;
}

const opa = findOpa();
if (!opa || !sharedAvailable()) {
  console.log(`skipped: ${!opa ? "opa not found (go install github.com/open-policy-agent/opa@v1.19.0)" : "../shared absent"}`);
  process.exit(0);
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.ya?ml$/.test(n)) out.push(p);
  }
  return out;
}

interface Outcome {
  ok: boolean;
  text: string; // canonical result or error code
}

function canonResults(rs: { expressions: string[]; bindings: string }[]): string {
  return rs
    .map((r) => `${r.bindings}|${r.expressions.join(",")}`)
    .sort()
    .join("\n");
}

function runOurs(mods: string[], data: unknown, input: unknown, query: string, v0: boolean, strict: boolean): Outcome {
  try {
    const e = new Engine({ regoVersion: v0 ? "v0" : "v1", strictBuiltinErrors: strict });
    if (mods.length) e.addModules(mods.map((source, i) => ({ file: `test-${i}.rego`, source })));
    if (data !== undefined) e.addData(data);
    const rs = e.queryRaw(query, { input, print: () => {} });
    if (rs instanceof Promise) return { ok: false, text: "async" };
    return {
      ok: true,
      text: canonResults(
        rs.map((r) => ({
          expressions: r.expressions.map((v) => JSON.stringify(sortKeys(JSON.parse(toJSONText(v))))),
          bindings: JSON.stringify(sortKeys(Object.fromEntries([...r.bindings].map(([k, v]) => [k, JSON.parse(toJSONText(v))])))),
        })),
      ),
    };
  } catch (err) {
    if (err instanceof RegoError) return { ok: false, text: err.code };
    return { ok: false, text: `crash: ${(err as Error).message}` };
  }
}

function runOpa(mods: string[], data: unknown, input: unknown, query: string, v0: boolean, strict: boolean): Outcome {
  const dir = mkdtempSync(join(tmpdir(), "pdiff-"));
  try {
    const args = ["eval", "-f", "json"];
    mods.forEach((m, i) => {
      writeFileSync(join(dir, `test-${i}.rego`), m);
      args.push("-d", join(dir, `test-${i}.rego`));
    });
    if (data !== undefined) {
      writeFileSync(join(dir, "data.json"), JSON.stringify(data));
      args.push("-d", join(dir, "data.json"));
    }
    if (input !== undefined) {
      writeFileSync(join(dir, "input.json"), JSON.stringify(input));
      args.push("-i", join(dir, "input.json"));
    }
    if (v0) args.push("--v0-compatible");
    if (strict) args.push("--strict-builtin-errors");
    args.push(query);
    let stdout: string;
    try {
      stdout = execFileSync(opa!, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    } catch (e) {
      stdout = (e as { stdout?: string }).stdout ?? "";
    }
    const j = JSON.parse(stdout || "{}");
    if (j.errors) return { ok: false, text: j.errors[0].code };
    const rs = (j.result ?? []) as { expressions: { value: unknown }[]; bindings?: Record<string, unknown> }[];
    return {
      ok: true,
      text: canonResults(
        rs.map((r) => ({
          expressions: r.expressions.map((x) => JSON.stringify(sortKeys(x.value))),
          bindings: JSON.stringify(sortKeys(r.bindings ?? {})),
        })),
      ),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  // A Map keeps the sorted order even for integer-like keys (a plain object would not).
  if (v && typeof v === "object") return Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]);
  return v;
}

const writeList = process.argv.includes("--write-disagreements");
const [suiteArg, filter] = process.argv.slice(2).filter((a) => !a.startsWith("--"));
// Per case: did every evaluation agree with OPA?
const agreed = new Map<string, boolean>();
const suites = suiteArg ? [suiteArg] : ["opa", "rego-cpp", "regorus"];
let total = 0;
let disagree = 0;
for (const s of suites) {
  const root = join(CONFORMANCE, s);
  if (!existsSync(root)) continue;
  for (const f of files(root)) {
    const rel = relative(root, f);
    const doc = yaml.load(readFileSync(f, "utf8")) as { cases?: Record<string, unknown>[] };
    for (const tc of doc?.cases ?? []) {
      if (filter && !rel.includes(filter) && !String(tc.note).includes(filter)) continue;
      if (tc.skip) continue;
      const v0 = s === "regorus" && rel !== "binding/bindings.yaml";
      const strict = s === "regorus" ? tc.strict !== false : tc.strict_error === true;
      const mods = (tc.modules as string[]) ?? [];
      let inputs: unknown[] = [tc.input];
      if (tc.input && typeof tc.input === "object" && "many!" in (tc.input as object)) inputs = (tc.input as { "many!": unknown[] })["many!"];
      if (tc.input_term !== undefined) continue; // input written as a Rego term: covered by the conformance runner
      for (const input of inputs) {
        total++;
        const a = runOurs(mods, tc.data, input, String(tc.query), v0, strict);
        const b = runOpa(mods, tc.data, input, String(tc.query), v0, strict);
        const same = a.ok === b.ok && (a.ok ? a.text === b.text : a.text === b.text);
        const key = `${s}|${rel}|${tc.note}`;
        agreed.set(key, (agreed.get(key) ?? true) && same);
        if (!same) {
          disagree++;
          console.log(`DIFF ${s}/${rel} :: ${tc.note}\n  portcullis: ${a.text.slice(0, 400)}\n  opa:        ${b.text.slice(0, 400)}`);
        }
      }
    }
  }
}
console.log(`\n${total} evaluations compared, ${disagree} disagreements`);

// With --write-disagreements: the conformance cases that fail against their YAML expectation
// while Portcullis and OPA agree are the cases whose expectation differs from OPA; they are
// written to test/conformance/opa-disagrees.json, which the conformance runner reports as skips.
if (writeList) {
  const cases: { suite: string; file: string; note: string }[] = [];
  for (const s of ["opa", "rego-cpp", "regorus"] as const) {
    for (const r of runSuite(s, { ignoreDisagreements: true })) {
      if (r.status === "fail" && agreed.get(`${s}|${r.file}|${r.note}`) === true) cases.push({ suite: s, file: r.file, note: r.note });
    }
  }
  const out = {
    _about:
      "Conformance cases whose expected answer differs from what real OPA 1.19 answers, where Portcullis gives OPA 1.19's answer. Written by `npm run differential -- --write-disagreements`: each case fails against its YAML expectation while Portcullis and `opa eval` agree. The conformance runner reports them as skipped; re-check after upgrading the reference OPA.",
    cases,
  };
  writeFileSync(new URL("../test/conformance/opa-disagrees.json", import.meta.url), JSON.stringify(out, null, 1) + "\n");
  console.log(`${cases.length} cases written to test/conformance/opa-disagrees.json`);
}
