#!/usr/bin/env node
// The `portcullis` command: runs the compiled CLI in dist/ (built by `npm run build`, which
// `npm install` runs in a clone through the `prepare` script; the published package ships it).
// Tests run the same CLI from the sources: test/cli/portcullis-src.ts.
//
// Start-up (docs/ARCHITECTURE.md, "Package and start-up"): this file is CommonJS (bin/package.json
// says so), since Node's ES module loader costs a process ~10 ms more before the first line runs.
// The CLI is one CommonJS file, dist/cli/portcullis.cjs, compiled here through vm.Script with a
// V8 code cache (Node 20 keeps no compiled code between runs). The build writes it in ASCII
// (dist/cli/portcullis.json says `"ascii": true`), so it is read as Latin-1: one byte per
// character, without UTF-8 decoding.
// The cache holds the functions one run of a command compiled, so the next run of that command
// skips parsing and compiling them: one file per build, Node version, architecture and command, in
// $PORTCULLIS_CACHE_DIR, else $XDG_CACHE_HOME/portcullis/v8, ~/.cache/portcullis/v8
// (~/Library/Caches/portcullis/v8 on macOS, %LOCALAPPDATA%\portcullis\v8 on Windows).
// V8 checks a cache against its own version, flags and the source before using it, and the file
// name carries the build's SHA-256, the file's size and modification time; a cache V8 rejects is
// written anew, and one that cannot be read or written is skipped without a word.
// PORTCULLIS_CODE_CACHE=0 turns it off. Caches of other builds written more than 30 days ago are removed
// when a new one is written.
"use strict";
const { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { dirname, join } = require("node:path");
const vm = require("node:vm");

// Node ≥ 22.1 also keeps the packages' compiled code (undici, tar, … loaded on demand). (On Node
// 20 node:module is not loaded at all: it loads the ES module loader, ~5 ms.)
if (Number(process.versions.node.split(".")[0]) >= 22) {
  try {
    require("node:module").enableCompileCache?.();
  } catch {
    // no usable cache directory: run without it
  }
}

const bundle = join(__dirname, "..", "dist", "cli", "portcullis.cjs");
const STALE_MS = 30 * 24 * 3600 * 1000;

function cacheDir() {
  const env = process.env;
  if (env.PORTCULLIS_CACHE_DIR) return env.PORTCULLIS_CACHE_DIR;
  if (process.platform === "win32") return env.LOCALAPPDATA ? join(env.LOCALAPPDATA, "portcullis", "v8") : null;
  const home = require("node:os").homedir();
  if (process.platform === "darwin") return join(home, "Library", "Caches", "portcullis", "v8");
  return join(env.XDG_CACHE_HOME || join(home, ".cache"), "portcullis", "v8");
}

/** The command name the cache is kept for (a word, or `-` for none). */
function commandKey(argv) {
  const cmd = argv.find((a) => !a.startsWith("-"));
  return cmd !== undefined && /^[a-z][a-z0-9-]{0,40}$/.test(cmd) ? cmd : "-";
}

function load(argv) {
  let info = {};
  try {
    info = JSON.parse(readFileSync(join(dirname(bundle), "portcullis.json"), "utf8"));
  } catch {
    // an older or partial build: read as UTF-8, no cache
  }
  let source;
  let stat;
  const fd = openSync(bundle, "r");
  try {
    stat = fstatSync(fd);
    source = readFileSync(fd, info.ascii === true ? "latin1" : "utf8");
  } finally {
    closeSync(fd);
  }
  let dir = null;
  let cacheFile = null;
  let cached;
  if (process.env.PORTCULLIS_CODE_CACHE !== "0" && typeof info.sha256 === "string" && /^[0-9a-f]{64}$/.test(info.sha256)) {
    try {
      dir = cacheDir();
      if (dir !== null) {
        cacheFile = join(dir, `${info.sha256.slice(0, 32)}-${stat.size}-${Math.trunc(stat.mtimeMs)}-${process.version}-${process.arch}-${commandKey(argv)}.bin`);
        cached = readFileSync(cacheFile);
      }
    } catch {
      cached = undefined;
    }
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData: cached });
  if (cacheFile !== null && (cached === undefined || script.cachedDataRejected)) {
    process.once("exit", () => {
      try {
        const data = script.createCachedData();
        mkdirSync(dir, { recursive: true });
        const tmp = `${cacheFile}.${process.pid}.tmp`;
        writeFileSync(tmp, data);
        renameSync(tmp, cacheFile);
        const prefix = cacheFile.slice(dir.length + 1, dir.length + 33);
        for (const f of readdirSync(dir)) {
          if (f.startsWith(prefix)) continue;
          const p = join(dir, f);
          if (Date.now() - statSync(p).mtimeMs > STALE_MS) rmSync(p, { force: true });
        }
      } catch {
        // an unwritable cache directory: the next run compiles again
      }
    });
  }
  const mod = { exports: {} };
  // The bundle requires Node's modules and the external packages, which this file's require finds
  // as one made for dist/cli/ would (the package's node_modules or those above it).
  script.runInThisContext()(mod.exports, require, mod, bundle, dirname(bundle));
  return mod.exports;
}

const argv = process.argv.slice(2);
let cli;
try {
  cli = load(argv);
} catch (e) {
  if (e?.code === "ENOENT" && e.path === bundle) {
    process.stderr.write("portcullis: dist/ is missing: run `npm run build` in the package's directory\n");
    process.exit(2);
  }
  throw e;
}
cli.runProcess(argv);
