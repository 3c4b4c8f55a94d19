// Which Portcullis the bench measures. By default the shipped build: the library in dist/ (what
// `import … from "portcullis"` loads; `npm run build` makes it, and the bench makes it first when
// it is missing or older than a file of src/). With BENCH_SRC=1 (or --src) the TypeScript sources
// through tsx instead — tsx's transform keeps function names (`__name(fn, "f")` around every named
// closure, an Object.defineProperty each time the closure is made), which costs the closure-heavy
// evaluator 9–23 % the bundle does not pay (docs/performance.md), so source figures are not the
// product's figures. tsx leaves .js files alone: dist/ runs as Node runs it without tsx.
//
// The gatekeeper review stream needs the gatekeeper face's Client, and the webhook floor the
// admission path, which dist/index.js does not export: for them the bench bundles the modules
// from src/gatekeeper with dist/'s esbuild settings (ESM, node20, syntax minified, names not
// kept, npm packages external) into dist/bench/.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Library from "../../src/index.ts";
import type * as ClientModule from "../../src/gatekeeper/client.ts";
import type * as SnapshotModule from "../../src/gatekeeper/snapshot.ts";
import type * as WebhookModule from "../../src/gatekeeper/webhook.ts";
import type * as PolicyDirModule from "../../src/gatekeeper/policydir.ts";
import type * as ManifestFilesModule from "../../src/gatekeeper/manifestfiles.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, "../..");
const DIST_INDEX = path.join(ROOT, "dist/index.js");
const CLIENT_BUNDLE = path.join(ROOT, "dist/bench/gatekeeper-client.js");

export const FROM_SOURCES = process.env.BENCH_SRC === "1" || process.argv.includes("--src");
/** How the report names the engine under test. */
export const BUILD_LABEL = FROM_SOURCES ? "TypeScript sources through tsx, BENCH_SRC=1" : "shipped build dist/, esbuild bundle";

function newestSource(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, fs.statSync(p).mtimeMs);
  }
  return t;
}

let built = false;

/** Build dist/ when it is missing or older than the sources (BENCH_BUILD=0: refuse instead). */
export function ensureBuilt(log: (s: string) => void): void {
  if (FROM_SOURCES || built) return;
  const stale = !fs.existsSync(DIST_INDEX) || fs.statSync(DIST_INDEX).mtimeMs < newestSource(path.join(ROOT, "src"));
  if (stale) {
    if (process.env.BENCH_BUILD === "0") throw new Error(`dist/ is ${fs.existsSync(DIST_INDEX) ? "older than src/" : "missing"} and BENCH_BUILD=0: run \`npm run build\`, or measure the sources with BENCH_SRC=1`);
    log(`building dist/ (npm run build) ...`);
    const r = spawnSync(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/build.ts")], { cwd: ROOT, encoding: "utf8", timeout: 10 * 60_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`npm run build failed (${r.status ?? r.signal}): ${(r.stderr || r.stdout || "").trim().slice(-600)}`);
  }
  built = true;
}

/** The library: dist/index.js, or src/index.ts with BENCH_SRC=1. */
export async function loadLibrary(log: (s: string) => void): Promise<typeof Library> {
  if (FROM_SOURCES) return import("../../src/index.ts");
  ensureBuilt(log);
  return (await import(pathToFileURL(DIST_INDEX).href)) as typeof Library;
}

/**
 * Bundle `contents` (TypeScript re-exporting from src/, resolved from the repository's root) with
 * dist/'s esbuild settings into dist/bench/NAME.js and import it.
 */
async function bundleForBench<T>(name: string, contents: string, log: (s: string) => void): Promise<T> {
  ensureBuilt(log);
  const { build } = await import("esbuild");
  const outfile = path.join(ROOT, `dist/bench/${name}.js`);
  await build({
    absWorkingDir: ROOT,
    stdin: { contents, resolveDir: ROOT, loader: "ts", sourcefile: `${name}.ts` },
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    minifySyntax: true,
    logLevel: "warning",
  });
  return (await import(pathToFileURL(outfile).href)) as T;
}

/** The gatekeeper face's Client: bundled from the sources with dist/'s settings, or the sources with BENCH_SRC=1. */
export async function loadClient(log: (s: string) => void): Promise<typeof ClientModule.Client> {
  if (FROM_SOURCES) return (await import("../../src/gatekeeper/client.ts")).Client;
  return (await bundleForBench<typeof ClientModule>(path.basename(CLIENT_BUNDLE, ".js"), `export { Client } from "./src/gatekeeper/client.ts";`, log)).Client;
}

/** What the webhook's workers run for a review (snapshot, admit) and the policy-directory reader, built as loadClient's. */
export interface AdmissionModule {
  buildSnapshot: typeof SnapshotModule.buildSnapshot;
  admit: typeof WebhookModule.admit;
  classify: typeof PolicyDirModule.classify;
  readManifests: typeof ManifestFilesModule.readManifests;
}
const ADMISSION_EXPORTS = `
export { buildSnapshot } from "./src/gatekeeper/snapshot.ts";
export { admit } from "./src/gatekeeper/webhook.ts";
export { classify } from "./src/gatekeeper/policydir.ts";
export { readManifests } from "./src/gatekeeper/manifestfiles.ts";
`;
export async function loadAdmission(log: (s: string) => void): Promise<AdmissionModule> {
  if (FROM_SOURCES) {
    const [snapshot, webhook, policydir, manifests] = await Promise.all([import("../../src/gatekeeper/snapshot.ts"), import("../../src/gatekeeper/webhook.ts"), import("../../src/gatekeeper/policydir.ts"), import("../../src/gatekeeper/manifestfiles.ts")]);
    return { buildSnapshot: snapshot.buildSnapshot, admit: webhook.admit, classify: policydir.classify, readManifests: manifests.readManifests };
  }
  return bundleForBench<AdmissionModule>("gatekeeper-admission", ADMISSION_EXPORTS, log);
}
