// The browser playground's bundle (docs/playground.md): esbuild bundles src/playground/worker.ts
// (the engine, run in a Web Worker) and src/playground/page.ts (the page: CodeMirror and the panes)
// as ES modules for browsers, with the host seams of src/playground/substitutes.ts swapped for
// their browser versions, and copies the static files (index.html, playground.css) beside them.
// scripts/build.ts calls it (output: dist/playground/); the playground tests call it into a
// temporary directory when dist/ has none.

import { build, type Metafile, type Plugin } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { BROWSER_GLOBALS, BROWSER_SUBSTITUTES } from "../src/playground/substitutes.ts";

export interface PlaygroundBuild {
  outdir: string;
  files: string[];
  bytes: number;
  gzipBytes: number;
  metafile: Metafile;
}

/** esbuild plugin: resolve imports of the substituted modules to their browser versions. */
function substitutes(root: string): Plugin {
  const table = new Map(Object.entries(BROWSER_SUBSTITUTES).map(([from, to]) => [resolve(root, from), resolve(root, to)]));
  return {
    name: "portcullis-browser-substitutes",
    setup(b) {
      b.onResolve({ filter: /\.ts$/ }, (args) => {
        if (args.kind === "entry-point" || !args.path.startsWith(".")) return undefined;
        const target = table.get(resolve(args.resolveDir, args.path));
        return target ? { path: target } : undefined;
      });
    },
  };
}

/** The esbuild options of the browser bundle (entries, platform, substitutes, injected globals). */
function options(root: string) {
  return {
    absWorkingDir: root,
    entryPoints: { worker: "src/playground/worker.ts", page: "src/playground/page.ts" },
    bundle: true,
    format: "esm" as const,
    platform: "browser" as const,
    target: ["chrome110", "firefox115", "safari16"],
    inject: [join(root, BROWSER_GLOBALS)],
    plugins: [substitutes(root)],
    metafile: true as const,
    logLevel: "silent" as const,
    legalComments: "none" as const,
  };
}

/**
 * The browser bundle's import graph (built in memory): every module and what it imports. With
 * platform "browser", an import of a Node module fails the build; the graph is what
 * test/architecture/layers.test.ts checks.
 */
export async function browserGraph(root: string, entries?: Record<string, string>): Promise<Metafile["inputs"]> {
  const result = await build({ ...options(root), ...(entries ? { entryPoints: entries } : {}), outdir: join(root, "dist", "playground-graph"), write: false, minify: false });
  return result.metafile.inputs;
}

/** Bundle the playground into `outdir` (created). */
export async function buildPlayground(root: string, outdir: string, opts: { minify?: boolean } = {}): Promise<PlaygroundBuild> {
  mkdirSync(outdir, { recursive: true });
  const result = await build({ ...options(root), outdir, minify: opts.minify ?? true, sourcemap: false });
  for (const f of readdirSync(join(root, "src", "playground", "static"))) copyFileSync(join(root, "src", "playground", "static", f), join(outdir, f));
  const files = readdirSync(outdir).sort();
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    const data = readFileSync(join(outdir, f));
    bytes += data.length;
    gzipBytes += gzipSync(data, { level: 9 }).length;
  }
  return { outdir: relative(root, outdir) || ".", files, bytes, gzipBytes, metafile: result.metafile };
}
