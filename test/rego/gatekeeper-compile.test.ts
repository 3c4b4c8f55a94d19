// Every Rego module of the Gatekeeper library's templates (rego and libs, v0 unless the code
// entry says v1) parses and compiles. Skips when ../shared is absent.
import test from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { Engine, RegoError } from "../../src/index.ts";

const LIB = fileURLToPath(new URL("../../../shared/gatekeeper-library/library/", import.meta.url));

function templates(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...templates(p));
    else if (n === "template.yaml") out.push(p);
  }
  return out;
}

test("gatekeeper library: every template's Rego compiles", (t) => {
  if (!existsSync(LIB)) {
    t.skip("../shared/gatekeeper-library not present");
    return;
  }
  let modules = 0;
  const failures: string[] = [];
  const files = templates(LIB);
  for (const f of files) {
    const doc = yaml.load(readFileSync(f, "utf8")) as { spec: { targets: Record<string, unknown>[] } };
    for (const target of doc.spec.targets) {
      const sources: { rego: string; libs: string[]; version: "v0" | "v1" }[] = [];
      if (typeof target.rego === "string") sources.push({ rego: target.rego, libs: (target.libs as string[]) ?? [], version: "v0" });
      for (const c of (target.code as { engine: string; source: Record<string, unknown> }[]) ?? []) {
        if (c.engine !== "Rego") continue;
        sources.push({ rego: c.source.rego as string, libs: (c.source.libs as string[]) ?? [], version: c.source.version === "v1" ? "v1" : "v0" });
      }
      for (const s of sources) {
        const e = new Engine({ regoVersion: s.version });
        try {
          e.addModules([{ file: `${f}#rego`, source: s.rego }, ...s.libs.map((l, i) => ({ file: `${f}#lib${i}`, source: l }))]);
          modules += 1 + s.libs.length;
        } catch (err) {
          if (!(err instanceof RegoError)) throw err;
          failures.push(`${f}: ${err.message}`);
        }
      }
    }
  }
  t.diagnostic(`${files.length} templates, ${modules} modules compiled, ${failures.length} failures`);
  for (const x of failures) t.diagnostic(x);
  assert.deepEqual(failures, []);
});
