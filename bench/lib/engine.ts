// Which Portcullis the bench measures. By default the shipped build: the library in dist/ (what
// `import … from "portcullis"` loads; `npm run build` makes it, and the bench makes it first when
// it is missing or older than a file of src/). With BENCH_SRC=1 (or --src) the TypeScript sources
// through tsx instead — tsx's transform keeps function names (`__name(fn, "f")` around every named
// closure, an Object.defineProperty each time the closure is made), which costs the closure-heavy
// evaluator 9–23 % the bundle does not pay (docs/performance.md), so source figures are not the
// product's figures. tsx leaves .js files alone: dist/ runs as Node runs it without tsx.
//
// The gatekeeper review stream needs the gatekeeper face's Client, which dist/index.js does not
// export: for it the bench bundles src/gatekeeper/client.ts with dist/'s esbuild settings (ESM,
// node20, syntax minified, names not kept, npm packages external) into dist/bench/.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Library from "../../src/index.ts";
import type * as ClientModule from "../../src/gatekeeper/client.ts";

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

/** The gatekeeper face's Client: bundled from the sources with dist/'s settings, or the sources with BENCH_SRC=1. */
export async function loadClient(log: (s: string) => void): Promise<typeof ClientModule.Client> {
  if (FROM_SOURCES) return (await import("../../src/gatekeeper/client.ts")).Client;
  ensureBuilt(log);
  const { build } = await import("esbuild");
  await build({
    absWorkingDir: ROOT,
    entryPoints: [path.join(ROOT, "src/gatekeeper/client.ts")],
    outfile: CLIENT_BUNDLE,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    minifySyntax: true,
    logLevel: "warning",
  });
  return ((await import(pathToFileURL(CLIENT_BUNDLE).href)) as typeof ClientModule).Client;
}
