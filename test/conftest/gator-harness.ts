// `portcullis test` in Gatekeeper mode against `gator test` (v3.23.1) on the Gatekeeper library
// (../shared/gatekeeper-library/library): for each template directory, the template as the
// policy and its samples as the inputs — gator's `test -f SAMPLES -f TEMPLATE`, its Rego driver
// (`--enable-k8s-native-validation=false`: Portcullis runs the Rego, not the CEL code).
// Compared byte for byte: stdout, stderr (the time stamps of gator's log lines removed), exit code.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./harness.ts";
import { main } from "../../src/cli/main.ts";

export const LIBRARY = join(ROOT, "..", "shared", "gatekeeper-library", "library");
export const GATOR_EXPECTED = join(ROOT, "test", "conftest", "gator-expected.json");

export interface GatorCase {
  /** Template directory, relative to the library. */
  dir: string;
  output: "" | "json";
}

/**
 * Directories whose results tie (same action and message) among more than 12 results: gator's
 * order for those comes from Go's unstable sort (pdqsort), which Portcullis does not reproduce
 * (its order is the stable one); they are compared as sorted lines instead.
 */
export const UNSTABLE = new Set(["general/containerresources", "pod-security-policy/capabilities"]);

export function gatorCases(): GatorCase[] {
  if (!existsSync(LIBRARY)) return [];
  const out: GatorCase[] = [];
  for (const group of readdirSync(LIBRARY, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    for (const name of readdirSync(join(LIBRARY, group)).sort()) {
      const dir = `${group}/${name}`;
      if (!existsSync(join(LIBRARY, dir, "template.yaml")) || !existsSync(join(LIBRARY, dir, "samples"))) continue;
      for (const output of ["", "json"] as const) out.push({ dir, output });
    }
  }
  return out;
}

export interface GatorRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** gator's log lines start with a local time stamp (`2026/01/02 15:04:05 `): removed. */
export const withoutTimes = (s: string) => s.replace(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} /gm, "");

export const caseKey = (c: GatorCase) => `${c.dir} | ${c.output || "human"}`;

export function findGator(): string | undefined {
  const candidates = [process.env.GATOR, join(homedir(), "go", "bin", "gator")].filter((x): x is string => !!x);
  return candidates.find((c) => existsSync(c));
}

export function runGator(bin: string, c: GatorCase): GatorRun {
  const args = ["test", "--enable-k8s-native-validation=false", "-f", `${c.dir}/samples`, "-f", `${c.dir}/template.yaml`, ...(c.output ? ["-o", c.output] : [])];
  const r = spawnSync(bin, args, { cwd: LIBRARY, encoding: "utf8" });
  return { stdout: r.stdout, stderr: withoutTimes(r.stderr), code: r.status ?? -1 };
}

export async function runPortcullisGator(c: GatorCase): Promise<GatorRun> {
  const cwd = process.cwd();
  let stdout = "";
  let stderr = "";
  process.chdir(LIBRARY);
  try {
    const io = { out: (x: string) => void (stdout += x), err: (x: string) => void (stderr += x), exitCode: 0 };
    const code = await main(["test", "--enable-k8s-native-validation=false", "-p", `${c.dir}/template.yaml`, `${c.dir}/samples`, ...(c.output ? ["-o", c.output] : [])], io);
    return { stdout, stderr: withoutTimes(stderr), code };
  } finally {
    process.chdir(cwd);
  }
}

/** Lines sorted (for the directories whose tie order is Go's unstable sort). */
export const sortedLines = (s: string) => s.split("\n").sort().join("\n");
