// The Rego modules the fmt tests run over: every module of the Gatekeeper library's templates
// (rego and libs; v0 unless a code entry says v1) and of the conformance suites in
// ../shared/conformance (opa and rego-cpp: v1; regorus: v0 except binding/bindings.yaml).
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";

export const SHARED = fileURLToPath(new URL("../../../shared/", import.meta.url));

export interface CorpusModule {
  /** A stable name: the YAML file, the case or target, the module's index. */
  name: string;
  source: string;
  regoVersion: "v0" | "v1";
  set: "gatekeeper" | "conformance";
}

export function sharedAvailable(): boolean {
  return existsSync(join(SHARED, "gatekeeper-library")) || existsSync(join(SHARED, "conformance"));
}

function walk(dir: string, pred: (name: string) => boolean): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p, pred));
    else if (pred(n)) out.push(p);
  }
  return out;
}

export function gatekeeperModules(): CorpusModule[] {
  const lib = join(SHARED, "gatekeeper-library", "library");
  const out: CorpusModule[] = [];
  for (const f of walk(lib, (n) => n === "template.yaml")) {
    const rel = relative(lib, f);
    const doc = yaml.load(readFileSync(f, "utf8")) as { spec: { targets: Record<string, unknown>[] } };
    doc.spec.targets.forEach((target, ti) => {
      const add = (src: unknown, what: string, v: "v0" | "v1") => {
        if (typeof src === "string") out.push({ name: `${rel}#${ti}.${what}`, source: src, regoVersion: v, set: "gatekeeper" });
      };
      add(target.rego, "rego", "v0");
      ((target.libs as string[]) ?? []).forEach((l, i) => add(l, `lib${i}`, "v0"));
      ((target.code as { engine: string; source: Record<string, unknown> }[]) ?? []).forEach((c, ci) => {
        if (c.engine !== "Rego") return;
        const v = c.source.version === "v1" ? "v1" : "v0";
        add(c.source.rego, `code${ci}.rego`, v);
        ((c.source.libs as string[]) ?? []).forEach((l, i) => add(l, `code${ci}.lib${i}`, v));
      });
    });
  }
  return out;
}

export function conformanceModules(): CorpusModule[] {
  const root = join(SHARED, "conformance");
  const out: CorpusModule[] = [];
  for (const suite of ["opa", "rego-cpp", "regorus"]) {
    const dir = join(root, suite);
    for (const f of walk(dir, (n) => /\.ya?ml$/.test(n))) {
      const rel = relative(dir, f);
      const v: "v0" | "v1" = suite === "regorus" && rel !== "binding/bindings.yaml" ? "v0" : "v1";
      let doc: { cases?: Record<string, unknown>[] };
      try {
        doc = yaml.load(readFileSync(f, "utf8")) as typeof doc;
      } catch {
        continue;
      }
      (doc?.cases ?? []).forEach((tc, ci) => {
        const mods = tc.modules;
        if (!Array.isArray(mods)) return;
        mods.forEach((m, mi) => {
          if (typeof m === "string") out.push({ name: `${suite}/${rel}#${ci}:${String(tc.note ?? "")}#${mi}`, source: m, regoVersion: v, set: "conformance" });
        });
      });
    }
  }
  return out;
}
