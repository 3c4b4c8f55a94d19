// Writes every Rego module of ../shared (conformance cases, Gatekeeper library templates) into a
// directory as .rego files, one directory per Rego version, for comparing `portcullis check`
// and `portcullis parse` with `opa check` and `opa parse`:
//   node --import tsx scripts/rego-corpus.ts OUTDIR  → OUTDIR/v1/..., OUTDIR/v0/...
// Also used by test/cli/parse.test.ts and test/cli/check.test.ts.

import { readFileSync, readdirSync, statSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, relative, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

export const SHARED = fileURLToPath(new URL("../../shared/", import.meta.url));

export interface CorpusModule {
  /** A short unique name, e.g. conformance/opa/assignments/test-0-1.rego. */
  name: string;
  source: string;
  regoVersion: "v0" | "v1";
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

/** Every module of the shared corpora (empty when ../shared is absent). */
export function corpusModules(): CorpusModule[] {
  const out: CorpusModule[] = [];
  const conf = join(SHARED, "conformance");
  if (existsSync(conf)) {
    for (const suite of ["opa", "rego-cpp", "regorus"]) {
      const root = join(conf, suite);
      if (!existsSync(root)) continue;
      for (const file of yamlFiles(root)) {
        let doc: { cases?: { modules?: string[] }[] };
        try {
          doc = yaml.load(readFileSync(file, "utf8")) as typeof doc;
        } catch {
          continue;
        }
        const stem = relative(root, file).replace(/\.ya?ml$/, "");
        (doc?.cases ?? []).forEach((c, i) => {
          (c.modules ?? []).forEach((src, j) => {
            if (typeof src !== "string") return;
            const v1 = suite !== "regorus" || stem.startsWith("binding/bindings");
            out.push({ name: `conformance/${suite}/${stem}/case${i}-${j}.rego`, source: src, regoVersion: v1 ? "v1" : "v0" });
          });
        });
      }
    }
  }
  const gk = join(SHARED, "gatekeeper-library", "library");
  if (existsSync(gk)) {
    for (const file of yamlFiles(gk)) {
      if (!file.endsWith("template.yaml")) continue;
      let doc: { spec?: { targets?: { rego?: string; libs?: string[] }[] } };
      try {
        doc = yaml.load(readFileSync(file, "utf8")) as typeof doc;
      } catch {
        continue;
      }
      const stem = relative(gk, dirname(file));
      (doc?.spec?.targets ?? []).forEach((t, i) => {
        if (t.rego) out.push({ name: `gatekeeper/${stem}/target${i}.rego`, source: t.rego, regoVersion: "v0" });
        (t.libs ?? []).forEach((l, j) => out.push({ name: `gatekeeper/${stem}/target${i}-lib${j}.rego`, source: l, regoVersion: "v0" }));
      });
    }
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: rego-corpus.ts OUTDIR\n");
    process.exit(1);
  }
  const ms = corpusModules();
  for (const m of ms) {
    const p = join(dir, m.regoVersion, m.name);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, m.source);
  }
  process.stdout.write(`${ms.length} modules written to ${dir}\n`);
}
