// `npm run build`: dist/ for the published package (npm runs it as `prepare`, so `npm install` in a
// clone and `npm pack` build too).
//
// - JavaScript: esbuild bundles src/index.ts (the library, `import … from "portcullis"`) and the
//   worker threads' entries as ES modules with code splitting: the code they share sits in shared
//   chunks, and what `import()` loads on demand (gatekeeper suites, …) gets chunks of its own.
//   npm packages stay external (they are dependencies). Syntax is minified (shorter code to read
//   and compile), names and whitespace are not, so stack traces stay readable (each module is
//   marked with its src/ path).
// - The command line, for start-up: dist/cli/portcullis.cjs is src/cli/main.ts as one CommonJS
//   file (scripts/cli-bundle.ts), which bin/portcullis.js compiles with a V8 code cache kept in
//   the user's cache directory (Node 20 has no module compile cache). It runs every command,
//   `--version` and `--help` included, so the CLI has no ES module build.
// - Types: tsc emits the .d.ts files of the library's modules (tsconfig.build.json).
// - The browser playground: scripts/browser-bundle.ts bundles src/playground/ for browsers into
//   dist/playground/ (`portcullis playground` serves it; docs/playground.md).

import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildPlayground } from "./browser-bundle.ts";
import { buildCliBundle } from "./cli-bundle.ts";
import { PACKAGE_BUNDLE } from "./bundle-options.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const started = Date.now();

rmSync(dist, { recursive: true, force: true });

const result = await build({
  absWorkingDir: root,
  // The large-stack worker (src/formats/large-stack.ts), the server's evaluation worker
  // (src/server/pool.ts) and the library's worker (src/conftest/parallel.ts) are entries of
  // their own: a Worker loads each by path.
  entryPoints: { index: "src/index.ts", "formats/large-stack-worker": "src/formats/large-stack-worker.ts", "server/eval-worker": "src/server/eval-worker.ts", "server/admission-worker": "src/server/admission/worker.ts", "server/audit-worker": "src/server/audit-worker.ts", "conftest/library-worker": "src/conftest/library-worker.ts" },
  outdir: "dist",
  ...PACKAGE_BUNDLE,
  metafile: true,
  logLevel: "warning",
});

const cli = await buildCliBundle(root, join(dist, "cli"));

const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
const types = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
if (types.status !== 0) {
  console.error("build: tsc (declarations) failed");
  process.exit(types.status ?? 1);
}

const playground = await buildPlayground(root, join(dist, "playground"));

const outputs = [...Object.entries(result.metafile.outputs), ...Object.entries(cli.metafile.outputs)];
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
console.log(`build: dist/ — ${outputs.length} JavaScript files (${(bytes / 1024).toFixed(0)} KiB) and declarations; dist/playground/ — ${playground.files.length} files (${(playground.bytes / 1024).toFixed(0)} KiB, ${(playground.gzipBytes / 1024).toFixed(0)} KiB gzip); in ${((Date.now() - started) / 1000).toFixed(1)} s`);
