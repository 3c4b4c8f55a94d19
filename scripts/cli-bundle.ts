// The command line as one CommonJS file for start-up (scripts/build.ts; test/package/code-cache
// tests it): <outDir>/portcullis.cjs is src/cli/main.ts with every module it can load, and the
// small packages every command loads (commander, js-yaml, decimal.js) inside; the other packages
// stay external (dependencies, several loaded on demand). bin/portcullis.js compiles it through
// vm.Script with a V8 code cache; <outDir>/portcullis.json records its SHA-256, which names the
// cache files.

import { build, type Metafile } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Packages bundled into the command line's file: the ones every command loads. */
const CLI_BUNDLED = new Set(["commander", "js-yaml", "decimal.js"]);

export async function buildCliBundle(root: string, outDir: string): Promise<{ metafile: Metafile; file: string; sha256: string }> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const file = join(outDir, "portcullis.cjs");
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/cli/main.ts"],
    outfile: file,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    external: Object.keys(pkg.dependencies)
      .filter((d) => !CLI_BUNDLED.has(d))
      .flatMap((d) => [d, `${d}/*`]),
    // import.meta.url of every module is the bundle's own file (the modules use it to find the
    // package root and, through createRequire, the external packages).
    define: { "import.meta.url": "__portcullis_module_url" },
    banner: { js: 'var __portcullis_module_url = require("node:url").pathToFileURL(__filename).href;' },
    // import() of Node's modules as require(): the file runs as a vm.Script, which has no module loader.
    supported: { "dynamic-import": false },
    minifySyntax: true,
    metafile: true,
    logLevel: "warning",
  });
  const source = readFileSync(file);
  const sha256 = createHash("sha256").update(source).digest("hex");
  writeFileSync(join(outDir, "portcullis.json"), JSON.stringify({ sha256, bytes: source.length }) + "\n");
  return { metafile: result.metafile, file, sha256 };
}
