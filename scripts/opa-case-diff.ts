// Runs the cases of OPA's own test suite (the YAML files under OPA's module source,
// v1/test/cases/testdata/v1/FOLDER) through both `opa eval` and `portcullis eval` (in process)
// and prints every case whose output differs, error messages and locations included, byte for
// byte. It finds the differences the suite's own checks (error code only) let through.
//
// Usage: node --import tsx scripts/opa-case-diff.ts FOLDER_PREFIX... (e.g. graphql jwt cryptox509)
// Needs ~/go/bin/opa (or opa on PATH) and OPA's module source in ~/go/pkg/mod.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import yaml from "js-yaml";
import { runEval } from "../src/cli/eval.ts";

const OPA = [join(homedir(), "go", "bin", "opa"), "opa"].find((c) => {
  try {
    execFileSync(c, ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
});
const CASES = join(homedir(), "go", "pkg", "mod", "github.com", "open-policy-agent", "opa@v1.19.0", "v1", "test", "cases", "testdata", "v1");
if (!OPA || !existsSync(CASES)) {
  console.log("opa or OPA's test cases not found: nothing to compare");
  process.exit(0);
}
const prefixes = process.argv.slice(2);
if (prefixes.length === 0) {
  console.error("usage: opa-case-diff.ts FOLDER_PREFIX...");
  process.exit(1);
}

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}

let same = 0;
let differ = 0;
let skipped = 0;
for (const folder of readdirSync(CASES).sort()) {
  if (!prefixes.some((p) => folder.startsWith(p))) continue;
  for (const file of yamlFiles(join(CASES, folder))) {
    const doc = yaml.load(readFileSync(file, "utf8")) as { cases?: Record<string, unknown>[] };
    for (const tc of doc?.cases ?? []) {
      if (tc.input_term !== undefined || tc.skip) {
        skipped++;
        continue;
      }
      const dir = mkdtempSync(join(tmpdir(), "opa-case-"));
      try {
        const args: string[] = [];
        ((tc.modules as string[] | undefined) ?? []).forEach((m, i) => {
          writeFileSync(join(dir, `test-${i}.rego`), m);
          args.push("-d", join(dir, `test-${i}.rego`));
        });
        if (tc.data !== undefined) {
          writeFileSync(join(dir, "data.json"), JSON.stringify(tc.data));
          args.push("-d", join(dir, "data.json"));
        }
        if (tc.input !== undefined) {
          writeFileSync(join(dir, "input.json"), JSON.stringify(tc.input));
          args.push("-i", join(dir, "input.json"));
        }
        if (tc.strict_error) args.push("--strict-builtin-errors");
        const query = String(tc.query);
        let theirs: string;
        try {
          theirs = execFileSync(OPA, ["eval", "-f", "json", ...args, query], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        } catch (e) {
          theirs = String((e as { stdout?: string }).stdout ?? "");
        }
        let ours = "";
        await runEval(query, { data: args.filter((_, i) => args[i - 1] === "-d"), input: tc.input !== undefined ? join(dir, "input.json") : undefined, strictBuiltinErrors: !!tc.strict_error, format: "json" }, (s) => (ours += s), () => {});
        const norm = (s: string) => s.split(dir + "/").join("");
        if (norm(ours) === norm(theirs)) same++;
        else {
          differ++;
          console.log(`DIFF ${relative(CASES, file)} :: ${tc.note}\n  opa:  ${norm(theirs).trim().replace(/\s+/g, " ")}\n  ours: ${norm(ours).trim().replace(/\s+/g, " ")}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
}
console.log(`\n${same} same, ${differ} different, ${skipped} skipped (input_term or skip)`);
