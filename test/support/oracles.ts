// Helpers shared by tests that compare with a real peer (an oracle) or read its test data.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The `opa` binary to compare with (~/go/bin/opa, then PATH), or null when none runs. */
export function opaPath(): string | null {
  for (const c of [join(homedir(), "go", "bin", "opa"), "opa"]) {
    try {
      execFileSync(c, ["version"], { stdio: "ignore" });
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Every .yaml/.yml file below dir, sorted, depth first. */
export function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...yamlFiles(p));
    else if (/\.ya?ml$/.test(name)) out.push(p);
  }
  return out;
}
