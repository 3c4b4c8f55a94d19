// Differential run of OPA's whole conformance suite: every case is evaluated by real OPA
// (`opa eval`, OPA 1.19.0 from ~/go/bin or PATH) and by Portcullis.
//
//   npm run opa-suite-differential [-- --write] [-- --filter TEXT] [-- --jobs N]
//
// Prints every case where Portcullis and OPA disagree and their count. Also lists the cases whose
// YAML expectation differs from OPA's real answer; with --write, records OPA's answer for those
// cases in test/conformance/opa-suite-oracle.json, which the suite test uses as their reference.
// Results and errors are compared as the suite test compares them (solutions in any order; errors
// by code). A case whose input is a Rego term that is not JSON gets it through `with input as`.

import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync, rmSync, readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { tmpdir, homedir } from "node:os";
import { execFileSync } from "node:child_process";
import {
  locateSuite, loadSuite, yamlAnswer, portcullisAnswer, agrees, normalize, describe, ORACLE_PATH, OPA_VERSION,
  type Answer, type SuiteCase, type OracleFile,
} from "../test/conformance/opa-suite.ts";

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const write = args.includes("--write");
const filter = flag("--filter");
const jobs = Number(flag("--jobs") ?? 2);
/** --opa-cache FILE: OPA's answers are read from FILE when it exists, else written to it (for re-runs while fixing Portcullis). */
const cacheFile = flag("--opa-cache");

function findOpa(): string | null {
  for (const c of [join(homedir(), "go", "bin", "opa"), "opa"]) {
    try {
      const v = execFileSync(c, ["version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
      if (!v.includes(`Version: ${OPA_VERSION}`)) {
        console.log(`${c} is not OPA ${OPA_VERSION}: ${v.split("\n")[0]}`);
        continue;
      }
      return c;
    } catch {
      /* try the next */
    }
  }
  return null;
}

const opa = findOpa();
const loc = locateSuite();
if ("missing" in loc) {
  console.log(`skipped: ${loc.missing}`);
  process.exit(0);
}
if (!opa) {
  console.log(`skipped: opa ${OPA_VERSION} not found (go install github.com/open-policy-agent/opa@v${OPA_VERSION})`);
  process.exit(0);
}

function isJSON(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

interface OpaError {
  code: string;
  message: string;
  location?: { file: string; row: number };
}

/** An error as the suite's harness prints it (`test-0.rego:4: eval_type_error: …`). */
function errorText(e: OpaError): string {
  return `${e.location ? `${e.location.file}:${e.location.row}: ` : ""}${e.code}: ${e.message}`;
}

/** OPA's answer to one case. */
function runOpa(c: SuiteCase): Promise<Answer> {
  const tc = c.tc;
  const dir = mkdtempSync(join(tmpdir(), "opa-suite-"));
  const argv = ["eval", "-f", "json"];
  ((tc.modules as string[] | undefined) ?? []).forEach((m, i) => {
    writeFileSync(join(dir, `test-${i}.rego`), m);
    argv.push("-d", `test-${i}.rego`); // relative, so that error locations read as the suite's harness writes them
  });
  if (tc.data !== undefined && tc.data !== null) {
    writeFileSync(join(dir, "data.json"), JSON.stringify(tc.data));
    argv.push("-d", "data.json");
  }
  let query = String(tc.query);
  if (tc.input_term !== undefined) {
    const t = String(tc.input_term);
    if (isJSON(t)) {
      writeFileSync(join(dir, "input.json"), t);
      argv.push("-i", "input.json");
    } else {
      query = query.split(/;|\n/).filter((e) => e.trim() !== "").map((e) => `${e} with input as ${t}`).join("; ");
    }
  } else if (tc.input !== undefined) {
    writeFileSync(join(dir, "input.json"), JSON.stringify(tc.input));
    argv.push("-i", "input.json");
  }
  if (c.version === "v0") argv.push("--v0-compatible");
  if (tc.strict_error === true) argv.push("--strict-builtin-errors");
  argv.push(query);
  return new Promise((resolve) => {
    execFile(opa!, argv, { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 }, (_err, stdout) => {
      rmSync(dir, { recursive: true, force: true });
      let j: { errors?: OpaError[]; result?: { bindings?: Record<string, unknown> }[] };
      try {
        j = JSON.parse(stdout || "{}");
      } catch {
        resolve({ error: { code: "opa-output", message: stdout.slice(0, 300) } });
        return;
      }
      if (j.errors?.length) {
        resolve({ error: { code: j.errors[0].code, message: j.errors.map(errorText).join("\n") } });
        return;
      }
      resolve({
        results: (j.result ?? []).map((r) => {
          const b = { ...(r.bindings ?? {}) };
          if (tc.ignore_generated_vars) for (const k of Object.keys(b)) if (k.startsWith("$")) delete b[k];
          return normalize(b);
        }),
      });
    });
  });
}

const cases = loadSuite(loc.dir).filter((c) => !c.tc.skip && (!filter || c.id.includes(filter) || c.note.includes(filter)));
const opaAnswers = new Map<string, Answer>();
let next = 0;
const t0 = Date.now();
if (cacheFile && existsSync(cacheFile)) {
  for (const [k, v] of Object.entries(JSON.parse(readFileSync(cacheFile, "utf8")) as Record<string, Answer>)) opaAnswers.set(k, v);
  next = cases.length;
  if (cases.some((c) => !opaAnswers.has(c.id))) throw new Error(`${cacheFile} lacks some cases: delete it`);
}
await Promise.all(
  Array.from({ length: jobs }, async () => {
    while (next < cases.length) {
      const c = cases[next++];
      opaAnswers.set(c.id, await runOpa(c));
    }
  }),
);
console.log(`opa eval: ${cases.length} cases in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
if (cacheFile && !existsSync(cacheFile)) writeFileSync(cacheFile, JSON.stringify(Object.fromEntries(opaAnswers)));

/** Errors are compared by code only; results exactly (solutions in any order). */
const codeOnly = (a: Answer): Answer => ("error" in a ? { error: { code: a.error.code, message: "" } } : a);

/** `opa.runtime()` reports the `opa eval` process (its environment variables); the suite's harness has no runtime. */
const processDependent = (c: SuiteCase) => JSON.stringify([c.tc.query, c.tc.modules]).includes("opa.runtime");

let disagree = 0;
let silent = 0;
const yamlWrong: Record<string, { note: string; opa: Answer }> = {};
for (const c of cases) {
  const o = opaAnswers.get(c.id)!;
  const y = yamlAnswer(c.tc);
  if (processDependent(c)) {
    console.log(`SKIP ${c.id} (${c.note}): opa eval's answer depends on its process (opa.runtime)`);
    continue;
  }
  if (!agrees(y, o, c.tc)) {
    yamlWrong[c.id] = { note: c.note, opa: codeOnly(o) };
    console.log(`YAML≠OPA ${c.id} (${c.note})\n  yaml: ${describe(y)}\n  opa:  ${describe(o)}`);
  }
  const p = await portcullisAnswer(c);
  if (!agrees(codeOnly(o), p, c.tc)) {
    disagree++;
    if ("results" in o && "results" in p) silent++;
    console.log(`DIFF ${c.id} (${c.note})\n  portcullis: ${describe(p)}\n  opa:        ${describe(o)}`);
  }
}
console.log(`\n${cases.length} cases compared with opa eval: ${disagree} disagreements (${silent} where both give a result set), ${Object.keys(yamlWrong).length} YAML expectations differ from OPA`);

if (write) {
  if (filter) {
    // Only the filtered cases were run: keep the other entries.
    const old = JSON.parse(readFileSync(ORACLE_PATH, "utf8")) as OracleFile;
    for (const c of cases) delete old.cases[c.id];
    Object.assign(old.cases, yamlWrong);
    Object.assign(yamlWrong, old.cases);
  }
  const sorted = Object.fromEntries(Object.keys(yamlWrong).sort().map((k) => [k, yamlWrong[k]]));
  const out: OracleFile = {
    _about: `Cases of OPA ${OPA_VERSION}'s conformance suite whose YAML expectation differs from what \`opa eval\` ${OPA_VERSION} really answers, with OPA's answer (errors by code). Written by scripts/opa-suite-differential.ts --write; test/conformance/opa-suite.test.ts uses these answers as the reference. Case ids are <v0|v1>/<file>#<index of the case in the file>.`,
    opa: OPA_VERSION,
    cases: sorted,
  };
  writeFileSync(ORACLE_PATH, JSON.stringify(out, null, 1) + "\n");
  console.log(`${Object.keys(sorted).length} cases written to test/conformance/opa-suite-oracle.json`);
}
