// Records `opa check` output for examples/check/*.rego into examples/check/expected.json, used by
// test/cli/check.test.ts when opa is not installed:
//   node --import tsx scripts/record-check-expected.ts
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { findOpa } from "./compare-check.ts";

const dir = new URL("../examples/check/", import.meta.url).pathname;
const opa = findOpa();
if (!opa) throw new Error("opa not found");
const out: Record<string, Record<string, string>> = {};
const run = (args: string[]) => {
  try {
    execFileSync(opa, args, { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    return "";
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? "");
  }
};
for (const f of readdirSync(dir).filter((n) => n.endsWith(".rego")).sort()) {
  const v0 = f.endsWith(".v0.rego") ? ["--v0-compatible"] : [];
  out[f] = {
    strict: run(["check", "--strict", ...v0, f]),
    "strict-json": run(["check", "--strict", "--format", "json", ...v0, f]),
    plain: run(["check", ...v0, f]),
    "plain-json": run(["check", "--format", "json", ...v0, f]),
  };
}
writeFileSync(join(dir, "expected.json"), JSON.stringify(out, null, 2) + "\n");
process.stdout.write(`${Object.keys(out).length} files recorded\n`);
