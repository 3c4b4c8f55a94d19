// Compares `portcullis check` with `opa check` file by file:
//   node --import tsx scripts/compare-check.ts [--strict] [--v0-compatible] [--verbose] PATH…
// (each .rego file under the paths is checked on its own). Prints the differing files and a count.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { checkFiles, collectRegoFiles } from "../src/check/index.ts";
import { formatCheckErrors } from "../src/cli/check.ts";

export function findOpa(): string | null {
  if (process.env.PORTCULLIS_NO_OPA) return null; // tests: use recorded oracle output
  const p = join(homedir(), "go", "bin", "opa");
  if (existsSync(p)) return p;
  for (const d of (process.env.PATH ?? "").split(":")) if (d && existsSync(join(d, "opa"))) return join(d, "opa");
  return null;
}

export function opaCheck(opa: string, files: string[], flags: string[]): string {
  try {
    execFileSync(opa, ["check", ...flags, ...files], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return "";
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? "");
  }
}

export function ourCheck(files: string[], flags: string[]): string {
  const r = checkFiles(files, { strict: flags.includes("--strict"), regoVersion: flags.includes("--v0-compatible") ? "v0" : "v1" });
  return r.errors.length ? formatCheckErrors(r) : "";
}

if (process.argv[1]?.endsWith("compare-check.ts")) {
  const args = process.argv.slice(2);
  const flags = args.filter((a) => a === "--strict" || a === "--v0-compatible");
  const verbose = args.includes("--verbose");
  const paths = args.filter((a) => !a.startsWith("--"));
  const opa = findOpa();
  if (!opa) {
    process.stderr.write("opa not found\n");
    process.exit(1);
  }
  const { files } = collectRegoFiles(paths);
  let same = 0;
  const diffs: string[] = [];
  for (const f of files) {
    const a = opaCheck(opa, [f], flags);
    const b = ourCheck([f], flags);
    if (a === b) same++;
    else {
      diffs.push(f);
      if (verbose) process.stdout.write(`=== ${f}\n--- opa\n${a}--- portcullis\n${b}`);
    }
  }
  if (!verbose) for (const d of diffs) process.stdout.write(d + "\n");
  process.stdout.write(`${same}/${files.length} identical\n`);
}
