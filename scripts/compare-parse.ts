// Compares `portcullis parse` with `opa parse` file by file:
//   node --import tsx scripts/compare-parse.ts [--format json|pretty] [--locations] [--v0-compatible] [--verbose] PATH…
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { findOpa } from "./compare-check.ts";
import { collectRegoFiles } from "../src/check/index.ts";
import { parseModule } from "../src/rego/parser.ts";
import { regoJSON, regoPretty } from "../src/rego/astprint.ts";

export function opaParse(opa: string, file: string, format: string, locations: boolean, v0: boolean): string | null {
  const args = ["parse", "--format", format, ...(locations ? ["--json-include", "locations"] : []), ...(v0 ? ["--v0-compatible"] : []), file];
  try {
    return execFileSync(opa, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 1 << 28 });
  } catch {
    return null; // does not parse
  }
}

export function ourParse(file: string, format: string, locations: boolean, v0: boolean): string | null {
  const src = readFileSync(file, "utf8");
  let m;
  try {
    m = parseModule(file, src, { regoVersion: v0 ? "v0" : "v1" });
  } catch {
    return null;
  }
  return format === "json" ? regoJSON(m, src, { locations }) : regoPretty(m);
}

if (process.argv[1]?.endsWith("compare-parse.ts")) {
  const args = process.argv.slice(2);
  const fi = args.indexOf("--format");
  const format = fi >= 0 ? args[fi + 1] : "json";
  const locations = args.includes("--locations");
  const v0 = args.includes("--v0-compatible");
  const verbose = args.includes("--verbose");
  const paths = args.filter((a, i) => !a.startsWith("--") && args[i - 1] !== "--format");
  const opa = findOpa();
  if (!opa) throw new Error("opa not found");
  const { files } = collectRegoFiles(paths);
  let same = 0;
  let both = 0;
  for (const f of files) {
    const a = opaParse(opa, f, format, locations, v0);
    const b = ourParse(f, format, locations, v0);
    if (a === null && b === null) continue;
    both++;
    if (a === b) same++;
    else {
      process.stdout.write(`${f}\n`);
      if (verbose) {
        const al = (a ?? "<error>\n").split("\n");
        const bl = (b ?? "<error>\n").split("\n");
        let i = 0;
        while (i < al.length && al[i] === bl[i]) i++;
        process.stdout.write(`  first difference at line ${i + 1}:\n  opa:  ${al.slice(Math.max(0, i - 3), i + 3).join("\n        ")}\n  ours: ${bl.slice(Math.max(0, i - 3), i + 3).join("\n        ")}\n`);
      }
    }
  }
  process.stdout.write(`${same}/${both} identical\n`);
}
