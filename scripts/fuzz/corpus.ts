// Seed corpora: Rego modules from the shared conformance suites and the repository (examples/,
// library/, test/), and sample input files for every input format (examples/, test/). Loaded the
// same way, in the same order, by the parent and by every worker, so that a case index names the
// same input everywhere.

import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, resolve, dirname, basename } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { parseModule } from "../../src/rego/parser.ts";
import { detectParserName, PARSER_NAMES } from "../../src/formats/index.ts";

/** The repository (from a bundled worker, runtime.ts: the parent's, passed in the environment). */
export const REPO = process.env.PORTCULLIS_FUZZ_REPO ?? resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function conformanceDir(): string | undefined {
  const candidates = [process.env.PORTCULLIS_CONFORMANCE, join(REPO, "../shared/conformance"), "/work/shared/conformance"];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return undefined;
}

export interface RegoSeed {
  /** Where it came from (for reports). */
  origin: string;
  modules: string[];
  regoVersion: "v0" | "v1";
  query?: string;
  input?: unknown;
  data?: unknown;
}

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name === ".git" || name.startsWith(".fuzz")) continue;
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (st.isFile()) out.push(p);
  }
  return out;
}

function parsesAs(src: string): "v0" | "v1" | undefined {
  for (const v of ["v1", "v0"] as const) {
    try {
      parseModule("seed.rego", src, { regoVersion: v });
      return v;
    } catch {
      // try the other version
    }
  }
  return undefined;
}

let regoSeedsCache: RegoSeed[] | undefined;

export function regoSeeds(): RegoSeed[] {
  if (regoSeedsCache) return regoSeedsCache;
  const seeds: RegoSeed[] = [];
  const conf = conformanceDir();
  if (conf) {
    for (const suite of ["opa", "rego-cpp", "regorus"]) {
      for (const file of walk(join(conf, suite))) {
        if (!/\.ya?ml$/.test(file)) continue;
        let doc: { cases?: Record<string, unknown>[] };
        try {
          doc = yaml.load(readFileSync(file, "utf8")) as typeof doc;
        } catch {
          continue;
        }
        const v: "v0" | "v1" = suite === "regorus" && !file.endsWith("binding/bindings.yaml") ? "v0" : "v1";
        for (const tc of doc?.cases ?? []) {
          const mods = tc.modules;
          if (!Array.isArray(mods) || mods.length === 0 || !mods.every((m) => typeof m === "string")) continue;
          let input: unknown = tc.input;
          if (input && typeof input === "object" && "many!" in (input as object)) input = ((input as Record<string, unknown[]>)["many!"] ?? [])[0];
          seeds.push({
            origin: `${suite}/${file.slice(join(conf, suite).length + 1)}#${String(tc.note ?? "")}`,
            modules: mods as string[],
            regoVersion: v,
            query: typeof tc.query === "string" ? tc.query : undefined,
            input,
            data: tc.data,
          });
        }
      }
    }
  }
  for (const top of ["examples", "library", "test"]) {
    for (const file of walk(join(REPO, top))) {
      if (!file.endsWith(".rego")) continue;
      const src = readFileSync(file, "utf8");
      const v = parsesAs(src);
      if (!v) continue;
      seeds.push({ origin: file.slice(REPO.length + 1), modules: [src], regoVersion: v });
    }
  }
  regoSeedsCache = seeds;
  return seeds;
}

export interface FormatSample {
  parser: string;
  path: string;
  content: string;
}

let samplesCache: Map<string, FormatSample[]> | undefined;

/** Sample inputs per parser name, detected from file names as conftest does. */
export function formatSamples(): Map<string, FormatSample[]> {
  if (samplesCache) return samplesCache;
  const out = new Map<string, FormatSample[]>(PARSER_NAMES.map((n) => [n, []]));
  for (const top of ["examples", "test"]) {
    for (const file of walk(join(REPO, top))) {
      const base = basename(file);
      if (base.endsWith(".expected.json") || base.endsWith(".ts") || base.endsWith(".md") || base.endsWith(".rego")) continue;
      let name = detectParserName(file);
      if (base.endsWith(".cyclonedx")) name = "cyclonedx";
      const list = out.get(name);
      if (!list) continue;
      const st = statSync(file);
      if (st.size > 200_000) continue;
      list.push({ parser: name, path: file, content: readFileSync(file, "utf8") });
    }
  }
  // The conformance suites are YAML too: good yaml seeds.
  const conf = conformanceDir();
  if (conf) {
    for (const file of walk(conf)) {
      if (!/\.ya?ml$/.test(file) || statSync(file).size > 200_000) continue;
      out.get("yaml")!.push({ parser: "yaml", path: file, content: readFileSync(file, "utf8") });
    }
  }
  samplesCache = out;
  return out;
}

/** PEM blobs from the crypto fixtures (certificates, keys, CSRs) for the x509/JWT builtins. */
let cryptoCache: { name: string; text: string }[] | undefined;

export function cryptoFixtures(): { name: string; text: string }[] {
  const dir = join(REPO, "test/fixtures/crypto");
  return (cryptoCache ??= walk(dir).map((p) => ({ name: basename(p), text: readFileSync(p, "utf8") })));
}
