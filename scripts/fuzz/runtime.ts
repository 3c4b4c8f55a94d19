// What the fuzz workers run: the shipped form of the code, as users run it.
//
// Users run dist/ (esbuild's bundle of src/, scripts/build.ts); the sources through tsx cost more
// (tsx keeps function names and compiles each module on its own: closures are dearer, and the
// largest programs took 20–50 % more CPU time), so a CPU budget measured through tsx describes
// nothing users run. At the start of a run the worker entry (child.ts) is bundled by esbuild with
// the options of scripts/build.ts (ES modules, code splitting, npm packages external, syntax
// minified, names kept as written) from the current sources, so it is never stale, into
// .fuzz-build/<pid>-…/ in the repository (git-ignored; removed when the run ends, or by the next
// run when it was killed). That directory
// is laid out as a package root (package.json, dist/formats/large-stack-worker.js, library/), so
// the code that finds its files from its own location (src/package.ts) finds them there, and
// npm packages resolve from the repository's node_modules. Source maps keep stacks pointing into
// src/ (signatures and areas are read from them): the workers run with --enable-source-maps,
// and hang stacks from the inspector are mapped back by mapFrame.
//
// When esbuild cannot bundle (or PORTCULLIS_FUZZ_TSX=1), the workers run the sources through
// tsx, and the run says so (`note`).

import { buildSync } from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO } from "./corpus.ts";
import { PACKAGE_BUNDLE } from "../bundle-options.ts";

export interface WorkerRuntime {
  /** Node arguments that start a worker (before them: the pool's own flags). */
  args: string[];
  /** "built" (the bundle) or "tsx" (the sources). */
  kind: "built" | "tsx";
  /** One line for the run's report. */
  note: string;
  /** A frame of a bundled file, mapped back to its source (path relative to the repository). */
  mapFrame(file: string, line: number, column: number): { file: string; line: number };
}

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));
let cached: WorkerRuntime | undefined;

/** The workers' runtime for this process (bundled once, on first use). */
export function workerRuntime(): WorkerRuntime {
  return (cached ??= makeRuntime());
}

function tsxRuntime(why: string): WorkerRuntime {
  return {
    args: ["--import", "tsx", CHILD],
    kind: "tsx",
    note: `fuzz workers run the sources through tsx (${why}); CPU times are higher than the shipped build's`,
    mapFrame: (file, line) => ({ file, line }),
  };
}

/** Bundles left by runs that were killed (their process is gone): removed. */
function removeStale(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ESRCH") rmSync(join(base, name), { recursive: true, force: true });
    }
  }
}

function makeRuntime(): WorkerRuntime {
  if (process.env.PORTCULLIS_FUZZ_TSX === "1") return tsxRuntime("PORTCULLIS_FUZZ_TSX=1");
  const base = join(REPO, ".fuzz-build");
  const dir = join(base, `${process.pid}-${Date.now().toString(36)}`);
  removeStale(base);
  try {
    mkdirSync(dir, { recursive: true });
    if (!existsSync(join(base, ".gitignore"))) writeFileSync(join(base, ".gitignore"), "*\n");
    buildSync({
      absWorkingDir: REPO,
      entryPoints: { child: "scripts/fuzz/child.ts", "dist/formats/large-stack-worker": "src/formats/large-stack-worker.ts" },
      outdir: dir,
      ...PACKAGE_BUNDLE,
      sourcemap: "linked",
      logLevel: "silent",
    });
    // A package root for src/package.ts (version, library/), beside the bundle.
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: pkg.name, version: pkg.version, type: "module" }));
    symlinkSync(join(REPO, "library"), join(dir, "library"), "dir");
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return tsxRuntime(`esbuild could not bundle the worker: ${(e as Error).message.split("\n")[0]}`);
  }
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const maps = new Map<string, SourceMap | null>();
  const rel = (p: string) => (p.startsWith(REPO + "/") ? p.slice(REPO.length + 1) : p);
  return {
    args: ["--enable-source-maps", join(dir, "child.js")],
    kind: "built",
    note: "fuzz workers run the sources bundled as the shipped build (esbuild, the package build's options)",
    mapFrame(file, line, column) {
      const abs = file.startsWith("/") ? file : join(REPO, file);
      if (!abs.startsWith(dir + "/")) return { file, line };
      let m = maps.get(abs);
      if (m === undefined) {
        try {
          m = new SourceMap(JSON.parse(readFileSync(abs + ".map", "utf8")));
        } catch {
          m = null;
        }
        maps.set(abs, m);
      }
      const e = m?.findEntry(line - 1, column) as { originalSource?: string; originalLine?: number } | undefined;
      if (!e?.originalSource) return { file: rel(abs), line };
      const src = e.originalSource.startsWith("file:") ? fileURLToPath(e.originalSource) : join(dirname(abs), e.originalSource);
      return { file: rel(src), line: (e.originalLine ?? 0) + 1 };
    },
  };
}

