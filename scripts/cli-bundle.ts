// The command line as one CommonJS file for start-up (scripts/build.ts; test/package/code-cache
// tests it): <outDir>/portcullis.cjs is src/cli/main.ts with every module it can load, and the
// small packages every command loads (commander, js-yaml, decimal.js) inside; the other packages
// stay external (dependencies, several loaded on demand). bin/portcullis.js compiles it through
// vm.Script with a V8 code cache; <outDir>/portcullis.json records its SHA-256, which names the
// cache files, and that it is ASCII (bin/ then reads it as Latin-1, one byte per character: UTF-8
// decoding of the 3 MB file, which a few comments made non-ASCII, was ~15 ms of every start).

import { build, type Metafile, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import vm from "node:vm";

/** Packages bundled into the command line's file: the ones every command loads. */
const CLI_BUNDLED = new Set(["commander", "js-yaml", "decimal.js"]);

/** Single small files of external packages that modules import at load time: bundled too, rather than resolved and read at every start. */
const CLI_BUNDLED_FILES = new Set(["graphql/language/kinds.js"]);

/**
 * commander requires node:child_process at load (for executable subcommands, which Portcullis
 * does not use): Node's child_process, net and dgram modules then load at every start. The
 * bundled copy requires it on first use instead.
 */
const lazyChildProcess: Plugin = {
  name: "commander-lazy-child-process",
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      const eager = "const childProcess = require('node:child_process');";
      if (!text.includes(eager)) {
        return { contents: text, loader: "js", warnings: [{ text: "commander no longer requires node:child_process as expected: it loads eagerly" }] };
      }
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: text.replace(eager, lazy), loader: "js" };
    });
  },
};

/**
 * src/lazy.ts makes its require with node:module's createRequire; loading node:module loads Node's
 * ES module loader (~5 ms). In the bundle it is the require bin/portcullis.js hands the bundle.
 */
const lazyRequireSite = (root: string): Plugin => ({
  name: "lazy-require-site",
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]lazy\.ts$/ }, (args) => {
      if (args.path !== join(root, "src", "lazy.ts")) return undefined;
      const text = readFileSync(args.path, "utf8");
      const site = /^import \{ createRequire \} from "node:module";\n\nconst require = createRequire\(import\.meta\.url\);$/m;
      if (!site.test(text)) return { errors: [{ text: "src/lazy.ts: its `createRequire(import.meta.url)` lines changed; update scripts/cli-bundle.ts" }] };
      return { contents: text.replace(site, "const require = __portcullis_require;"), loader: "ts" };
    });
  },
});

/** Non-ASCII characters (left by esbuild in comments and regular expression literals) as \u escapes, which mean the same there. */
function toAscii(source: string): string {
  return source.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export async function buildCliBundle(root: string, outDir: string): Promise<{ metafile: Metafile; file: string; sha256: string }> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };
  const file = join(outDir, "portcullis.cjs");
  mkdirSync(outDir, { recursive: true });
  const external = Object.keys(pkg.dependencies).filter((d) => !CLI_BUNDLED.has(d));
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/cli/main.ts"],
    bundle: true,
    write: false,
    outfile: file,
    format: "cjs",
    platform: "node",
    target: "node20",
    plugins: [
      lazyChildProcess,
      lazyRequireSite(root),
      {
        name: "external-packages",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => {
            if (CLI_BUNDLED_FILES.has(args.path)) return undefined;
            const name = args.path.startsWith("@") ? args.path.split("/").slice(0, 2).join("/") : args.path.split("/")[0];
            return external.includes(name) ? { path: args.path, external: true } : undefined;
          });
        },
      },
    ],
    // import.meta.url of every module is the bundle's own file (the modules use it to find the
    // package root and, through createRequire, the external packages).
    define: { "import.meta.url": "__portcullis_module_url" },
    // __portcullis_require: the require of src/lazy.ts (lazyRequireSite).
    banner: { js: 'var __portcullis_module_url = require("node:url").pathToFileURL(__filename).href, __portcullis_require = require;' },
    // import() of Node's modules as require(): the file runs as a vm.Script, which has no module loader.
    supported: { "dynamic-import": false },
    charset: "ascii",
    minifySyntax: true,
    metafile: true,
    logLevel: "warning",
  });
  const source = toAscii(result.outputFiles[0].text);
  // The escapes must leave a file that still compiles (a syntax error would only show at run time).
  new vm.Script(source, { filename: file });
  writeFileSync(file, source);
  const sha256 = createHash("sha256").update(source).digest("hex");
  writeFileSync(join(outDir, "portcullis.json"), JSON.stringify({ sha256, bytes: source.length, ascii: true }) + "\n");
  return { metafile: result.metafile, file, sha256 };
}
